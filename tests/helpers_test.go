package tests

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/verify"
)

// Keys are slow to generate: the tests share them.
var (
	botKey    = sync.OnceValues(func() (*rsa.PrivateKey, error) { return passport.GenerateKey(2048) })
	serverKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// delivered is what the OnVerified hook received: the data and a copy of
// every scan.
type delivered struct {
	v     bot.Verified
	files map[verify.ScanKey][]byte
}

// world is a running sandbox with the bot, the captured logs and hooks.
type world struct {
	*demo.Env
	t     testing.TB
	logs  *testkit.Logs
	clock *testkit.Clock
	s     *state
}

// state is what the hooks and users of a world collect.
type state struct {
	mu        sync.Mutex
	verified  []delivered
	rejected  []bot.Rejected
	profiles  []sandbox.Profile
	phoneSeed atomic.Int64
}

// sub returns the world for a subtest: the same bot and state, failing t.
func (w *world) sub(t testing.TB) *world {
	return &world{Env: w.Env, t: t, logs: w.logs, clock: w.clock, s: w.s}
}

type worldOptions struct {
	sandbox    sandbox.Options
	bot        []bot.Option
	configYAML string
	// runner sets the runner's options (rate limit, receiver lease).
	runner runner.Options
	// instances is how many instances the load benchmarks run (1 when
	// 0): the world's, and instances-1 more (Env.StartInstance).
	instances int
	// clock, when set, is the bot's clock (a new one otherwise).
	clock *testkit.Clock
	// redis, when set, is the bot's Redis instead of the test server's
	// (testkit.Need); the test closes it.
	redis redis.UniversalClient
	// resolver, when set, dials the sandbox for the bot and the demo's
	// users (demo.Options.Resolver).
	resolver dcs.Resolver
}

// newWorld starts the sandbox and the bot on real Redis with a key prefix
// of its own; the keys are removed at the end. Every test's logs are
// checked for the personal data of its profiles.
func newWorld(t testing.TB, wo worldOptions) *world {
	t.Helper()
	client := wo.redis
	if client == nil {
		client = testkit.Need(t) // fails under CI, skips elsewhere without Redis
	}
	key, err := botKey()
	if err != nil {
		t.Fatal(err)
	}
	skey, err := serverKey()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, logs: &testkit.Logs{}, clock: wo.clock, s: &state{}}
	if w.clock == nil {
		w.clock = &testkit.Clock{}
	}
	logger := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if os.Getenv("KYCBOT_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(io.MultiWriter(w.logs, os.Stderr), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sopts := wo.sandbox
	if sopts.ServerKey == nil {
		sopts.ServerKey = skey
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	opts := demo.Options{
		Redis: client, Key: key, Sandbox: sopts, Logger: logger, ConfigYAML: wo.configYAML, Runner: wo.runner, Resolver: wo.resolver,
		Prefix: "kycbot-e2e:" + hex.EncodeToString(b[:]) + ":",
		BotOptions: append([]bot.Option{
			bot.WithClock(w.clock.Now),
			bot.WithOnVerified(w.onVerified),
			bot.WithOnRejected(func(_ context.Context, r bot.Rejected) error {
				w.s.mu.Lock()
				defer w.s.mu.Unlock()
				w.s.rejected = append(w.s.rejected, r)
				return nil
			}),
			bot.WithRetry(20*time.Second, 100*time.Millisecond),
		}, wo.bot...),
	}
	// The sandbox and the simulated users live until the test ends: they
	// stop with the context demo.Start is given (a test's two minutes of
	// testContext would end them in the middle of a long test).
	life, endLife := context.WithCancel(context.Background())
	t.Cleanup(endLife)
	env, err := demo.Start(life, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.Env = env
	t.Cleanup(func() {
		_ = env.StopBot()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := env.DeleteKeys(ctx); err != nil {
			t.Errorf("delete keys: %v", err)
		}
		if err := env.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		w.checkLogs()
	})
	return w
}

func (w *world) onVerified(_ context.Context, v bot.Verified) error {
	d := delivered{v: v, files: map[verify.ScanKey][]byte{}}
	for k := range v.Scans {
		r, err := v.Open(k)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			return err
		}
		d.files[k] = b
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.verified = append(w.s.verified, d)
	return nil
}

// user registers a simulated user with a profile (SampleProfile when nil).
func (w *world) user(lang string, p sandbox.Profile, mw ...sandbox.SimUserOptions) *sandbox.SimUser {
	w.t.Helper()
	u, err := w.tryUser(testContext(w.t), lang, p, mw...)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// tryUser is user for other goroutines than the test's: it returns the
// error.
func (w *world) tryUser(ctx context.Context, lang string, p sandbox.Profile, mw ...sandbox.SimUserOptions) (*sandbox.SimUser, error) {
	phone := fmt.Sprintf("4930%08d", w.s.phoneSeed.Add(1)+int64(time.Now().UnixNano()%1e6)*100)
	if p == nil {
		p = sandbox.SampleProfile(phone)
	}
	o := sandbox.SimUserOptions{Profile: p, SetupPassword: "e2e cloud password"}
	if len(mw) > 0 {
		o.Middlewares = mw[0].Middlewares
	}
	u, err := w.Sandbox.NewSimUser(ctx, sandbox.UserSpec{Phone: phone, FirstName: "Test", LangCode: lang}, o)
	if err != nil {
		return nil, err
	}
	w.t.Cleanup(func() { _ = u.Close() })
	w.s.mu.Lock()
	w.s.profiles = append(w.s.profiles, p.Clone())
	w.s.mu.Unlock()
	return u, nil
}

// userParallelism bounds how many simulated users log in at once: each
// login is a key exchange, CPU-bound (a little above the cores, so that
// the round trips overlap).
var userParallelism = runtime.GOMAXPROCS(0) + 1

// users registers n simulated users with sample profiles, several at once.
func (w *world) users(n int, lang string) []*sandbox.SimUser {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*30*time.Second)
	defer cancel()
	out := make([]*sandbox.SimUser, n)
	errs := make([]error, n)
	sem := make(chan struct{}, userParallelism)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = w.tryUser(ctx, lang, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		w.t.Fatalf("register %d users: %v", n, err)
	}
	return out
}

// restartWith stops the bot, changes a copy of its config with edit and
// starts it again (the session and updates state stay in Redis).
func (w *world) restartWith(ctx context.Context, edit func(*config.Config)) {
	w.t.Helper()
	if err := w.StopBot(); err != nil {
		w.t.Fatal(err)
	}
	c := *w.Config
	edit(&c)
	w.Config = &c
	if err := w.StartBot(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// admin registers a simulated user who talked to the bot (so that the bot
// may write to them) and restarts the bot with them as its admin.
func (w *world) admin(ctx context.Context) *sandbox.SimUser {
	w.t.Helper()
	a := w.user("en", nil)
	w.request(ctx, a, "")
	w.restartWith(ctx, func(c *config.Config) { c.Admins = append(slices.Clone(c.Admins), a.User.ID) })
	return a
}

// request sends /start and returns the request page URL of the button,
// once both answers (the greeting and the explanation with the button)
// arrived: the sandbox may deliver them in either order, as messages
// pushed on one connection can be.
func (w *world) request(ctx context.Context, u *sandbox.SimUser, payload string) (string, []sandbox.ChatMessage) {
	w.t.Helper()
	if _, err := u.Start(ctx, w.Account.Username, payload); err != nil {
		w.t.Fatal(err)
	}
	isGreeting := func(text string) bool {
		for _, lang := range w.Bot().Catalog().Languages() {
			if strings.HasPrefix(text, firstLine(w.text(lang, i18n.MsgStartGreeting, nil))) {
				return true
			}
		}
		return false
	}
	var (
		seen    []sandbox.ChatMessage
		page    string
		greeted bool
	)
	for page == "" || !greeted {
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			w.t.Fatalf("no request button after /start; got %v: %v", texts(seen), err)
		}
		seen = append(seen, m)
		if b, ok := urlButton(m); ok {
			page = b.URL
		}
		greeted = greeted || isGreeting(m.Text)
	}
	return page, seen
}

// share opens the request page and shares the profile.
func (w *world) share(ctx context.Context, u *sandbox.SimUser, pageURL string) string {
	w.t.Helper()
	link := w.open(ctx, u, pageURL)
	if err := u.FillForm(ctx, link); err != nil {
		w.t.Fatal(err)
	}
	return link
}

// open opens the request page pageURL as u's app does and returns the
// Passport link to share.
func (w *world) open(ctx context.Context, u *sandbox.SimUser, pageURL string) string {
	w.t.Helper()
	link, err := u.OpenURL(ctx, pageURL)
	if err != nil {
		w.t.Fatal(err)
	}
	return link
}

// requestLink takes u from /start to the Passport link to share.
func (w *world) requestLink(ctx context.Context, u *sandbox.SimUser) string {
	w.t.Helper()
	page, _ := w.request(ctx, u, "")
	return w.open(ctx, u, page)
}

// shareSlowly has u share link with the downloads throttled to bandwidth
// bytes a second (until the test ends or SetBandwidth(0)); it returns
// once the bot has started downloading the scans.
func (w *world) shareSlowly(ctx context.Context, u *sandbox.SimUser, link string, bandwidth int) {
	w.t.Helper()
	w.Sandbox.SetBandwidth(bandwidth)
	w.t.Cleanup(func() { w.Sandbox.SetBandwidth(0) })
	before := w.Sandbox.Calls(tg.UploadGetFileRequestTypeID)
	if err := u.FillForm(ctx, link); err != nil {
		w.t.Fatal(err)
	}
	for w.Sandbox.Calls(tg.UploadGetFileRequestTypeID) == before {
		if ctx.Err() != nil {
			w.t.Fatal("the bot did not start downloading the scans")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// next waits for the bot's next message. The "received, checking"
// message of a submission is passed over: the verdict is edited into it,
// and next returns the edit (TestReceivedThenVerdict looks at both).
func (w *world) next(ctx context.Context, u *sandbox.SimUser) sandbox.ChatMessage {
	w.t.Helper()
	m, err := u.WaitMessage(ctx, w.notReceived)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// notReceived matches the messages from the bot other than the
// "received, checking" message of a submission (in any language).
func (w *world) notReceived(m sandbox.ChatMessage) bool {
	return !m.Out && !w.isReceived(m)
}

// isReceived reports whether m is the bot's "received, checking" message
// (in the built-in texts: the world's bot may be stopped).
func (w *world) isReceived(m sandbox.ChatMessage) bool {
	texts, err := receivedTexts()
	if err != nil {
		w.t.Fatal(err)
	}
	return !m.Edited && texts[m.Text]
}

// receivedTexts are the "received, checking" message in every language.
var receivedTexts = sync.OnceValues(func() (map[string]bool, error) {
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	texts := map[string]bool{}
	for _, lang := range cat.Languages() {
		texts[cat.Language(lang).Text(i18n.MsgSubmissionReceived, nil)] = true
	}
	return texts, nil
})

// status returns the user's status at the default level.
func (w *world) status(ctx context.Context, userID int64) store.Status {
	w.t.Helper()
	st, err := store.New(w.Redis, store.WithPrefix(w.Config.Redis.Prefix)).Statuses().Get(ctx, userID, w.Config.DefaultLevelName)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// events returns the kinds of the audit events about a user, in order.
func (w *world) events(ctx context.Context, userID int64) []string {
	w.t.Helper()
	st := store.New(w.Redis, store.WithPrefix(w.Config.Redis.Prefix), bot.AuditKeys(w.Key))
	var kinds []string
	if err := st.Audit().Events(ctx, func(e store.RecordedEvent) error {
		if e.UserID == userID {
			kinds = append(kinds, e.Kind)
		}
		return nil
	}, userID); err != nil {
		w.t.Fatal(err)
	}
	return kinds
}

// text returns a text of the catalog in a language.
func (w *world) text(lang, id string, data map[string]any) string {
	return w.Bot().Catalog().Language(lang).Text(id, data)
}

// checkLogs fails the test when a value of any profile appears in the
// captured logs.
func (w *world) checkLogs() {
	logs := w.logs.String()
	if logs == "" {
		w.t.Error("no logs were captured: the personal data check would prove nothing")
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	reported := map[string]bool{}
	for _, p := range w.s.profiles {
		for _, v := range profileValues(p) {
			i := indexWord(logs, v)
			if i < 0 || reported[v] {
				continue
			}
			reported[v] = true
			// The sandbox's profiles are made up: the line may be shown.
			start := strings.LastIndexByte(logs[:i], '\n') + 1
			end := len(logs)
			if j := strings.IndexByte(logs[i:], '\n'); j >= 0 {
				end = i + j
			}
			w.t.Errorf("personal data %q appears in the logs: %s", v, logs[start:end])
		}
	}
}

// indexWord returns the index of the first v in s that is not part of a
// longer run of letters and digits (the postcode 10117 inside a random
// hex ID is not the postcode), or -1.
func indexWord(s, v string) int {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	for from := 0; ; {
		i := strings.Index(s[from:], v)
		if i < 0 {
			return -1
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(v):])
		first, _ := utf8.DecodeRuneInString(v)
		last, _ := utf8.DecodeLastRuneInString(v)
		if (i == 0 || !isWord(first) || !isWord(before)) && (i+len(v) == len(s) || !isWord(last) || !isWord(after)) {
			return i
		}
		from = i + 1
	}
}

// profileValues lists every personal value of a profile.
func profileValues(p sandbox.Profile) []string {
	var out []string
	for _, el := range p {
		for _, v := range el.Fields {
			if len(v) >= 4 { // shorter values (gender codes, "DE") also occur in ordinary words
				out = append(out, v)
			}
		}
		for _, v := range []string{el.Phone, el.Email} {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func urlButton(m sandbox.ChatMessage) (sandbox.Button, bool) {
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.URL != "" {
				return b, true
			}
		}
	}
	return sandbox.Button{}, false
}

func texts(ms []sandbox.ChatMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// scanBytes returns the JPEG bytes of a profile scan.
func scanBytes(t testing.TB, s *sandbox.Scan) []byte {
	t.Helper()
	b, err := s.JPEG()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hasURLButton reports whether a message has a URL button.
func hasURLButton(m sandbox.ChatMessage) bool { _, ok := urlButton(m); return ok }
