package demo

import (
	"context"
	"crypto/rsa"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/botapi"
	"github.com/kycbot/kycbot/store"
)

//go:embed config.yaml
var defaultConfig string

// DefaultConfig returns the demo configuration (YAML with the
// placeholders Options.ConfigYAML describes).
func DefaultConfig() string { return defaultConfig }

// DefaultRedisAddr is where Start looks for Redis.
const DefaultRedisAddr = "127.0.0.1:6379"

// BotUsername is the username of the demo bot.
const BotUsername = "kycbot_demo_bot"

// Options configure Start. The zero value is usable.
type Options struct {
	// Redis, when set, is used as is (RedisAddr and the fallback are
	// ignored).
	Redis redis.UniversalClient
	// RedisAddr is the Redis to use (default DefaultRedisAddr).
	RedisAddr string
	// RequireRedis makes Start fail when Redis does not answer, instead of
	// falling back to an in-process server.
	RequireRedis bool
	// Prefix starts every Redis key (default "kycbot-sandbox:<random>:",
	// so runs never see each other's keys).
	Prefix string
	// ConfigYAML replaces the demo configuration; "{{BOT_TOKEN}}",
	// "{{PUBLIC_URL}}", "{{REDIS_ADDR}}" and "{{REDIS_PREFIX}}" in it are
	// filled in.
	ConfigYAML string
	// Key is the bot's Passport key (default: a new 2048-bit key).
	Key *rsa.PrivateKey
	// Sandbox configures the local Telegram.
	Sandbox sandbox.Options
	// Logger receives the bot's logs (default: none).
	Logger *slog.Logger
	// BotOptions are added to the bot's options (hooks, clock, ...).
	BotOptions []bot.Option
	// Runner sets the runner's options (rate limit, receiver lease);
	// Logger, Bot, Telegram, Listener and the callbacks are the demo's.
	Runner runner.Options
	// Resolver, when set, dials the sandbox for the bot's main instance
	// (StartBot) and the demo's users (NewUser, RunScenario) instead of
	// plain TCP with the intermediate transport: for instance
	// dcs.Plain(dcs.PlainOptions{Protocol: transport.Abridged,
	// Obfuscated: true}), the obfuscated transport of Telegram's apps.
	// The instances of StartInstance keep their own source addresses.
	Resolver dcs.Resolver
}

// Env is a running sandbox with the demo bot.
type Env struct {
	// Sandbox is the local Telegram.
	Sandbox *sandbox.Sandbox
	// Account is the bot's account in the sandbox.
	Account sandbox.Bot
	// Config is the bot's configuration.
	Config *config.Config
	// Key is the bot's Passport private key.
	Key *rsa.PrivateKey
	// Redis is the Redis client the bot uses.
	Redis redis.UniversalClient
	// InMemory is true when Redis is the in-process fallback.
	InMemory bool
	// BotAPI is the Bot API front over the sandbox, on a free port of
	// 127.0.0.1, and BotAPIURL its base URL (telegram.bot_api_url): a bot
	// on the Bot API reaches the same Telegram there.
	BotAPI    *botapi.Server
	BotAPIURL string

	opts Options
	mini *miniredis.Miniredis
	web  *webListener

	mu     sync.Mutex
	bot    *bot.Bot
	info   runner.Info
	cancel context.CancelFunc
	done   chan error
	// instances are those StartInstance started, stopped by Close.
	instances []*Instance
}

// Start starts the sandbox, registers the demo bot with a fresh key, and
// runs the bot until Close.
//
// ctx bounds the whole life of the sandbox, not only the start: the local
// Telegram's servers stop when ctx is done (as sandbox.Start documents),
// and from then on every connection is refused, the bot's and the users'
// alike. Pass a context that lasts as long as the Env and stop the Env
// with Close: a start-up timeout in ctx would end the sandbox when it
// expires. ctx also bounds the start of the bot (StartBot); the bot
// itself and the Bot API front run until Close.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	e := &Env{opts: opts}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	if err := e.openRedis(ctx); err != nil {
		return nil, err
	}
	if e.Sandbox, e.Account, e.Key, err = startAccount(ctx, opts.Key, opts.Sandbox); err != nil {
		return nil, err
	}
	if e.BotAPI, e.BotAPIURL, err = startBotAPI(ctx, e.Sandbox, ""); err != nil {
		return nil, err
	}
	if e.web, err = listenWeb("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: web listener: %w", err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = NewPrefix()
	}
	yml := opts.ConfigYAML
	if yml == "" {
		yml = defaultConfig
	}
	yml = strings.NewReplacer("{{BOT_TOKEN}}", e.Account.Token, "{{PUBLIC_URL}}", "http://"+e.web.Addr().String(),
		"{{REDIS_ADDR}}", e.redisAddr(), "{{REDIS_PREFIX}}", prefix).Replace(yml)
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	if e.Config, err = config.Parse([]byte(yml), "demo config", noEnv); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// A bot on the Bot API reaches the sandbox through its front.
	e.Config.Telegram.BotAPIURL = e.BotAPIURL
	if err := e.StartBot(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) redisAddr() string {
	if e.opts.RedisAddr != "" {
		return e.opts.RedisAddr
	}
	return DefaultRedisAddr
}

