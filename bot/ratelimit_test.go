package bot

import (
	"context"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// countingLimit is a rate-limit middleware that counts the calls it
// limits.
type countingLimit struct{ n *int }

func (c countingLimit) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		*c.n++
		return next.Invoke(ctx, input, output)
	}
}

// TestSendLimit: messages, callback answers and Passport errors go
// through the limit; downloads and update fetching go around it, and
// every call reaches Telegram.
func TestSendLimit(t *testing.T) {
	for _, tt := range []struct {
		name    string
		input   bin.Encoder
		limited bool
	}{
		{"sendMessage", &tg.MessagesSendMessageRequest{}, true},
		{"editMessage", &tg.MessagesEditMessageRequest{}, true},
		{"callback answer", &tg.MessagesSetBotCallbackAnswerRequest{}, true},
		{"setSecureValueErrors", &tg.UsersSetSecureValueErrorsRequest{}, true},
		{"setBotCommands", &tg.BotsSetBotCommandsRequest{}, true},
		{"getUsers", &tg.UsersGetUsersRequest{}, true},
		{"getFile", &tg.UploadGetFileRequest{}, false},
		{"getCdnFile", &tg.UploadGetCDNFileRequest{}, false},
		{"getDifference", &tg.UpdatesGetDifferenceRequest{}, false},
		{"getState", &tg.UpdatesGetStateRequest{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var limited, sent int
			next := invokerFunc(func(context.Context, bin.Encoder, bin.Decoder) error {
				sent++
				return nil
			})
			if err := (sendLimit{limit: countingLimit{n: &limited}}).Handle(next)(context.Background(), tt.input, nil); err != nil {
				t.Fatal(err)
			}
			if sent != 1 {
				t.Fatalf("the call reached Telegram %d times, want once", sent)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.limited]; limited != want {
				t.Errorf("went through the limit %d times, want %d", limited, want)
			}
		})
	}
}
