package runner_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/tests/testkit"
)

// lease is the receiver's lease of the tests.
const lease = 2 * time.Second

// keys are the throwaway RSA keys of the tests: the bot's Passport key
// and the sandbox servers' key.
var keys struct {
	once        sync.Once
	bot, server *rsa.PrivateKey
	err         error
}

func testKeys(t *testing.T) (botKey, serverKey *rsa.PrivateKey) {
	t.Helper()
	keys.once.Do(func() {
		if keys.bot, keys.err = passport.GenerateKey(2048); keys.err == nil {
			keys.server, keys.err = passport.GenerateKey(2048)
		}
	})
	if keys.err != nil {
		t.Fatal(keys.err)
	}
	return keys.bot, keys.server
}

// world is a local Telegram with the bot's account, and a Redis prefix:
// one deployment of the bot.
type world struct {
	sb      *sandbox.Sandbox
	account sandbox.Bot
	key     *rsa.PrivateKey
	rdb     redis.UniversalClient
	prefix  string
	yaml    string
	phones  atomic.Int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	rdb := testkit.Need(t)
	w := &world{rdb: rdb, prefix: testkit.Prefix(t, rdb, "runner")}
	var serverKey *rsa.PrivateKey
	w.key, serverKey = testKeys(t)
	var err error
	if w.sb, err = sandbox.Start(context.Background(), sandbox.Options{ServerKey: serverKey}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.sb.Close(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	pub, err := passport.MarshalPublicKey(&w.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if w.account, err = w.sb.AddBot(sandbox.BotSpec{Username: "acme_kyc_bot", PublicKeyPEM: string(pub)}); err != nil {
		t.Fatal(err)
	}
	serverPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&serverKey.PublicKey)})
	// The config reaches the sandbox through telegram.server alone.
	w.yaml = fmt.Sprintf(`
telegram:
  app_id: 1
  app_hash: 0123456789abcdef0123456789abcdef
  bot_token: %q
  server:
    addresses: {2: %q}
    public_keys: %q
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic:
    scope: [personal_details, phone_number]
web: {public_url: "https://kyc.acme.example", listen: "127.0.0.1:0", ops_listen: "127.0.0.1:0"}
redis: {prefix: %q}
`, w.account.Token, w.sb.Addr(sandbox.MainDC).String(), string(serverPEM), w.prefix)
	return w
}

