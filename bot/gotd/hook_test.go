package gotd

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// idleTransport is a bot.Transport that only knows who the bot is.
type idleTransport struct{}

func (idleTransport) Self(context.Context) (bot.Self, error) { return self, nil }
func (idleTransport) Send(context.Context, handlers.User, handlers.Message) error {
	return nil
}
func (idleTransport) SendEditable(context.Context, handlers.User, handlers.Message) (int, error) {
	return 0, nil
}
func (idleTransport) Edit(context.Context, handlers.User, int, handlers.Message) error { return nil }
func (idleTransport) Download(context.Context, *passport.File, io.Writer) error        { return nil }
func (idleTransport) SetSecureValueErrors(context.Context, handlers.User, []tg.SecureValueErrorClass) error {
	return nil
}
func (idleTransport) AnswerCallback(context.Context, int64, string) error { return nil }
func (idleTransport) SetCommands(context.Context, string, []handlers.BotCommand) error {
	return nil
}
func (idleTransport) SetUserCommands(context.Context, handlers.User, string, []handlers.BotCommand) error {
	return nil
}
func (idleTransport) Resolve(_ context.Context, u handlers.User) (handlers.User, error) {
	return u, nil
}

// learnSelf has kyc learn who it is (its ID and username, which Hook
// needs to tell its commands and keep access hashes) as Run does, and
// stops Run before it handles anything.
func learnSelf(t *testing.T, kyc *bot.Bot) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kyc.Run(ctx, idleTransport{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for kyc.Self().ID == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if kyc.Self() != self {
		t.Fatalf("the bot is %+v, want %+v", kyc.Self(), self)
	}
}

// queued takes every update out of kyc's queue (as a worker would), in
// order.
func queued(t *testing.T, kyc *bot.Bot) []bot.Update {
	t.Helper()
	q := kyc.Store().Queue()
	entries, err := q.Read(context.Background(), "test", 1000, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]bot.Update, 0, len(entries))
	for _, e := range entries {
		var u bot.Update
		if err := json.Unmarshal(e.Payload, &u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
		if err := q.Ack(context.Background(), e.ID); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// recNext is the host bot's update handler: it records what it is given.
type recNext struct {
	mu  sync.Mutex
	got []tg.UpdatesClass
}

func (n *recNext) Handle(_ context.Context, u tg.UpdatesClass) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, u)
	return nil
}

func (n *recNext) take() []tg.UpdatesClass {
	n.mu.Lock()
	defer n.mu.Unlock()
	got := n.got
	n.got = nil
	return got
}

// jsonOf is v in JSON, to compare updates field by field.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// private is a text message of from in their private chat with the bot.
func private(id int, from int64, text string) *tg.UpdateNewMessage {
	return &tg.UpdateNewMessage{Message: &tg.Message{ID: id, PeerID: &tg.PeerUser{UserID: from}, FromID: &tg.PeerUser{UserID: from}, Message: text, Date: 1773489600},
		Pts: id, PtsCount: 1}
}

// tap is a tap of from on a callback button with data.
func tap(queryID, from int64, data string) *tg.UpdateBotCallbackQuery {
	return &tg.UpdateBotCallbackQuery{QueryID: queryID, UserID: from, Peer: &tg.PeerUser{UserID: from}, MsgID: 1, Data: []byte(data)}
}

// batch wraps us, with the users the entities hold.
func batch(users []tg.UserClass, us ...tg.UpdateClass) *tg.Updates {
	return &tg.Updates{Updates: us, Users: users, Chats: []tg.ChatClass{&tg.Chat{ID: 5, Title: "a group"}}, Date: 1773489600, Seq: 7}
}

// userOf is a user of the entities.
func userOf(id int64) *tg.User {
	return &tg.User{ID: id, AccessHash: id * 1000, LangCode: "de", FirstName: "x"}
}

// from is the user of a kycbot update from the entities' user id.
func from(id int64) handlers.User {
	return handlers.User{ID: id, AccessHash: id * 1000, LangCode: "de"}
}

// submission returns what a user who shares a submission sends the bot,
// and the encrypted submission kycbot must queue.
func submission(t *testing.T) (*tg.MessageActionSecureValuesSentMe, *passport.EncryptedSubmission) {
	t.Helper()
	sh, err := passport.EncryptSubmission(rand.Reader, &handlerstest.Key(t).PublicKey, "nonce-nonce-nonce-nonce-nonce-nonce-nonce-1", []passport.PlainElement{{
		Type: passport.TypePersonalDetails, Fields: map[string]string{"first_name": "Zephyrine", "last_name": "Quillbottom"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	action, err := sh.Submission.MTProto()
	if err != nil {
		t.Fatal(err)
	}
	es, err := passport.FromMTProto(action)
	if err != nil {
		t.Fatal(err)
	}
	return action, es
}

// TestHook: the updates that are kycbot's (Passport submissions, its
// commands to this bot, taps on its buttons, from users in their private
// chat) go to its queue and not to next; every other update goes to next
// untouched; a list of both is split: next gets a copy with the others.
func TestHook(t *testing.T) {
	rdb := testkit.Need(t)
	kyc := newBot(t, rdb, nil)
	learnSelf(t, kyc)
	next := &recNext{}
	h := Hook(kyc, next)
	action, es := submission(t)
	malformed := &tg.MessageActionSecureValuesSentMe{Values: []tg.SecureValue{{
		Type: &tg.SecureValueTypeUtilityBill{}, Files: []tg.SecureFileClass{&tg.SecureFileEmpty{}},
	}}}
	typing := &tg.UpdateUserTyping{UserID: 1, Action: &tg.SendMessageTypingAction{}}
	host := private(900, 9001, "I would like to order a pizza")
	hostTap := tap(901, 9001, "order:pizza")

	type want int
	const (
		nothing want = iota // next is not called
		same                // next gets the update as it came
		rest                // next gets a copy with the updates not kycbot's
	)
	tests := []struct {
		name   string
		in     tg.UpdatesClass
		queued []bot.Update
		next   want
		rest   []tg.UpdateClass
	}{
		{name: "a command", in: batch([]tg.UserClass{userOf(1001)}, private(1, 1001, "/start crm-1")),
			queued: []bot.Update{{Kind: bot.KindMessage, From: from(1001), MsgID: 1, Text: "/start crm-1"}}},
		{name: "a command addressed to this bot", in: batch([]tg.UserClass{userOf(1002)}, private(2, 1002, "/help@kyc_test_bot")),
			queued: []bot.Update{{Kind: bot.KindMessage, From: from(1002), MsgID: 2, Text: "/help@kyc_test_bot"}}},
		{name: "an admin command", in: batch([]tg.UserClass{userOf(1003)}, private(3, 1003, "/kyc_stats")),
			queued: []bot.Update{{Kind: bot.KindMessage, From: from(1003), MsgID: 3, Text: "/kyc_stats"}}},
		{name: "a command without the user in the entities", in: batch(nil, private(4, 1004, "/status")),
			queued: []bot.Update{{Kind: bot.KindMessage, From: handlers.User{ID: 1004}, MsgID: 4, Text: "/status"}}},
		{name: "a command addressed to another bot", in: batch([]tg.UserClass{userOf(1005)}, private(5, 1005, "/help@otherbot")), next: same},
		{name: "a command of the host bot", in: batch([]tg.UserClass{userOf(1006)}, private(6, 1006, "/order 5")), next: same},
		{name: "text", in: batch([]tg.UserClass{userOf(1007)}, private(7, 1007, "hello")), next: same},
		{name: "a command in a group", in: batch([]tg.UserClass{userOf(1008)}, &tg.UpdateNewMessage{Message: &tg.Message{ID: 8,
			PeerID: &tg.PeerChat{ChatID: 5}, FromID: &tg.PeerUser{UserID: 1008}, Message: "/start"}}), next: same},
		{name: "a channel post", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.Message{ID: 9, Post: true,
			PeerID: &tg.PeerChannel{ChannelID: 6}, Message: "/start"}}), next: same},
		{name: "an outgoing message", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.Message{ID: 10, Out: true,
			PeerID: &tg.PeerUser{UserID: 1010}, Message: "/start"}}), next: same},
		{name: "a command from a bot", in: batch([]tg.UserClass{&tg.User{ID: 1011, Bot: true, AccessHash: 1}}, private(11, 1011, "/start")), next: same},
		{name: "a message from someone else in the chat", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.Message{ID: 12,
			PeerID: &tg.PeerUser{UserID: 1012}, FromID: &tg.PeerUser{UserID: 9}, Message: "/start"}}), next: same},
		{name: "a Passport submission", in: batch([]tg.UserClass{userOf(1013)}, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 13,
			PeerID: &tg.PeerUser{UserID: 1013}, Action: action}}),
			queued: []bot.Update{{Kind: bot.KindSubmission, From: from(1013), MsgID: 13, Submission: es}}},
		{name: "a malformed Passport submission", in: batch([]tg.UserClass{userOf(1014)}, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 14,
			PeerID: &tg.PeerUser{UserID: 1014}, Action: malformed}}),
			queued: []bot.Update{{Kind: bot.KindSubmission, From: from(1014), MsgID: 14, Submission: &passport.EncryptedSubmission{}}}},
		{name: "a Passport submission from a bot", in: batch([]tg.UserClass{&tg.User{ID: 1015, Bot: true}}, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 15,
			PeerID: &tg.PeerUser{UserID: 1015}, Action: action}}), next: same},
		{name: "an outgoing Passport submission", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 16, Out: true,
			PeerID: &tg.PeerUser{UserID: 1016}, Action: action}}), next: same},
		{name: "a Passport submission in a group", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 17,
			PeerID: &tg.PeerChat{ChatID: 5}, Action: action}}), next: same},
		{name: "a Passport submission in a channel", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 31,
			PeerID: &tg.PeerChannel{ChannelID: 6}, Action: action}}), next: same},
		{name: "an empty message", in: batch(nil, &tg.UpdateNewMessage{Message: &tg.MessageEmpty{ID: 32}}), next: same},
		{name: "another service message", in: batch([]tg.UserClass{userOf(1018)}, &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 18,
			PeerID: &tg.PeerUser{UserID: 1018}, Action: &tg.MessageActionScreenshotTaken{}}}), next: same},
		{name: "a tap on a kycbot button", in: batch([]tg.UserClass{userOf(1019)}, tap(19, 1019, "kyc:lang:de")),
			queued: []bot.Update{{Kind: bot.KindCallback, From: from(1019), QueryID: 19, Data: "kyc:lang:de"}}},
		{name: "a tap on a host button", in: batch([]tg.UserClass{userOf(1020)}, tap(20, 1020, "order:pizza")), next: same},
		{name: "a tap of a bot", in: batch([]tg.UserClass{&tg.User{ID: 1021, Bot: true}}, tap(21, 1021, "kyc:lang:de")), next: same},
		{name: "a short update with a kycbot tap", in: &tg.UpdateShort{Update: tap(22, 1022, "kyc:del:1:2"), Date: 1},
			queued: []bot.Update{{Kind: bot.KindCallback, From: handlers.User{ID: 1022}, QueryID: 22, Data: "kyc:del:1:2"}}},
		{name: "a short update of the host", in: &tg.UpdateShort{Update: typing, Date: 1}, next: same},
		{name: "a short message with a command", in: &tg.UpdateShortMessage{ID: 23, UserID: 1023, Message: "/verify", Pts: 23, PtsCount: 1, Date: 1},
			queued: []bot.Update{{Kind: bot.KindMessage, From: handlers.User{ID: 1023}, MsgID: 23, Text: "/verify"}}},
		{name: "a short outgoing message", in: &tg.UpdateShortMessage{ID: 24, UserID: 1024, Out: true, Message: "/verify", Date: 1}, next: same},
		{name: "a short message of the host", in: &tg.UpdateShortMessage{ID: 25, UserID: 1025, Message: "pizza", Date: 1}, next: same},
		{name: "too long", in: &tg.UpdatesTooLong{}, next: same},
		{name: "kycbot's and the host's updates together",
			in: batch([]tg.UserClass{userOf(1026), userOf(9001)}, private(26, 1026, "/verify"), host, tap(27, 1026, "kyc:lang:fr"), hostTap, typing),
			queued: []bot.Update{
				{Kind: bot.KindMessage, From: from(1026), MsgID: 26, Text: "/verify"},
				{Kind: bot.KindCallback, From: from(1026), QueryID: 27, Data: "kyc:lang:fr"},
			},
			next: rest, rest: []tg.UpdateClass{host, hostTap, typing}},
		{name: "combined updates",
			in:     &tg.UpdatesCombined{Updates: []tg.UpdateClass{host, private(28, 1028, "/cancel")}, Users: []tg.UserClass{userOf(1028)}, Date: 1, Seq: 3, SeqStart: 2},
			queued: []bot.Update{{Kind: bot.KindMessage, From: from(1028), MsgID: 28, Text: "/cancel"}},
			next:   rest, rest: []tg.UpdateClass{host}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := jsonOf(t, tt.in)
			if err := h.Handle(context.Background(), tt.in); err != nil {
				t.Fatal(err)
			}
			if got, want := jsonOf(t, queued(t, kyc)), jsonOf(t, tt.queued); len(tt.queued) == 0 && got != "[]" || len(tt.queued) > 0 && got != want {
				t.Errorf("queued %s\nwant %s", got, want)
			}
			if jsonOf(t, tt.in) != before {
				t.Error("the update was changed")
			}
			got := next.take()
			switch tt.next {
			case nothing:
				if len(got) != 0 {
					t.Errorf("next got %d updates, want none", len(got))
				}
			case same:
				if len(got) != 1 || got[0] != tt.in {
					t.Errorf("next got %#v, want the update untouched", got)
				}
			case rest:
				if len(got) != 1 || got[0] == tt.in {
					t.Fatalf("next got %#v, want a copy with the other updates", got)
				}
				var list []tg.UpdateClass
				switch g := got[0].(type) {
				case *tg.Updates:
					in := tt.in.(*tg.Updates)
					list = g.Updates
					if jsonOf(t, g.Users) != jsonOf(t, in.Users) || jsonOf(t, g.Chats) != jsonOf(t, in.Chats) || g.Date != in.Date || g.Seq != in.Seq {
						t.Errorf("next got %+v, want the entities, date and seq of %+v", g, in)
					}
				case *tg.UpdatesCombined:
					in := tt.in.(*tg.UpdatesCombined)
					list = g.Updates
					if jsonOf(t, g.Users) != jsonOf(t, in.Users) || g.Seq != in.Seq || g.SeqStart != in.SeqStart {
						t.Errorf("next got %+v, want the entities and seqs of %+v", g, in)
					}
				default:
					t.Fatalf("next got a %T", got[0])
				}
				if len(list) != len(tt.rest) {
					t.Fatalf("next got %d updates, want %d", len(list), len(tt.rest))
				}
				for i := range list {
					if list[i] != tt.rest[i] {
						t.Errorf("update %d given to next is %#v, want %#v", i, list[i], tt.rest[i])
					}
				}
			}
		})
	}

	// An update received again (a restart, a second receiver) is queued
	// once.
	again := batch([]tg.UserClass{userOf(1030)}, private(30, 1030, "/help"))
	for range 2 {
		must(t, h.Handle(context.Background(), again))
	}
	if got := queued(t, kyc); len(got) != 1 {
		t.Errorf("an update received twice was queued %d times", len(got))
	}
}

