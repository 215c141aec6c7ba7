package botapi_test

import (
	"context"
	"testing"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/tests/testkit"
)

// samplePassport is a Bot API PassportData object (its contents are not
// a real submission's).
const samplePassport = `{"data":[{"type":"passport","data":"AAEC","front_side":{"file_id":"DgAD-front","file_unique_id":"u1","file_size":100,"file_date":1700000000},"hash":"AQID"}],"credentials":{"data":"AA==","hash":"AA==","secret":"AA=="}}`

// Updates as Telegram sends them.
const (
	userFrom    = `"from":{"id":1001,"is_bot":false,"first_name":"Ada","language_code":"de"}`
	privateChat = `"chat":{"id":1001,"type":"private","first_name":"Ada"}`
	updStart    = `{"update_id":1,"message":{"message_id":11,` + userFrom + `,` + privateChat + `,"date":1700000000,"text":"/start"}}`
	updHello    = `{"update_id":2,"message":{"message_id":12,` + userFrom + `,` + privateChat + `,"date":1700000000,"text":"hello"}}`
	updPassport = `{"update_id":3,"message":{"message_id":13,` + userFrom + `,` + privateChat + `,"date":1700000000,"passport_data":` + samplePassport + `}}`
	updTap      = `{"update_id":4,"callback_query":{"id":"4382914771183562753",` + userFrom + `,"chat_instance":"-1","data":"kyc:lang:en"}}`
)

