package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gotd/log"
	"github.com/gotd/log/logslog"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/telegram/message"
	"github.com/gotd/td/telegram/updates"
	updhook "github.com/gotd/td/telegram/updates/hook"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// Keys are slow to generate: the tests share one server key and one bot
// key.
var (
	serverKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	botKey    = sync.OnceValues(func() (*rsa.PrivateKey, error) { return passport.GenerateKey(2048) })
)

func startSandbox(t testing.TB, opts Options) *Sandbox {
	t.Helper()
	key, err := serverKey()
	if err != nil {
		t.Fatal(err)
	}
	if opts.ServerKey == nil {
		opts.ServerKey = key
	}
	if opts.Logger == nil && os.Getenv("SANDBOX_LOG") != "" {
		opts.Logger = testLogger(t.Name())
	}
	sb, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return sb
}

// addTestBot registers a bot with the shared Passport key.
func addTestBot(t testing.TB, sb *Sandbox, username string) (Bot, *rsa.PrivateKey, string) {
	t.Helper()
	key, err := botKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bot, err := sb.AddBot(BotSpec{Username: username, PublicKeyPEM: string(pem), PrivacyPolicyURL: "https://example.com/privacy"})
	if err != nil {
		t.Fatal(err)
	}
	return bot, key, string(pem)
}

// memState is an in-memory updates.StateStorage that outlives a bot client.
type memState struct {
	mu     sync.Mutex
	states map[int64]updates.State
}

func newMemState() *memState { return &memState{states: map[int64]updates.State{}} }

func (m *memState) GetState(_ context.Context, id int64) (updates.State, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.states[id]
	return s, ok, nil
}

func (m *memState) SetState(_ context.Context, id int64, s updates.State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[id] = s
	return nil
}

func (m *memState) update(id int64, f func(*updates.State)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.states[id]
	if !ok {
		return errors.New("state not found")
	}
	f(&s)
	m.states[id] = s
	return nil
}

func (m *memState) SetPts(_ context.Context, id int64, v int) error {
	return m.update(id, func(s *updates.State) { s.Pts = v })
}

func (m *memState) SetQts(_ context.Context, id int64, v int) error {
	return m.update(id, func(s *updates.State) { s.Qts = v })
}

func (m *memState) SetDate(_ context.Context, id int64, v int) error {
	return m.update(id, func(s *updates.State) { s.Date = v })
}

func (m *memState) SetSeq(_ context.Context, id int64, v int) error {
	return m.update(id, func(s *updates.State) { s.Seq = v })
}

func (m *memState) SetDateSeq(_ context.Context, id int64, d, q int) error {
	return m.update(id, func(s *updates.State) { s.Date, s.Seq = d, q })
}

func (m *memState) GetChannelPts(context.Context, int64, int64) (int, bool, error) {
	return 0, false, nil
}

func (m *memState) SetChannelPts(context.Context, int64, int64, int) error { return nil }

func (m *memState) ForEachChannels(context.Context, int64, func(context.Context, int64, int) error) error {
	return nil
}

func (m *memState) pts(id int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[id].Pts
}

// incoming is a message a test bot received.
type incoming struct {
	msg      *tg.Message
	service  *tg.MessageService
	entities tg.Entities
	update   *tg.UpdateNewMessage
}

// testBot is a minimal gotd bot: a client logged in with the bot token,
// an updates manager with gap recovery and a persistent state storage, and
// channels of what it receives.
type testBot struct {
	t       testing.TB
	sb      *Sandbox
	bot     Bot
	session *session.StorageMemory
	state   *memState
	extra   []telegram.Middleware
	// resolver, when set, dials the servers (e.g. from a source address of
	// its own, resolverFrom).
	resolver dcs.Resolver

	in        chan incoming
	callbacks chan *tg.UpdateBotCallbackQuery

	mu     sync.Mutex
	client *telegram.Client
	api    *tg.Client
	sender *message.Sender
	cancel context.CancelFunc
	done   chan error
}

