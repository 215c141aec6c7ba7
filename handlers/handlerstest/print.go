package handlerstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// PrintTelegram is the Telegram of the examples of the conversation
// (chat.Telegram) and of the flow (verification.Telegram): Send prints the
// first line of every message and its buttons (a request ID under
// https://kyc.example/passport/ as "<request ID>", so that the output is
// the same every run); the rest does nothing, and Download has no files.
type PrintTelegram struct{}

// Send prints m.
func (PrintTelegram) Send(_ context.Context, to handlers.User, m handlers.Message) error {
	first, _, _ := strings.Cut(m.Text, "\n")
	fmt.Printf("to %d: %s\n", to.ID, first)
	for _, r := range m.Buttons {
		for _, b := range r {
			url := b.URL
			if id, ok := strings.CutPrefix(url, "https://kyc.example/passport/"); ok && len(id) == 22 {
				url = "https://kyc.example/passport/<request ID>"
			}
			fmt.Printf("  [%s] %s%s\n", b.Text, url, b.Data)
		}
	}
	return nil
}

// SendEditable prints m like Send; every message is number 1.
func (t PrintTelegram) SendEditable(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	return 1, t.Send(ctx, to, m)
}

// Edit prints the message's new text like Send, marked as an edit.
func (t PrintTelegram) Edit(ctx context.Context, to handlers.User, msgID int, m handlers.Message) error {
	fmt.Printf("(edit of message %d) ", msgID)
	return t.Send(ctx, to, m)
}

// AnswerCallback does nothing.
func (PrintTelegram) AnswerCallback(context.Context, int64, string) error { return nil }

// SetCommands does nothing.
func (PrintTelegram) SetCommands(context.Context, string, []handlers.BotCommand) error { return nil }

// SetSecureValueErrors does nothing.
func (PrintTelegram) SetSecureValueErrors(context.Context, handlers.User, []tg.SecureValueErrorClass) error {
	return nil
}

// Download fails: there are no scans in the examples.
func (PrintTelegram) Download(context.Context, *passport.File, io.Writer) error {
	return errors.New("no scans in this example")
}