// openRedis connects to Redis or starts the in-process fallback.
func (e *Env) openRedis(ctx context.Context) error {
	if e.opts.Redis != nil {
		e.Redis = e.opts.Redis
		return nil
	}
	c, err := store.Open(ctx, store.Config{Addrs: []string{e.redisAddr()}})
	if err == nil {
		e.Redis = c
		return nil
	}
	if e.opts.RequireRedis || !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("demo: %w", err)
	}
	e.mini = miniredis.NewMiniRedis()
	if err := e.mini.Start(); err != nil {
		return fmt.Errorf("demo: in-process redis: %w", err)
	}
	if e.Redis, err = store.Open(ctx, store.Config{Addrs: []string{e.mini.Addr()}}); err != nil {
		return fmt.Errorf("demo: in-process redis: %w", err)
	}
	e.InMemory = true
	return nil
}

// StartBot starts the bot's main instance (again, after StopBot: a
// restart with its session and the updates state kept in Redis, serving
// the request pages on the address of the links already sent) and
// returns once it receives updates (it takes the receiver's lease, which
// an instance that was receiving may hold for up to the lease time).
func (e *Env) StartBot(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bot != nil {
		return errors.New("demo: the bot is already running")
	}
	// The web address stays the same across restarts, so that the links
	// already sent keep working.
	ln := e.web.run()
	r, err := e.launch(ctx, ln, e.Config, e.opts.Logger, MainInstance, "", true)
	if err != nil {
		return err
	}
	e.bot, e.info, e.cancel, e.done = r.bot, r.info, r.cancel, r.done
	return nil
}

// running is a bot launched by launch.
type running struct {
	bot    *bot.Bot
	run    *runner.Runner
	info   runner.Info
	cancel context.CancelFunc
	done   chan error
}

// MainInstance is the instance name of the bot StartBot runs.
const MainInstance = "main"

// launch runs an instance of the bot on the sandbox with cfg, serving its
// web page on ln, and returns once it works the queue (and, with
// receiving, once it receives Telegram's updates).
func (e *Env) launch(ctx context.Context, ln net.Listener, cfg *config.Config, logger *slog.Logger, instance, localAddr string, receiving bool, extra ...bot.Option) (*running, error) {
	ready := make(chan runner.Info, 1)
	recv := make(chan struct{}, 1)
	opts := append([]bot.Option{bot.WithRedis(e.Redis), bot.WithPrivateKey(e.Key), bot.WithInstance(instance)}, e.opts.BotOptions...)
	opts = append(opts, extra...)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ro := e.opts.Runner
	ro.Logger, ro.Bot, ro.Listener, ro.LocalAddr = logger, opts, ln, localAddr
	ro.Telegram = func(o *telegram.Options) {
		so := e.Sandbox.Options(nil)
		o.PublicKeys, o.DCList, o.DC = so.PublicKeys, so.DCList, so.DC
		if e.opts.Resolver != nil && localAddr == "" {
			o.Resolver = e.opts.Resolver
		}
	}
	ro.OnReady = func(i runner.Info) { ready <- i }
	ro.OnReceiving = func() {
		select {
		case recv <- struct{}{}:
		default:
		}
	}
	r, err := runner.New(ctx, cfg, ro)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	// The label marks every goroutine of the bot (gotd's included), so
	// that a CPU profile tells the bot's share from the sandbox's:
	// go tool pprof -tagfocus=kycbot=bot.
	go pprof.Do(runCtx, pprof.Labels("kycbot", "bot"), func(ctx context.Context) { done <- r.Run(ctx) })
	fail := func(err error) (*running, error) {
		cancel()
		return nil, err
	}
	var info runner.Info
	select {
	case info = <-ready:
	case err := <-done:
		return fail(fmt.Errorf("demo: the bot stopped: %w", err))
	case <-ctx.Done():
		cancel()
		<-done
		return nil, fmt.Errorf("demo: the bot did not start: %w", ctx.Err())
	}
	if receiving {
		select {
		case <-recv:
		case err := <-done:
			return fail(fmt.Errorf("demo: the bot stopped: %w", err))
		case <-ctx.Done():
			cancel()
			<-done
			return nil, fmt.Errorf("demo: the bot did not start receiving updates: %w", ctx.Err())
		}
	}
	return &running{bot: r.Bot(), run: r, info: info, cancel: cancel, done: done}, nil
}