func newTestBot(t testing.TB, sb *Sandbox, bot Bot, mw ...telegram.Middleware) *testBot {
	return &testBot{
		t: t, sb: sb, bot: bot, session: &session.StorageMemory{}, state: newMemState(), extra: mw,
		in: make(chan incoming, 1000), callbacks: make(chan *tg.UpdateBotCallbackQuery, 100),
	}
}

// start runs the bot client until stop; it returns once the updates
// manager runs.
func (b *testBot) start(ctx context.Context) {
	b.t.Helper()
	d := tg.NewUpdateDispatcher()
	d.OnNewMessage(func(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
		in := incoming{entities: e, update: u}
		switch m := u.Message.(type) {
		case *tg.Message:
			if m.Out {
				return nil
			}
			in.msg = m
		case *tg.MessageService:
			in.service = m
		default:
			return nil
		}
		b.in <- in
		return nil
	})
	d.OnBotCallbackQuery(func(ctx context.Context, e tg.Entities, u *tg.UpdateBotCallbackQuery) error {
		b.callbacks <- u
		return nil
	})
	gaps := updates.New(updates.Config{Handler: d, Storage: b.state})
	opts := b.sb.Options(b.session)
	if b.resolver != nil {
		opts.Resolver = b.resolver
	}
	opts.UpdateHandler = gaps
	if os.Getenv("SANDBOX_LOG") != "" {
		opts.Logger = testLogger("bot")
	}
	opts.Middlewares = append(append([]telegram.Middleware(nil), b.extra...), updhook.UpdateHook(gaps.Handle))
	client := telegram.NewClient(1, "test", opts)
	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- client.Run(runCtx, func(ctx context.Context) error {
			status, err := client.Auth().Status(ctx)
			if err != nil {
				ready <- err
				return err
			}
			if !status.Authorized {
				if _, err := client.Auth().Bot(ctx, b.bot.Token); err != nil {
					ready <- err
					return err
				}
			}
			return gaps.Run(ctx, client.API(), b.bot.ID, updates.AuthOptions{
				IsBot:   true,
				OnStart: func(context.Context) { ready <- nil },
			})
		})
	}()
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			b.t.Fatalf("start bot: %v", err)
		}
	case err := <-done:
		cancel()
		b.t.Fatalf("bot stopped: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		b.t.Fatal("bot did not start in time")
	}
	b.mu.Lock()
	b.client, b.api, b.sender = client, client.API(), message.NewSender(client.API())
	b.cancel, b.done = cancel, done
	b.mu.Unlock()
	b.t.Cleanup(b.stop)
}

func (b *testBot) stop() {
	b.mu.Lock()
	cancel, done := b.cancel, b.done
	b.cancel, b.done = nil, nil
	b.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.t.Error("bot did not stop")
	}
}

func (b *testBot) API() *tg.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.api
}

func (b *testBot) Sender() *message.Sender {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sender
}

func (b *testBot) Client() *telegram.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.client
}

func (b *testBot) next(ctx context.Context) (incoming, error) {
	select {
	case in := <-b.in:
		return in, nil
	case <-ctx.Done():
		return incoming{}, fmt.Errorf("bot waits for a message: %w", ctx.Err())
	}
}

func testContext(t testing.TB, d time.Duration) context.Context {
	// d is what the test takes on an idle machine, with room; a loaded CI
	// machine (every package's tests at once, -race, 2048-bit key
	// exchanges) takes up to three times as long. A hang still fails.
	ctx, cancel := context.WithTimeout(context.Background(), 3*d)
	t.Cleanup(cancel)
	return ctx
}

func testRand() io.Reader { return rand.Reader }

// resolverFrom dials the sandbox from the source address ip.
func resolverFrom(t testing.TB, ip string) dcs.Resolver {
	t.Helper()
	r, err := ResolverFrom(ip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPub(t testing.TB, pem string) *rsa.PublicKey {
	t.Helper()
	k, err := passport.ParsePublicKey([]byte(pem))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testLogger logs to stderr at debug level (SANDBOX_LOG=1).
func testLogger(name string) log.Logger {
	return logslog.New(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", name))
}