// TestHookOptions: WithEverything makes every private text and tap
// kycbot's; a nil next drops the host's updates.
func TestHookOptions(t *testing.T) {
	rdb := testkit.Need(t)
	t.Run("everything", func(t *testing.T) {
		kyc := newBot(t, rdb, nil, bot.WithEverything())
		next := &recNext{}
		in := batch([]tg.UserClass{userOf(2001)}, private(1, 2001, "hello"), tap(2, 2001, "order:pizza"), &tg.UpdateUserTyping{UserID: 1, Action: &tg.SendMessageTypingAction{}})
		must(t, Hook(kyc, next).Handle(context.Background(), in))
		want := []bot.Update{{Kind: bot.KindMessage, From: from(2001), MsgID: 1, Text: "hello"}, {Kind: bot.KindCallback, From: from(2001), QueryID: 2, Data: "order:pizza"}}
		if got := queued(t, kyc); jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("queued %s, want %s", jsonOf(t, got), jsonOf(t, want))
		}
		if got := next.take(); len(got) != 1 || len(got[0].(*tg.Updates).Updates) != 1 {
			t.Errorf("next got %#v, want the typing update", got)
		}
	})
	t.Run("no next", func(t *testing.T) {
		kyc := newBot(t, rdb, nil)
		h := Hook(kyc, nil)
		must(t, h.Handle(context.Background(), batch(nil, private(1, 2002, "pizza"))))
		must(t, h.Handle(context.Background(), batch(nil, private(2, 2002, "/start"), private(3, 2002, "pizza"))))
		if got := queued(t, kyc); len(got) != 1 || got[0].Text != "/start" {
			t.Errorf("queued %+v, want /start", got)
		}
	})
}

