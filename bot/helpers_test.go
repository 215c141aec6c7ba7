package bot

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/tests/testkit"
)

// testToken is a bot token of the right form (bot 7000001); nothing
// talks to Telegram.
const (
	testToken    = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	testBotID    = 7000001
	testUsername = "acme_kyc_bot"
)

// testKeys shares one throwaway key between the tests.
type testKeys struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

func (k *testKeys) get(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k.once.Do(func() { k.key, k.err = passport.GenerateKey(2048) })
	if k.err != nil {
		t.Fatal(k.err)
	}
	return k.key
}

var keys testKeys

// baseYAML is the config of the tests; %s are the Redis prefix, the
// admins and the extra levels.
const baseYAML = `
telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "` + testToken + `"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
default_level: basic
levels:
  basic:
    scope: [personal_details, phone_number]
%[3]s
web: {public_url: "https://kyc.acme.example", listen: "127.0.0.1:0"}
redis: {prefix: "%[1]s"}
admins: [%[2]s]
`

// parseConfig parses baseYAML with the prefix, the admins and extra YAML
// under levels, then applies change to the YAML text.
func parseConfig(t testing.TB, prefix, admins, levels string, change func(string) string) *config.Config {
	t.Helper()
	yml := fmt.Sprintf(baseYAML, prefix, admins, levels)
	if change != nil {
		yml = change(yml)
	}
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	cfg, err := config.Parse([]byte(yml), "test.yaml", noEnv)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	return cfg
}

// sentMsg is a message a fakeTransport sent.
type sentMsg struct {
	To      int64
	Text    string
	Key     string
	Buttons int
	At      time.Time
	// ID is the message's ID (SendEditable); Edited marks an edit of it.
	ID     int
	Edited bool
}

// fakeTransport is a Telegram that answers every call with success and
// records the messages sent. When send is set, Send calls it first and
// fails with its error.
type fakeTransport struct {
	self    Self
	selfErr error
	send    func(ctx context.Context, to handlers.User, m handlers.Message) error

	mu        sync.Mutex
	sent      []sentMsg // messages and edits, in order
	ids       map[string]int
	lastID    int
	callbacks []int64
	commands  int // SetCommands and SetUserCommands calls
	editable  int // SendEditable calls, those Telegram drops included
}

var _ Transport = (*fakeTransport)(nil)

func newFakeTransport() *fakeTransport {
	return &fakeTransport{self: Self{ID: testBotID, Username: testUsername}}
}

func (f *fakeTransport) Self(context.Context) (Self, error) { return f.self, f.selfErr }

func (f *fakeTransport) Send(ctx context.Context, to handlers.User, m handlers.Message) error {
	if f.send != nil {
		if err := f.send(ctx, to, m); err != nil {
			return err
		}
	}
	n := 0
	for _, row := range m.Buttons {
		n += len(row)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentMsg{To: to.ID, Text: m.Text, Key: m.Key, Buttons: n, At: time.Now()})
	return nil
}

// SendEditable sends like Send and returns the message's ID; a key sent
// before is not sent again (as Telegram does): its ID comes back.
func (f *fakeTransport) SendEditable(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	f.mu.Lock()
	f.editable++
	id, ok := f.ids[m.Key]
	f.mu.Unlock()
	if ok {
		return id, nil
	}
	if err := f.Send(ctx, to, m); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastID++
	f.sent[len(f.sent)-1].ID = f.lastID
	if m.Key != "" {
		if f.ids == nil {
			f.ids = map[string]int{}
		}
		f.ids[m.Key] = f.lastID
	}
	return f.lastID, nil
}

// Edit records the new text of the message msgID as an entry of its own
// (Edited); the same text again changes nothing (MESSAGE_NOT_MODIFIED).
func (f *fakeTransport) Edit(_ context.Context, to handlers.User, msgID int, m handlers.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := -1
	for i, s := range f.sent {
		if s.ID == msgID && msgID != 0 && s.To == to.ID {
			last = i
		}
	}
	if last < 0 {
		return errors.New("fake transport: MESSAGE_ID_INVALID")
	}
	if f.sent[last].Text == m.Text {
		return nil
	}
	n := 0
	for _, row := range m.Buttons {
		n += len(row)
	}
	f.sent = append(f.sent, sentMsg{To: to.ID, Text: m.Text, Key: f.sent[last].Key, Buttons: n, At: time.Now(), ID: msgID, Edited: true})
	return nil
}

func (f *fakeTransport) Download(context.Context, *passport.File, io.Writer) error {
	return errors.New("fake transport: no files")
}

func (f *fakeTransport) SetSecureValueErrors(context.Context, handlers.User, []tg.SecureValueErrorClass) error {
	return nil
}

func (f *fakeTransport) AnswerCallback(_ context.Context, queryID int64, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callbacks = append(f.callbacks, queryID)
	return nil
}

func (f *fakeTransport) SetCommands(context.Context, string, []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands++
	return nil
}

func (f *fakeTransport) SetUserCommands(context.Context, handlers.User, string, []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands++
	return nil
}

func (f *fakeTransport) Resolve(_ context.Context, u handlers.User) (handlers.User, error) {
	return u, nil
}

// messages returns the messages sent to user (every message when user is
// 0).
func (f *fakeTransport) messages(user int64) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMsg
	for _, m := range f.sent {
		if user == 0 || m.To == user {
			out = append(out, m)
		}
	}
	return out
}

