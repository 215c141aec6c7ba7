package bot

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store/storetest"
)

// testToken is a bot token of the right form; nothing talks to Telegram.
const testToken = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// testKeys shares one throwaway key between the tests.
type testKeys struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

func (k *testKeys) get(t *testing.T) *rsa.PrivateKey {
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
func parseConfig(t *testing.T, prefix, admins, levels string, change func(string) string) *config.Config {
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

// fakeInvoker is a Telegram that answers every call with success and
// records the messages sent; gate, when set, holds every sendMessage
// until it is closed.
type fakeInvoker struct {
	mu       sync.Mutex
	texts    []string
	buttons  []int // the buttons of each message
	commands int   // bots.setBotCommands calls
	gate     chan struct{}
	sending  chan struct{} // gets a value when a sendMessage waits at gate
}

func (f *fakeInvoker) Invoke(ctx context.Context, in bin.Encoder, out bin.Decoder) error {
	var answer bin.Encoder = &tg.BoolTrue{}
	switch r := in.(type) {
	case *tg.MessagesSendMessageRequest:
		f.mu.Lock()
		gate, sending := f.gate, f.sending
		f.mu.Unlock()
		if gate != nil {
			sending <- struct{}{}
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		n := 0
		if m, ok := r.ReplyMarkup.(*tg.ReplyInlineMarkup); ok {
			for _, row := range m.Rows {
				n += len(row.Buttons)
			}
		}
		f.mu.Lock()
		f.texts = append(f.texts, r.Message)
		f.buttons = append(f.buttons, n)
		f.mu.Unlock()
		answer = &tg.Updates{}
	case *tg.BotsSetBotCommandsRequest:
		f.mu.Lock()
		f.commands++
		f.mu.Unlock()
	}
	var b bin.Buffer
	if err := answer.Encode(&b); err != nil {
		return err
	}
	return out.Decode(&b)
}

func (f *fakeInvoker) sent() ([]string, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.texts...), append([]int(nil), f.buttons...)
}

// syncBuffer is a buffer safe for concurrent writes (the log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testBot is a Bot registered on a dispatcher with a fake Telegram, on
// the test Redis.
type testBot struct {
	*Bot
	rdb    redis.UniversalClient
	prefix string
	tg     *fakeInvoker
	d      tg.UpdateDispatcher
	logs   *syncBuffer
	msgID  atomic.Int64 // message IDs of dispatch, each message its own
}

// newTestBot builds a Bot on cfg (parseConfig) and registers it.
func newTestBot(t *testing.T, admins, levels string, opts ...Option) *testBot {
	t.Helper()
	rdb := storetest.Need(t)
	tb := &testBot{rdb: rdb, prefix: storetest.Prefix(t, rdb, "bot"), tg: &fakeInvoker{}, d: tg.NewUpdateDispatcher(), logs: &syncBuffer{}}
	cfg := parseConfig(t, tb.prefix, admins, levels, nil)
	logger := slog.New(slog.NewTextHandler(tb.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]Option{WithRedis(rdb), WithPrivateKey(keys.get(t)), WithLogger(logger), WithBotUsername("acme_kyc_bot")}, opts...)
	b, err := New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tb.Bot = b
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	if err := b.Register(context.Background(), &tb.d, tg.NewClient(tb.tg)); err != nil {
		t.Fatal(err)
	}
	return tb
}

// say delivers a text message of user to the bot and waits until it is
// handled.
func (tb *testBot) say(t *testing.T, user int64, text string) {
	t.Helper()
	tb.dispatch(t, user, text)
	if err := tb.work.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// dispatch delivers a text message of user to the bot without waiting.
func (tb *testBot) dispatch(t *testing.T, user int64, text string) {
	t.Helper()
	msg := &tg.Message{ID: int(tb.msgID.Add(1)), PeerID: &tg.PeerUser{UserID: user}, FromID: &tg.PeerUser{UserID: user}, Message: text}
	ents := tg.Entities{Users: map[int64]*tg.User{user: {ID: user, AccessHash: 42, LangCode: "en"}}}
	if err := tb.NewMessageHandler()(context.Background(), ents, &tg.UpdateNewMessage{Message: msg}); err != nil {
		t.Fatal(err)
	}
}

// lastText returns the last message sent and its number of buttons.
func (tb *testBot) lastText(t *testing.T) (string, int) {
	t.Helper()
	texts, buttons := tb.tg.sent()
	if len(texts) == 0 {
		t.Fatal("nothing was sent")
	}
	return texts[len(texts)-1], buttons[len(buttons)-1]
}

// scrape returns the bot's /metrics.
func (tb *testBot) scrape(t *testing.T) string {
	t.Helper()
	return get(t, tb.Handler(), "/metrics").body
}

// response is a recorded response.
type response struct {
	status int
	body   string
}

// get serves GET path with h.
func get(t *testing.T, h http.Handler, path string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return response{status: rec.Code, body: rec.Body.String()}
}