// TestHookAccessHashes: the access hashes of the users of kycbot's
// updates are kept in its store for the bot account (the bot writes to
// them outside an update), not those of the host's; WithoutAccessHashes
// keeps none.
func TestHookAccessHashes(t *testing.T) {
	rdb := testkit.Need(t)
	ctx := context.Background()
	for _, keep := range []bool{true, false} {
		name := "kept"
		var opts []HookOption
		if !keep {
			name, opts = "WithoutAccessHashes", []HookOption{WithoutAccessHashes()}
		}
		t.Run(name, func(t *testing.T) {
			kyc := newBot(t, rdb, nil)
			learnSelf(t, kyc)
			in := batch([]tg.UserClass{userOf(3001), userOf(3002)}, private(1, 3001, "/start"), private(2, 3002, "pizza"))
			must(t, Hook(kyc, &recNext{}, opts...).Handle(ctx, in))
			hashes := kyc.Store().Sessions().UserAccessHasher()
			h, found, err := hashes.GetUserAccessHash(ctx, self.ID, 3001)
			if err != nil || found != keep || keep && h != 3001*1000 {
				t.Errorf("kycbot's user: hash %d, found %v (%v); want kept: %v", h, found, err, keep)
			}
			if _, found, err := hashes.GetUserAccessHash(ctx, self.ID, 3002); err != nil || found {
				t.Errorf("the host's user's hash was kept (%v)", err)
			}
		})
	}
}