// config parses the world's config after change (nil: as is).
func (w *world) config(t *testing.T, change func(string) string) *config.Config {
	t.Helper()
	yml := w.yaml
	if change != nil {
		yml = change(yml)
	}
	cfg, err := config.Parse([]byte(yml), "test.yaml", config.WithEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	return cfg
}

// instance is a Runner running in the test.
type instance struct {
	name      string
	r         *runner.Runner
	logs      *testkit.Logs
	info      runner.Info
	ready     chan runner.Info
	receiving chan struct{} // gets a value each time it starts receiving
	cancel    context.CancelFunc
	done      chan error
	once      sync.Once
	err       error
}

// stop stops the instance gracefully and returns Run's result.
func (in *instance) stop() error {
	in.once.Do(func() {
		in.cancel()
		select {
		case in.err = <-in.done:
		case <-time.After(time.Minute):
			in.err = fmt.Errorf("instance %s did not stop", in.name)
		}
	})
	return in.err
}

// handled counts the updates the instance's workers handled.
func (in *instance) handled() int { return strings.Count(in.logs.String(), `msg="chat: message"`) }

// newRunner prepares an instance named name of the world's bot on cfg
// (its logs, the receiver's lease of the tests; OnReady and OnReceiving are
// the instance's).
func (w *world) newRunner(t *testing.T, name string, cfg *config.Config, o runner.Options) *instance {
	t.Helper()
	in := &instance{name: name, logs: &testkit.Logs{}, ready: make(chan runner.Info, 1), receiving: make(chan struct{}, 16),
		done: make(chan error, 1), cancel: func() {}}
	o.Logger = slog.New(slog.NewTextHandler(in.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	o.Bot = append([]bot.Option{bot.WithRedis(w.rdb), bot.WithPrivateKey(w.key), bot.WithInstance(name)}, o.Bot...)
	if o.ReceiverLease == 0 {
		o.ReceiverLease = lease
	}
	o.OnReady = func(i runner.Info) { in.ready <- i }
	o.OnReceiving = func() {
		select {
		case in.receiving <- struct{}{}:
		default:
		}
	}
	r, err := runner.New(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	in.r = r
	return in
}

// run runs the instance until the test ends (or stop).
func (in *instance) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- in.r.Run(ctx) }()
	t.Cleanup(func() {
		if err := in.stop(); err != nil {
			t.Errorf("instance %s: %v", in.name, err)
		}
	})
}

// start runs an instance named name on the world's config, and waits until
// it works the queue and serves its web page.
func (w *world) start(t *testing.T, name string, o runner.Options) *instance {
	t.Helper()
	in := w.newRunner(t, name, w.config(t, nil), o)
	in.run(t)
	select {
	case in.info = <-in.ready:
	case err := <-in.done:
		in.done <- err
		t.Fatalf("instance %s stopped: %v\n%s", name, err, in.logs)
	case <-time.After(time.Minute):
		t.Fatalf("instance %s is not ready:\n%s", name, in.logs)
	}
	return in
}

// newUser is a simulated user who opened the chat with the bot (/start)
// and got its greeting.
func (w *world) newUser(ctx context.Context, t *testing.T) *sandbox.SimUser {
	t.Helper()
	u, err := w.sb.NewSimUser(ctx, sandbox.UserSpec{Phone: fmt.Sprintf("1555%07d", w.phones.Add(1)), FirstName: "Ada", LangCode: "en"},
		sandbox.SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	if _, err := u.Start(ctx, w.account.Username, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := u.WaitMessage(ctx, nil); err != nil {
		t.Fatalf("no greeting: %v", err)
	}
	return u
}

// ask sends /help and waits for the bot's help.
func (w *world) ask(ctx context.Context, t *testing.T, u *sandbox.SimUser) {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	help := cat.Language("en").Text(i18n.MsgHelp, nil)
	if err := u.Send(ctx, w.account.ID, "/help"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := u.WaitMessage(wctx, func(m sandbox.ChatMessage) bool { return !m.Out && strings.HasPrefix(m.Text, help) }); err != nil {
		t.Fatalf("/help not answered: %v", err)
	}
}

// Two instances of one bot: exactly one receives Telegram's updates, both
// handle them, and each logs in once with an authorization of its own. When
// the receiver stops, the other starts receiving within the lease; an
// instance restarted under its name reuses its session.
func TestTwoRunners(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logins := func() int { return w.sb.Calls(tg.AuthImportBotAuthorizationRequestTypeID) }
	a := w.start(t, "a", runner.Options{})
	b := w.start(t, "b", runner.Options{})
	if !testkit.Eventually(2*lease, func() bool { return a.r.Receiving() || b.r.Receiving() }) {
		t.Fatalf("no instance receives:\na:\n%s\nb:\n%s", a.logs, b.logs)
	}
	for range 50 { // for half a second: never both
		if a.r.Receiving() == b.r.Receiving() {
			t.Fatalf("receiving: a %v, b %v", a.r.Receiving(), b.r.Receiving())
		}
		time.Sleep(10 * time.Millisecond)
	}
	recv, other := a, b
	if b.r.Receiving() {
		recv, other = b, a
	}
	if n := logins(); n != 2 {
		t.Errorf("%d bot logins, want one per instance", n)
	}

	// Both work the queue: the updates the receiver queues are handled by
	// either.
	u := w.newUser(ctx, t)
	for i := 0; a.handled() == 0 || b.handled() == 0; i++ {
		if i == 20 {
			t.Fatalf("after %d messages a handled %d updates and b %d", i, a.handled(), b.handled())
		}
		w.ask(ctx, t, u)
	}

	// The receiver stops: the other receives within the lease.
	for len(other.receiving) > 0 {
		<-other.receiving
	}
	stopping := time.Now()
	recv.cancel()
	select {
	case <-other.receiving:
	case <-time.After(lease):
		t.Fatalf("instance %s does not receive %v after %s was asked to stop:\n%s", other.name, lease, recv.name, other.logs)
	}
	took := time.Since(stopping)
	if err := recv.stop(); err != nil {
		t.Fatal(err)
	}
	if !other.r.Receiving() || recv.r.Receiving() {
		t.Errorf("after the stop: %s receiving %v, %s receiving %v", other.name, other.r.Receiving(), recv.name, recv.r.Receiving())
	}
	t.Logf("%s receives %v after %s was asked to stop", other.name, took, recv.name)
	w.ask(ctx, t, u)

	// The stopped instance restarts with its session; a new one logs in.
	again := w.start(t, recv.name, runner.Options{})
	if n := logins(); n != 2 {
		t.Errorf("%d bot logins after a restart, want 2: the restarted instance logged in again", n)
	}
	if again.r.Receiving() {
		t.Errorf("the restarted instance receives while %s does", other.name)
	}
	w.start(t, "c", runner.Options{})
	if n := logins(); n != 3 {
		t.Errorf("%d bot logins with a third instance, want 3", n)
	}
	w.ask(ctx, t, u)
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// The running bot serves /healthz, /readyz and /metrics on
// web.ops_listen only (404 on web.listen), and the request page on
// web.listen only; the ops server stops with Run. (The world's config
// sets ops_listen to a free port: the default 127.0.0.1:9090 would clash
// between tests.)
func TestRunOpsListen(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := w.config(t, nil)
	in := w.newRunner(t, "a", cfg, runner.Options{})
	in.run(t)
	select {
	case in.info = <-in.ready:
	case err := <-in.done:
		t.Fatalf("Run: %v", err)
	case <-ctx.Done():
		t.Fatal("not ready")
	}
	info := in.info
	if info.OpsAddr == nil || info.OpsAddr.String() == info.WebAddr.String() {
		t.Fatalf("Info: OpsAddr %v, WebAddr %v", info.OpsAddr, info.WebAddr)
	}
	public, ops := "http://"+info.WebAddr.String(), "http://"+info.OpsAddr.String()
	for path, want := range map[string]string{"/readyz": "ok", "/healthz": "ok", "/metrics": "kycbot_updates_in_flight"} {
		if status, body := httpGet(t, ops+path); status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("ops %s: %d, want 200 with %q:\n%.300s", path, status, want, body)
		}
		if status, _ := httpGet(t, public+path); status != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, status)
		}
	}
	// The Go runtime's series are there too.
	if _, body := httpGet(t, ops+"/metrics"); !strings.Contains(body, "go_goroutines") {
		t.Error("/metrics lacks the Go runtime's series")
	}

	link, err := in.r.Bot().IssueLink(ctx, bot.LinkParams{UserID: 4242, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	path, ok := strings.CutPrefix(link.PageURL, "https://kyc.acme.example")
	if !ok {
		t.Fatalf("page URL %s", link.PageURL)
	}
	if status, body := httpGet(t, public+path); status != http.StatusOK || !strings.Contains(body, "telegrampassport") {
		t.Errorf("request page: %d\n%.300s", status, body)
	}
	if status, _ := httpGet(t, ops+path); status != http.StatusNotFound {
		t.Errorf("request page on the ops address: %d, want 404", status)
	}

	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(ops + "/healthz"); err == nil {
		res.Body.Close()
		t.Error("the ops server still answers after Run returned")
	}
}

// With web.ops_listen public, there is no ops server: web.listen serves
// /healthz, /readyz and /metrics beside the request page.
func TestRunOpsPublic(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := w.config(t, func(y string) string {
		return strings.Replace(y, `ops_listen: "127.0.0.1:0"}`, `ops_listen: public}`, 1)
	})
	in := w.newRunner(t, "a", cfg, runner.Options{})
	in.run(t)
	select {
	case in.info = <-in.ready:
	case err := <-in.done:
		t.Fatalf("Run: %v", err)
	case <-ctx.Done():
		t.Fatal("not ready")
	}
	if in.info.OpsAddr != nil {
		t.Errorf("Info: OpsAddr %v, want none", in.info.OpsAddr)
	}
	public := "http://" + in.info.WebAddr.String()
	for path, want := range map[string]string{"/readyz": "ok", "/healthz": "ok", "/metrics": "kycbot_updates_in_flight"} {
		if status, body := httpGet(t, public+path); status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("public %s: %d, want 200 with %q:\n%.300s", path, status, want, body)
		}
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}

// Run refuses what it cannot run with, at once, with an error saying what
// to fix.
func TestRunRefused(t *testing.T) {
	w := newWorld(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name   string
		change func(string) string
		o      runner.Options
		want   []string
	}{
		{name: "no bot token", change: func(y string) string {
			return strings.Replace(y, fmt.Sprintf("  bot_token: %q\n", w.account.Token), "", 1)
		}, want: []string{"runner:", "telegram.bot_token", "is not set"}},
		{name: "local address not an IP", o: runner.Options{LocalAddr: "localhost"},
			want: []string{`runner: local address "localhost" is not an IP address`}},
		{name: "ops_listen taken", change: func(y string) string {
			return strings.Replace(y, `ops_listen: "127.0.0.1:0"}`, `ops_listen: "`+taken.Addr().String()+`"}`, 1)
		}, want: []string{"runner: web.ops_listen:", "address already in use", "set web.ops_listen to a free private port"}},
		{name: "web.listen taken", change: func(y string) string {
			return strings.Replace(y, `listen: "127.0.0.1:0",`, `listen: "`+taken.Addr().String()+`",`, 1)
		}, want: []string{"(web.listen, or --listen)", "address already in use"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := w.newRunner(t, "a", w.config(t, tc.change), tc.o)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := in.r.Run(ctx)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			t.Log(err)
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if ctx.Err() != nil {
				t.Errorf("Run failed only after its context ended: %v", err)
			}
			if w.sb.Calls(tg.AuthImportBotAuthorizationRequestTypeID) != 0 {
				t.Error("a refused instance logged in")
			}
		})
	}
}