// Instance is another process of the same bot, started by StartInstance.
type Instance struct {
	r    *running
	once sync.Once
	err  error
}

// StartInstance starts another instance of the bot, as a second process
// of a deployment would be: the same bot account, Redis, prefix, config
// and key, an instance name and Telegram authorization of its own (it
// connects to the sandbox from a loopback address of its own: 127.0.0.2
// for the first one started, and so on), the
// options of Options.BotOptions followed by opts, and a web server of its
// own on a new loopback port (the links the users get still point at the
// first instance's). One of the instances receives Telegram's updates;
// any instance handles them. It returns once the instance works the
// queue. Stop it with Instance.Stop (Close stops the instances still
// running).
func (e *Env) StartInstance(ctx context.Context, name string, opts ...bot.Option) (*Instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: web listener: %w", err)
	}
	logger := e.opts.Logger
	if logger != nil {
		logger = logger.With(slog.String("instance", name))
	}
	e.mu.Lock()
	from := fmt.Sprintf("127.0.0.%d", 2+len(e.instances))
	e.mu.Unlock()
	r, err := e.launch(ctx, ln, e.Config, logger, name, from, false, opts...)
	if err != nil {
		return nil, err
	}
	in := &Instance{r: r}
	e.mu.Lock()
	e.instances = append(e.instances, in)
	e.mu.Unlock()
	return in, nil
}

// Bot returns the instance's bot.
func (i *Instance) Bot() *bot.Bot { return i.r.bot }

// Info describes the instance.
func (i *Instance) Info() runner.Info { return i.r.info }

// Runner returns the instance's runner.
func (i *Instance) Runner() *runner.Runner { return i.r.run }

// Stop stops the instance gracefully (work in progress finishes); a
// second call returns the first one's result.
func (i *Instance) Stop() error {
	i.once.Do(func() {
		i.r.cancel()
		if err := <-i.r.done; err != nil {
			i.err = fmt.Errorf("demo: bot instance: %w", err)
		}
	})
	return i.err
}

// StopBot stops the bot gracefully (work in progress finishes); the
// sandbox keeps running. The request pages are down until StartBot
// (connections are closed), on the same address as before.
func (e *Env) StopBot() error {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.bot, e.cancel, e.done = nil, nil, nil
	e.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	if err := <-done; err != nil {
		return fmt.Errorf("demo: bot: %w", err)
	}
	return nil
}

// Bot returns the running bot (nil while stopped).
func (e *Env) Bot() *bot.Bot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bot
}

// Info describes the running bot.
func (e *Env) Info() runner.Info {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.info
}

// NewUser registers a simulated user with a cloud password and a profile
// (SampleProfile of the phone number when nil) and logs them in.
func (e *Env) NewUser(ctx context.Context, spec sandbox.UserSpec, p sandbox.Profile) (*sandbox.SimUser, error) {
	if spec.CloudPassword == "" {
		spec.CloudPassword = "demo cloud password"
	}
	if spec.FirstName == "" {
		spec.FirstName = "Demo"
	}
	u, err := e.Sandbox.NewSimUser(ctx, spec, sandbox.SimUserOptions{Profile: p, Resolver: e.opts.Resolver})
	if err != nil {
		return nil, fmt.Errorf("demo: user: %w", err)
	}
	return u, nil
}

// Close stops the bot, its other instances and the sandbox; an
// in-process Redis goes with them.
func (e *Env) Close() error {
	err := e.StopBot()
	e.mu.Lock()
	instances := e.instances
	e.instances = nil
	e.mu.Unlock()
	for _, in := range instances {
		err = errors.Join(err, in.Stop())
	}
	if e.BotAPI != nil {
		err = errors.Join(err, e.BotAPI.Close())
	}
	if e.Sandbox != nil {
		err = errors.Join(err, e.Sandbox.Close())
	}
	if e.Redis != nil && e.opts.Redis == nil {
		err = errors.Join(err, e.Redis.Close())
	}
	if e.mini != nil {
		e.mini.Close()
	}
	if e.web != nil {
		_ = e.web.close()
	}
	return err
}

// DeleteKeys removes every key of the run (those under its prefix) from
// Redis. Stop the bot first.
func (e *Env) DeleteKeys(ctx context.Context) error {
	_, err := DeleteKeys(ctx, e.Redis, e.Config.Redis.Prefix)
	return err
}

// waitFor is how long scenario steps wait for the bot.
const waitFor = 60 * time.Second
