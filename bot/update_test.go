package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
)

// Wants takes kycbot's updates (and, with WithEverything, every text and
// tap) and leaves the host bot the others; a command addressed to another
// bot is the host's once Run knows the bot's username.
func TestWants(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := parseConfig(t, "kycbot-test:", "", "", nil)
	newBot := func(opts ...Option) *Bot {
		b, err := New(context.Background(), cfg, append([]Option{WithRedis(rdb), WithPrivateKey(keys.get(t)), WithInstance("wants")}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	embedded, everything := newBot(), newBot(WithEverything())
	for _, b := range []*Bot{embedded, everything} {
		name := testUsername
		b.username.Store(&name) // as Run does
	}
	user := handlers.User{ID: 1001}
	msg := func(text string) Update { return Update{Kind: KindMessage, From: user, MsgID: 1, Text: text} }
	tap := func(data string) Update { return Update{Kind: KindCallback, From: user, QueryID: 7, Data: data} }
	for _, tc := range []struct {
		name                 string
		u                    Update
		embedded, everything bool
	}{
		{"submission", Update{Kind: KindSubmission, From: user, MsgID: 1, Submission: &passport.EncryptedSubmission{}}, true, true},
		{"page outcome", Update{Kind: KindOutcome, From: user, Outcome: &PageOutcome{RequestID: "r", Result: "cancel"}}, true, true},
		{"/start", msg("/start"), true, true},
		{"/start with a ref", msg("/start ref-42"), true, true},
		{"/VERIFY in capitals", msg("/VERIFY full"), true, true},
		{"/help addressed to this bot", msg("/help@" + testUsername), true, true},
		{"/help addressed to another bot", msg("/help@other_bot"), false, true},
		{"/status, /language, /cancel", msg("/status"), true, true},
		{"admin command", msg("/kyc_stats"), true, true},
		{"the host's command", msg("/orders"), false, true},
		{"plain text", msg("hello"), false, true},
		{"empty text", msg(""), false, true},
		{"kycbot button", tap("kyc:lang:de"), true, true},
		{"the host's button", tap("order:42"), false, true},
		{"unknown kind", Update{Kind: "photo", From: user, MsgID: 1}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := embedded.Wants(tc.u); got != tc.embedded {
				t.Errorf("embedded: Wants = %v, want %v", got, tc.embedded)
			}
			if got := everything.Wants(tc.u); got != tc.everything {
				t.Errorf("WithEverything: Wants = %v, want %v", got, tc.everything)
			}
		})
	}
}

// Wants follows WithCommand and WithoutCommand: a renamed command is
// kycbot's under its new name only, a command turned off is the host's;
// the options given to one bot do not reach another.
func TestWantsRenamed(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := parseConfig(t, "kycbot-test:", "", "", nil)
	shared := []Option{WithRedis(rdb), WithPrivateKey(keys.get(t)), WithInstance("wants"), WithCommand("status", "/kyc_status_me")}
	renamed, err := New(context.Background(), cfg, append(shared, WithoutCommand("help"))...)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(context.Background(), cfg, shared...)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(text string) Update {
		return Update{Kind: KindMessage, From: handlers.User{ID: 1001}, MsgID: 1, Text: text}
	}
	for text, want := range map[string][2]bool{
		"/kyc_status_me": {true, true}, "/status": {false, false}, "/help": {false, true}, "/verify": {true, true},
		"/delete_my_data": {true, true}, "/kyc_stats": {true, true}, "hello": {false, false},
	} {
		if got := renamed.Wants(msg(text)); got != want[0] {
			t.Errorf("renamed: Wants(%q) = %v, want %v", text, got, want[0])
		}
		if got := other.Wants(msg(text)); got != want[1] {
			t.Errorf("other: Wants(%q) = %v, want %v", text, got, want[1])
		}
	}
	for _, opt := range []Option{WithCommand("status", "kyc_stats"), WithCommand("order", "x"), WithCommand("help", "Help!")} {
		if _, err := New(context.Background(), cfg, WithRedis(rdb), WithPrivateKey(keys.get(t)), opt); err == nil {
			t.Error("New accepted a bad rename")
		}
	}
}

// Enqueue refuses malformed updates, naming what is wrong, and queues
// nothing of a batch that holds one.
func TestEnqueueRefused(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "enqueue", "", "")
	good := textUpdate(1001, "/help")
	user := handlers.User{ID: 1001}
	for _, tc := range []struct {
		name string
		u    Update
		want string
	}{
		{"no user", Update{Kind: KindMessage, MsgID: 1, Text: "/help"}, "an update from user 0"},
		{"negative user", Update{Kind: KindMessage, From: handlers.User{ID: -5}, MsgID: 1}, "an update from user -5"},
		{"submission without data", Update{Kind: KindSubmission, From: user, MsgID: 3}, "a submission needs its message ID and data"},
		{"submission without message", Update{Kind: KindSubmission, From: user, Submission: &passport.EncryptedSubmission{}}, "a submission needs its message ID and data"},
		{"message without ID", Update{Kind: KindMessage, From: user, Text: "/help"}, "a message needs its message ID"},
		{"callback without query", Update{Kind: KindCallback, From: user, Data: "kyc:x"}, "a callback needs its query ID"},
		{"outcome without request", Update{Kind: KindOutcome, From: user, Outcome: &PageOutcome{Result: "cancel"}}, "an outcome needs its request ID"},
		{"outcome without data", Update{Kind: KindOutcome, From: user}, "an outcome needs its request ID"},
		{"unknown kind", Update{Kind: "photo", From: user, MsgID: 1}, `unknown kind "photo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Enqueue(context.Background(), good, tc.u)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), "bot: enqueue") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one saying %q", err, tc.want)
			}
			if n := b.depth(t); n != 0 {
				t.Errorf("%d entries queued from a refused batch", n)
			}
		})
	}
}

// The same Telegram message, callback query or page outcome enqueued
// again (a restart, a second receiver) is dropped: it is handled once.
func TestEnqueueRepeatDropped(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "repeat", "", "")
	msg := textUpdate(1001, "/help")
	tap := Update{Kind: KindCallback, From: handlers.User{ID: 1002}, QueryID: 99, Data: "kyc:lang:de"}
	outcome := Update{Kind: KindOutcome, From: handlers.User{ID: 1003}, Outcome: &PageOutcome{RequestID: "req1", Result: "cancel"}}
	b.enqueue(t, msg, tap, outcome)
	b.enqueue(t, msg, tap)
	b.enqueue(t, outcome, msg)
	if n := b.depth(t); n != 3 {
		t.Fatalf("%d entries queued, want 3", n)
	}
	if !b.logged("update already queued; dropped") {
		t.Errorf("the repeats are not logged:\n%s", b.logs)
	}
	// The same message from another user, or another outcome of the same
	// request, is another update.
	other := msg
	other.From.ID = 1004
	b.enqueue(t, other, Update{Kind: KindOutcome, From: handlers.User{ID: 1003}, Outcome: &PageOutcome{RequestID: "req1", Result: "success"}})
	if n := b.depth(t); n != 5 {
		t.Fatalf("%d entries queued, want 5", n)
	}

	tr := newFakeTransport()
	b.start(t, tr)
	b.waitEmpty(t, 10*time.Second)
	for user, want := range map[int64]int{1001: 1, 1004: 1} {
		if got := tr.messages(user); len(got) != want || !strings.HasPrefix(got[0].Text, b.text(i18n.MsgHelp)) {
			t.Errorf("user %d got %+v, want the help once", user, got)
		}
	}
	tr.mu.Lock()
	callbacks := len(tr.callbacks)
	tr.mu.Unlock()
	if callbacks != 1 {
		t.Errorf("%d callback answers, want 1", callbacks)
	}
}
