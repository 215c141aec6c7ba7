package adapterkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
)

// Host runs a host bot on a Bot API framework until ctx ends: with the
// token, against the Bot API server at apiURL (the base URL, as
// https://api.telegram.org is Telegram's), receiving by long polling
// through the framework, with kycbot's workers on bot/botapi's client
// (botapi.Run) and kycbot embedded through the adapter under test, and a
// handler of its own that answers "/ping" with "pong" and echoes any
// other text. It returns once it stopped.
type Host func(ctx context.Context, kyc *bot.Bot, token, apiURL string) error

// Env is a running sandbox with kycbot, for a host bot to embed.
type Env struct {
	// Sandbox is the local Telegram, Account the bot's account in it.
	Sandbox *sandbox.Sandbox
	Account sandbox.Bot
	// Bot is kycbot, Config its configuration.
	Bot    *bot.Bot
	Config *config.Config

	served *demo.Served
	rdb    redis.UniversalClient
	prefix string
	proxy  *httptest.Server
	rec    *recorder
	web    *http.Server
	clock  *clock
	// endLife ends the sandbox's context.
	endLife context.CancelFunc

	mu     sync.Mutex
	phones int
	hosts  []func() error
	user   *sandbox.SimUser // Say's
	// stopped is why a host bot stopped before Close.
	stopped error
}

// New starts the sandbox with the demo bot's account and its Bot API
// front, and kycbot on rdb (the demo configuration, under a fresh key
// prefix) with its request page on loopback. They run until Close
// (whatever becomes of ctx, which bounds the start), which stops them
// and deletes the keys.
func New(ctx context.Context, rdb redis.UniversalClient) (_ *Env, err error) {
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	served, err := demo.Serve(life, demo.ServeOptions{})
	if err != nil {
		endLife()
		return nil, err
	}
	e := &Env{Sandbox: served.Sandbox, Account: served.Account, served: served, rdb: rdb, clock: &clock{}, endLife: endLife}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Close())
		}
	}()
	// Telegram's Bot API has every bot logged in; the front logs a bot in
	// at its first call, which may take longer than a framework's first
	// getMe waits (go-telegram/bot: 5 s): log it in now.
	if _, err := botapi.NewClient(served.Account.Token, botapi.WithBaseURL(served.BotAPIURL)).GetMe(ctx); err != nil {
		return nil, fmt.Errorf("adapterkit: the bot's first call to the Bot API front: %w", err)
	}
	if e.rec, err = newRecorder(served.BotAPIURL); err != nil {
		return nil, err
	}
	e.proxy = httptest.NewServer(e.rec)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("adapterkit: web listener: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	e.prefix = "kycbot-test-adapter:" + hex.EncodeToString(b[:]) + ":"
	yml := strings.NewReplacer("{{BOT_TOKEN}}", served.Account.Token, "{{PUBLIC_URL}}", "http://"+ln.Addr().String(),
		"{{REDIS_ADDR}}", "127.0.0.1:6379", "{{REDIS_PREFIX}}", e.prefix).Replace(demo.DefaultConfig())
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	if e.Config, err = config.Parse([]byte(yml), "adapterkit config", noEnv); err != nil {
		_ = ln.Close()
		return nil, err
	}
	e.Bot, err = bot.New(ctx, e.Config, bot.WithRedis(rdb), bot.WithPrivateKey(served.Key), bot.WithInstance("adapter-test"),
		bot.WithClock(e.clock.now), bot.WithLogger(slog.New(slog.DiscardHandler)), bot.WithRetry(20*time.Second, 100*time.Millisecond))
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	e.web = &http.Server{Handler: e.Bot.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.web.Serve(ln) }()
	return e, nil
}

// APIURL is the base URL of the sandbox's Bot API for the host bot (a
// proxy in front of the sandbox's Bot API front that keeps the updates it
// sends: Raw).
func (e *Env) APIURL() string { return e.proxy.URL }