// TestParse: the updates kycbot handles become kycbot updates; the
// others (other chats, bots, other kinds, odd IDs) do not.
func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want *bot.Update // nil: not a kycbot kind
	}{
		{"a command", updStart, &bot.Update{Kind: bot.KindMessage, MsgID: 11, Text: "/start"}},
		{"text", updHello, &bot.Update{Kind: bot.KindMessage, MsgID: 12, Text: "hello"}},
		{"a tap", updTap, &bot.Update{Kind: bot.KindCallback, QueryID: 4382914771183562753, Data: "kyc:lang:en"}},
		{"a tap with an unsigned ID", `{"update_id":5,"callback_query":{"id":"18446744073709551493",` + userFrom + `,"data":"kyc:x"}}`,
			&bot.Update{Kind: bot.KindCallback, QueryID: -123, Data: "kyc:x"}},
		{"a tap with a negative ID", `{"update_id":5,"callback_query":{"id":"-77",` + userFrom + `,"data":"kyc:x"}}`,
			&bot.Update{Kind: bot.KindCallback, QueryID: -77, Data: "kyc:x"}},
		{"a tap with a word for ID", `{"update_id":5,"callback_query":{"id":"abc",` + userFrom + `,"data":"kyc:x"}}`, nil},
		{"a tap with ID 0", `{"update_id":5,"callback_query":{"id":"0",` + userFrom + `,"data":"kyc:x"}}`, nil},
		{"a tap with a too large ID", `{"update_id":5,"callback_query":{"id":"18446744073709551616",` + userFrom + `,"data":"kyc:x"}}`, nil},
		{"a tap from a bot", `{"update_id":5,"callback_query":{"id":"1","from":{"id":5,"is_bot":true},"data":"kyc:x"}}`, nil},
		{"a group", `{"update_id":6,"message":{"message_id":1,` + userFrom + `,"chat":{"id":-100,"type":"group"},"text":"/start"}}`, nil},
		{"a bot", `{"update_id":6,"message":{"message_id":1,"from":{"id":1001,"is_bot":true},` + privateChat + `,"text":"/start"}}`, nil},
		{"no sender", `{"update_id":6,"message":{"message_id":1,` + privateChat + `,"text":"/start"}}`, nil},
		{"a photo", `{"update_id":6,"message":{"message_id":1,` + userFrom + `,` + privateChat + `,"photo":[]}}`, nil},
		{"an edit", `{"update_id":6,"edited_message":{"message_id":1,` + userFrom + `,` + privateChat + `,"text":"/start"}}`, nil},
		{"not JSON", `{"update_id":`, nil},
		{"a message that is not an object", `{"update_id":6,"message":"hi"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := botapi.Parse([]byte(tt.raw))
			if tt.want == nil {
				if ok {
					t.Fatalf("Parse = %+v, want not kycbot's kind", got)
				}
				return
			}
			tt.want.From.ID, tt.want.From.LangCode = 1001, "de"
			if !ok || jsonOf(got) != jsonOf(*tt.want) {
				t.Fatalf("Parse = %s, %v; want %s", jsonOf(got), ok, jsonOf(*tt.want))
			}
		})
	}
}

// TestParsePassport: a message with passport_data is a submission with
// the encrypted data and the files' Bot API IDs; malformed data is a
// submission without elements (the user is told it does not decrypt).
func TestParsePassport(t *testing.T) {
	got, ok := botapi.Parse([]byte(updPassport))
	if !ok || got.Kind != bot.KindSubmission || got.MsgID != 13 || got.From.ID != 1001 || got.Submission == nil {
		t.Fatalf("Parse = %+v, %v", got, ok)
	}
	if els := got.Submission.Elements; len(els) != 1 || els[0].FrontSide == nil || els[0].FrontSide.FileID != "DgAD-front" {
		t.Errorf("elements %+v", els)
	}
	bad := `{"update_id":7,"message":{"message_id":14,` + userFrom + `,` + privateChat + `,"passport_data":{"data":"nope"}}}`
	got, ok = botapi.Parse([]byte(bad))
	if !ok || got.Kind != bot.KindSubmission || got.Submission == nil || len(got.Submission.Elements) != 0 {
		t.Errorf("malformed: Parse = %+v, %v", got, ok)
	}
}

// TestTake: kycbot's updates go to its queue, once however often they
// come; the others are left to the host; with Redis down, Take waits
// until its context ends and says the update was kycbot's.
func TestTake(t *testing.T) {
	ctx := context.Background()
	rdb := testkit.Need(t)
	kyc := testBot(t, rdb)
	for _, tc := range []struct {
		raw  string
		want bool
	}{{updStart, true}, {updHello, false}, {updPassport, true}, {updTap, true}, {updStart, true}, {`{"update_id":9}`, false}} {
		taken, err := botapi.Take(ctx, kyc, []byte(tc.raw))
		if err != nil || taken != tc.want {
			t.Errorf("Take(%.40s...) = %v, %v; want %v", tc.raw, taken, err, tc.want)
		}
	}
	if n, _, err := kyc.Store().Queue().Depth(ctx); err != nil || n != 3 {
		t.Errorf("queue depth %d, %v; want 3 (the repeat dropped)", n, err)
	}

	down := testBot(t, downRedis(t))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	taken, err := botapi.Take(cctx, down, []byte(updStart))
	if !taken || err == nil {
		t.Errorf("Take with Redis down = %v, %v; want taken and an error", taken, err)
	}
	if taken, err := botapi.Take(cctx, down, []byte(updHello)); taken || err != nil {
		t.Errorf("Take of the host's update with Redis down = %v, %v; want not taken", taken, err)
	}
}

// FuzzParse: any bytes, never a panic; what Parse accepts is queueable.
func FuzzParse(f *testing.F) {
	for _, s := range []string{updStart, updHello, updPassport, updTap, `{"update_id":1,"message":null}`, `[]`, `{"callback_query":{"id":"-9223372036854775808","from":{"id":1}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, ok := botapi.Parse(raw)
		if !ok {
			return
		}
		if u.From.ID <= 0 {
			t.Fatalf("accepted an update from user %d", u.From.ID)
		}
		switch u.Kind {
		case bot.KindSubmission:
			if u.Submission == nil || u.MsgID <= 0 {
				t.Fatalf("a submission without data or message ID: %+v", u)
			}
		case bot.KindMessage:
			if u.Text == "" || u.MsgID <= 0 {
				t.Fatalf("a message without text or ID: %+v", u)
			}
		case bot.KindCallback:
			if u.QueryID == 0 {
				t.Fatal("a callback without a query ID")
			}
		default:
			t.Fatalf("kind %q", u.Kind)
		}
	})
}