// editableCalls returns how many times SendEditable was called, repeats
// of a key (which send nothing) included.
func (f *fakeTransport) editableCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.editable
}

func (f *fakeTransport) commandCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commands
}

// waitMessages waits until user was sent at least n messages and returns
// them.
func (f *fakeTransport) waitMessages(t testing.TB, user int64, n int, within time.Duration) []sentMsg {
	t.Helper()
	var got []sentMsg
	if !testkit.Eventually(within, func() bool { got = f.messages(user); return len(got) >= n }) {
		t.Fatalf("user %d got %d messages in %v, want %d: %+v", user, len(got), within, n, got)
	}
	return got
}

// pending returns the queue's entries handed out and not acked.
func (e *testEnv) pending(t testing.TB) []redis.XPendingExt {
	t.Helper()
	p, err := e.rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{
		Stream: e.prefix + "{queue}:stream", Group: "workers", Start: "-", End: "+", Count: 100,
	}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testEnv is one Redis prefix (one deployment of the bot) on the test
// Redis: every Bot it makes shares the queue.
type testEnv struct {
	rdb    redis.UniversalClient
	prefix string
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	rdb := testkit.Need(t)
	return &testEnv{rdb: rdb, prefix: testkit.Prefix(t, rdb, "bot")}
}

// testBot is a Bot of a testEnv with its logs.
type testBot struct {
	*Bot
	env  *testEnv
	logs *testkit.Logs
}

// newBot makes a Bot of the env (config parseConfig with admins and
// levels) named instance, logging at debug level.
func (e *testEnv) newBot(t testing.TB, instance, admins, levels string, opts ...Option) *testBot {
	t.Helper()
	return e.newBotConfig(t, instance, parseConfig(t, e.prefix, admins, levels, nil), opts...)
}

func (e *testEnv) newBotConfig(t testing.TB, instance string, cfg *config.Config, opts ...Option) *testBot {
	t.Helper()
	logs := &testkit.Logs{}
	logger := logs.Logger()
	opts = append([]Option{WithRedis(e.rdb), WithPrivateKey(keys.get(t)), WithLogger(logger), WithInstance(instance)}, opts...)
	b, err := New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &testBot{Bot: b, env: e, logs: logs}
}

// running is a Run in progress.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// stop asks Run to stop and returns its result.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

// start runs the bot on tr until the test ends (or stop), and waits until
// it works the queue.
func (tb *testBot) start(t testing.TB, tr Transport) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- tb.Run(ctx, tr) }()
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if !testkit.Eventually(20*time.Second, func() bool { return tb.Ready(context.Background()) == nil }) {
		select {
		case err := <-r.done:
			t.Fatalf("Run returned: %v", err)
		default:
		}
		t.Fatalf("the bot is not ready: %v", tb.Ready(context.Background()))
	}
	return r
}

// depth returns the entries in the queue.
func (tb *testBot) depth(t testing.TB) int64 {
	t.Helper()
	n, _, err := tb.Store().Queue().Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitEmpty waits until every queued update was handled (acked).
func (tb *testBot) waitEmpty(t testing.TB, within time.Duration) {
	t.Helper()
	if !testkit.Eventually(within, func() bool { return tb.depth(t) == 0 }) {
		t.Fatalf("the queue still holds %d entries after %v", tb.depth(t), within)
	}
}

// enqueue puts updates in the queue.
func (tb *testBot) enqueue(t testing.TB, updates ...Update) {
	t.Helper()
	if err := tb.Enqueue(context.Background(), updates...); err != nil {
		t.Fatal(err)
	}
}

// msgIDs numbers the messages of the tests, each its own.
var msgIDs atomic.Int64

// textUpdate is a text message of user, with a fresh message ID.
func textUpdate(user int64, text string) Update {
	return Update{Kind: KindMessage, From: handlers.User{ID: user, AccessHash: 42, LangCode: "en"},
		MsgID: int(msgIDs.Add(1)), Text: text}
}

// submission issues a request for user at the default level and returns
// the update of the user's Passport submission answering it (personal
// details and a phone number, as the basic level asks).
func (tb *testBot) submission(t testing.TB, user int64) Update {
	t.Helper()
	link, err := tb.IssueLink(context.Background(), LinkParams{UserID: user, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := passport.EncryptSubmission(rand.Reader, &tb.PrivateKey().PublicKey, link.Request.Nonce, []passport.PlainElement{
		{Type: passport.TypePersonalDetails, Fields: map[string]string{
			"first_name": "Ada", "last_name": "Lovelace", "birth_date": "10.12.1990", "gender": "female",
			"country_code": "GB", "residence_country_code": "DE",
		}},
		{Type: passport.TypePhoneNumber, PhoneNumber: "15550001234"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return Update{Kind: KindSubmission, From: handlers.User{ID: user, AccessHash: 42, LangCode: "en"},
		MsgID: int(msgIDs.Add(1)), Submission: sh.Submission}
}

// text is the English text of a catalog message.
func (tb *testBot) text(id string) string { return tb.Catalog().Language("en").Text(id, nil) }

// response is a recorded response.
type response struct {
	status int
	body   string
}

// get serves GET path with h.
func get(t testing.TB, h http.Handler, path string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return response{status: rec.Code, body: rec.Body.String()}
}

// logged reports whether the logs hold s.
func (tb *testBot) logged(s string) bool { return strings.Contains(tb.logs.String(), s) }