// Host runs host in a goroutine until Close, which reports its error.
func (e *Env) Host(host Host) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := host(ctx, e.Bot, e.Account.Token, e.APIURL())
		if ctx.Err() == nil {
			e.mu.Lock()
			e.stopped = fmt.Errorf("adapterkit: the host bot stopped before its time: %w", err)
			e.mu.Unlock()
		}
		done <- err
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hosts = append(e.hosts, func() error {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("adapterkit: the host bot: %w", err)
			}
			return nil
		case <-time.After(30 * time.Second):
			return errors.New("adapterkit: the host bot did not stop within 30 s of the end of its context")
		}
	})
}

// hostStopped says why a host bot stopped before Close (nil while they
// run).
func (e *Env) hostStopped() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped
}

// Close stops the host bots, kycbot and the sandbox, and deletes
// kycbot's keys.
func (e *Env) Close() error {
	e.mu.Lock()
	hosts, user := e.hosts, e.user
	e.hosts, e.user = nil, nil
	e.mu.Unlock()
	var err error
	for _, stop := range hosts {
		err = errors.Join(err, stop())
	}
	if user != nil {
		_ = user.Close()
	}
	if e.web != nil {
		_ = e.web.Close()
	}
	if e.Bot != nil {
		err = errors.Join(err, e.Bot.Close())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, derr := demo.DeleteKeys(ctx, e.rdb, e.prefix); derr != nil {
			err = errors.Join(err, fmt.Errorf("adapterkit: delete the keys: %w", derr))
		}
	}
	if e.proxy != nil {
		e.proxy.Close()
	}
	err = errors.Join(err, e.served.Close())
	e.endLife()
	return err
}

// Start is New, Host and Close for a test: it fails the test when the
// environment does not start, or when the host bot or anything else
// fails to stop at the end.
func Start(t *testing.T, rdb redis.UniversalClient, host Host) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := New(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	e.Host(host)
	return e
}

// CheckRoundTrip fails the test unless every Telegram Passport update
// the front sent the host bot (there must be one: run Accept first),
// decoded as the framework decodes it and marshalled back as the adapter
// does (roundTrip), carries what kycbot reads, Passport data whole
// (SameUpdate).
func (e *Env) CheckRoundTrip(t *testing.T, roundTrip func(raw []byte) ([]byte, error)) {
	t.Helper()
	updates := e.rec.passports()
	if len(updates) == 0 {
		t.Fatal("the front sent the host bot no Telegram Passport update")
	}
	for _, raw := range updates {
		got, err := roundTrip(raw)
		if err != nil {
			t.Fatalf("through the framework and back: %v", err)
		}
		SameUpdate(t, raw, got)
	}
}

// newUser registers a simulated user with the profile p (the sandbox's
// sample profile when nil), whose app speaks English, and logs them in;
// mw are added to the user's MTProto client.
func (e *Env) newUser(ctx context.Context, p sandbox.Profile, mw ...telegram.Middleware) (*sandbox.SimUser, error) {
	e.mu.Lock()
	e.phones++
	phone := fmt.Sprintf("4931%02d%06d", e.phones, time.Now().UnixNano()%1e6)
	e.mu.Unlock()
	if p == nil {
		p = sandbox.SampleProfile(phone)
	}
	return e.Sandbox.NewSimUser(ctx, sandbox.UserSpec{Phone: phone, FirstName: "Test", LangCode: "en", CloudPassword: "adapter cloud password"},
		sandbox.SimUserOptions{Profile: p, Middlewares: mw})
}

// User is newUser for a test, closed when it ends.
func (e *Env) User(t *testing.T, p sandbox.Profile, mw ...telegram.Middleware) *sandbox.SimUser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := e.newUser(ctx, p, mw...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// clock is kycbot's clock: the wall clock, moved ahead by the test.
type clock struct {
	mu    sync.Mutex
	ahead time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}