// TestHookRedisDown: while Redis cannot take kycbot's updates, Handle
// waits and tries again (next gets nothing: gotd's updates manager
// delivers the whole update again if Handle fails) until Redis is back,
// or fails when its context ends.
func TestHookRedisDown(t *testing.T) {
	srv := testkit.StartServer(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = client.Close() })
	logs := &testkit.Logs{}
	kyc := newBot(t, client, logs)
	next := &recNext{}
	h := Hook(kyc, next)
	in := batch([]tg.UserClass{userOf(4001)}, private(1, 4001, "/start"), private(2, 4001, "pizza"))

	t.Run("until the context ends", func(t *testing.T) {
		srv.Kill()
		defer srv.Start(t)
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		err := h.Handle(ctx, in)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("err = %v, want the context's error and store.ErrUnavailable", err)
		}
		if got := next.take(); len(got) != 0 {
			t.Errorf("next got %d updates", len(got))
		}
	})

	t.Run("until Redis is back", func(t *testing.T) {
		srv.Kill()
		done := make(chan error, 1)
		go func() { done <- h.Handle(context.Background(), in) }()
		select {
		case err := <-done:
			t.Fatalf("Handle returned %v while Redis was down", err)
		case <-time.After(time.Second):
		}
		srv.Start(t)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Handle did not return once Redis was back")
		}
		if got := queued(t, kyc); len(got) != 1 || got[0].Text != "/start" {
			t.Errorf("queued %+v, want /start", got)
		}
		if got := next.take(); len(got) != 1 || len(got[0].(*tg.Updates).Updates) != 1 {
			t.Errorf("next got %#v, want the host's update once", got)
		}
		l := logs.String()
		if !strings.Contains(l, "cannot queue kycbot's updates; trying again") || !strings.Contains(l, "updates queued after a wait") {
			t.Errorf("the wait is not logged:\n%s", l)
		}
		if strings.Contains(l, "pizza") || strings.Contains(l, "/start") {
			t.Errorf("the logs hold the users' texts:\n%s", l)
		}
	})
}
