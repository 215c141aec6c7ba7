package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/contrib/middleware/floodwait"
	"github.com/gotd/log/logslog"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"golang.org/x/time/rate"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/gotd"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/bot/metrics"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/web"
)

// Defaults of Options.
const (
	// DefaultRateLimit and DefaultRateBurst bound the Telegram calls per
	// second that act on chats and users (messages, callback answers,
	// Passport errors) of one instance, below Telegram's limits for bots.
	// File downloads and update fetching are not limited.
	DefaultRateLimit = 25
	DefaultRateBurst = 30
	// DefaultReceiverLease is how long the receiver's lease lasts without
	// renewal: another instance starts receiving updates at most this
	// long after the receiver stopped (crash, kill, lost network).
	DefaultReceiverLease = 10 * time.Second
	// MaxFloodWait is the longest FLOOD_WAIT the bot waits out by itself;
	// longer ones fail the call (and a submission is retried later).
	MaxFloodWait = 5 * time.Minute
	// floodRetries is how many FLOOD_WAITs of one call are waited out.
	floodRetries = 5
)

// Options configure a Runner. The zero value is usable.
type Options struct {
	// Logger receives the logs (default: none). Nothing personal is ever
	// logged.
	Logger *slog.Logger
	// Bot are options of the bot (hooks, clock, instance name, ...),
	// after the runner's own.
	Bot []bot.Option
	// Telegram changes the gotd client options after kycbot has set its
	// own and those of the config's telegram.server; for tests (a dialer
	// from a given source address, say).
	Telegram func(*telegram.Options)
	// LocalAddr, when set, is the local IP address the instance connects
	// to Telegram from (a host with several addresses; each instance of a
	// bot may use its own).
	LocalAddr string
	// Listen, when set, is the address the web server listens on instead
	// of the config's web.listen (several instances on one host).
	Listen string
	// Listener, when set, serves the web server instead of a listener on
	// Listen or the config's web.listen.
	Listener net.Listener
	// RateLimit and RateBurst bound the calls per second of this instance
	// that act on chats (DefaultRateLimit, DefaultRateBurst when both are
	// zero); a negative RateLimit turns the limit off.
	RateLimit float64
	RateBurst int
	// ReceiverLease is the receiver's lease (default DefaultReceiverLease).
	ReceiverLease time.Duration
	// StateFlushDelay is how long the receiver holds back a change of
	// gotd's updates state before writing it with the others (default
	// store.StateFlushDelay); what is held back is written when it stops
	// receiving.
	StateFlushDelay time.Duration
	// OnReady is called once the bot works the queue and serves its web
	// page.
	OnReady func(Info)
	// OnReceiving is called every time this instance starts receiving
	// Telegram's updates (it took the receiver's lease).
	OnReceiving func()
}

// Info describes a running instance.
type Info struct {
	// ID and Username are the bot's Telegram user ID and username.
	ID       int64
	Username string
	// Instance is this process's name among the bot's instances.
	Instance string
	// WebAddr is the address the web server listens on.
	WebAddr net.Addr
	// OpsAddr is the address of the operations server (/healthz, /readyz
	// and /metrics) on web.ops_listen; nil when ops_listen is public
	// (WebAddr serves them).
	OpsAddr net.Addr
}

// Runner is the standalone bot: one instance of it.
type Runner struct {
	kyc       *bot.Bot
	o         Options
	log       *slog.Logger
	receiving atomic.Bool
}

// New prepares the standalone bot of cfg (bot.New with WithEverything:
// every private message and button tap is kycbot's). It does not talk to
// Telegram.
func New(ctx context.Context, cfg *config.Config, o Options) (*Runner, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RateLimit == 0 && o.RateBurst == 0 {
		o.RateLimit, o.RateBurst = DefaultRateLimit, DefaultRateBurst
	}
	if o.ReceiverLease <= 0 {
		o.ReceiverLease = DefaultReceiverLease
	}
	opts := append([]bot.Option{bot.WithLogger(o.Logger), bot.WithEverything()}, o.Bot...)
	kyc, err := bot.New(ctx, cfg, opts...)
	if err != nil {
		return nil, err
	}
	return &Runner{kyc: kyc, o: o, log: o.Logger}, nil
}

// Bot returns the runner's bot (for Reload, the store, the metrics).
func (r *Runner) Bot() *bot.Bot { return r.kyc }

// Receiving reports whether this instance receives Telegram's updates now.
func (r *Runner) Receiving() bool { return r.receiving.Load() }

// Run runs the instance until ctx ends, then closes the bot:
//
//   - it takes the instance name (bot.WithInstance; it waits a lease time
//     for a process of the same name that just stopped) and logs in to
//     Telegram with the instance's own session, kept sealed in Redis
//     across restarts (one authorization per instance: Telegram kills an
//     auth key used from two places at once);
//   - it works kycbot's queue (bot.Run), serves the request page on
//     web.listen and the health checks and metrics on web.ops_listen (on
//     web.listen too when ops_listen is public);
//   - it competes for the receiver's lease: the one instance holding it
//     runs gotd's updates manager on the bot's shared updates state and
//     puts kycbot's updates in the queue; when it stops, another instance
//     takes the lease within a lease time (ReceiverLease) and catches up
//     from where the updates state stands. The receiver registers the
//     commands with Telegram when it starts.
//
// On the Bot API (telegram.transport botapi) it does the same without
// an MTProto client or a session, receiving by long polling (the
// receiver's lease) or a webhook (every instance): see the package doc.
//
// When ctx ends it stops receiving (handing the lease over at once),
// stops taking web requests, lets the updates being handled finish
// (bot.WithShutdownTimeout; the others stay in the queue for another
// instance) and disconnects.
func (r *Runner) Run(ctx context.Context) (err error) {
	defer func() {
		if cerr := r.kyc.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	cfg := r.kyc.Config() // what Run reads cannot change with Reload
	if err := cfg.RequireTelegram(); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	token := cfg.Telegram.BotToken.Value()
	botID, err := passport.BotIDFromToken(token)
	if err != nil {
		return fmt.Errorf("runner: telegram.bot_token: %w", err)
	}
	if err := metrics.RegisterRuntime(r.kyc.Registry()); err != nil {
		r.log.WarnContext(ctx, "runner: no Go runtime metrics", slog.String("error", err.Error()))
	}
	var opsListen string // "": served on web.listen
	if cfg.Web.SeparateOps() {
		opsListen = cfg.Web.OpsListen
	}
	opsAddr, stopOps, err := r.serveOps(ctx, opsListen)
	if err != nil {
		return err
	}
	defer stopOps()
	if opsListen != "" {
		r.kyc.SetOpsAddr(opsAddr) // the review links point there
	}
	ln := r.o.Listener
	if ln == nil {
		addr := cfg.Web.Listen
		if r.o.Listen != "" {
			addr = r.o.Listen
		}
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("runner: listen on %s (web.listen, or --listen): %w", addr, err)
		}
	}
	// Closed whatever happens (closing it again after the server did is
	// harmless).
	defer func() { _ = ln.Close() }()
	srv := web.NewHTTPServer(r.webHandler(cfg, token), slog.NewLogLogger(r.log.Handler(), slog.LevelWarn))
	defer srv.Close()
	r.log.InfoContext(ctx, "runner: talking to Telegram", describeTransport(cfg)...)
	if cfg.Telegram.OnBotAPI() {
		return r.runBotAPI(ctx, cfg, token, botID, srv, ln, opsAddr)
	}

	release, err := r.kyc.HoldInstance(ctx, botID)
	if err != nil {
		return err
	}
	defer release()
	sessions := r.kyc.SessionStorage(ctx, botID)

	gotdLog := logslog.New(slog.New(minLevel{h: r.log.Handler(), min: slog.LevelWarn}).With(slog.String("component", "gotd")))
	recv := &receiver{}
	// clientCtx outlives ctx while the work in progress drains.
	clientCtx, stopClient := context.WithCancel(context.WithoutCancel(ctx))
	defer stopClient()
	mws := []telegram.Middleware{
		floodwait.NewSimpleWaiter().WithMaxRetries(floodRetries).WithMaxWait(MaxFloodWait),
		floodLog{log: r.log},
	}
	if r.o.RateLimit > 0 {
		mws = append(mws, sendLimit{limit: newPriorityLimit(rate.Limit(r.o.RateLimit), max(r.o.RateBurst, 1))})
	}
	// Beneath the flood waiter: every FLOOD_WAIT is counted, even those
	// waited out.
	mws = append(mws, r.kyc.Metrics().Middleware(), updatesHook{base: clientCtx, handle: recv.Handle, log: r.log})
	var connected atomic.Int32
	topts := telegram.Options{
		SessionStorage: sessions,
		UpdateHandler:  recv,
		Middlewares:    mws,
		Logger:         gotdLog,
		OnConnectionState: func(s telegram.ConnectionState) {
			// gotd's updates manager does not fetch what was missed while
			// the connection was down: ask it to (getDifference).
			if s == telegram.ConnectionStateReady && connected.Add(1) > 1 {
				go func() {
					if err := recv.Handle(clientCtx, &tg.UpdatesTooLong{}); err != nil {
						r.log.WarnContext(clientCtx, "runner: catching up after a reconnect failed", slog.String("error", err.Error()))
					}
				}()
			}
		},
	}
	if err := cfg.Telegram.Server.Apply(&topts); err != nil {
		return fmt.Errorf("runner: telegram.server: %w", err)
	}
	if r.o.LocalAddr != "" {
		ip := net.ParseIP(r.o.LocalAddr)
		if ip == nil {
			return fmt.Errorf("runner: local address %q is not an IP address", r.o.LocalAddr)
		}
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		topts.Resolver = dcs.Plain(dcs.PlainOptions{Dial: d.DialContext})
	}
	if r.o.Telegram != nil {
		r.o.Telegram(&topts)
	}
	client := telegram.NewClient(cfg.Telegram.AppID, cfg.Telegram.AppHash.Value(), topts)

	done := make(chan error, 1)
	go func() {
		done <- client.Run(clientCtx, func(cctx context.Context) error {
			return r.session(ctx, cctx, client, recv, token, srv, ln, opsAddr)
		})
	}()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		r.log.InfoContext(ctx, "runner: stopping: finishing the work in progress")
		sctx, cancel := context.WithTimeout(context.Background(), r.kyc.ShutdownTimeout())
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.WarnContext(sctx, "runner: web server shutdown", slog.String("error", err.Error()))
		}
		cancel()
		runErr = <-done
	}
	stopClient()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("runner: %w", runErr)
	}
	r.log.Info("runner: stopped")
	return nil
}

// session is what Run does once connected: log in, work the queue, serve
// the web page and compete for the receiver's lease, until ctx (Run's)
// ends; the workers drain on cctx (the client's), which outlives it.
func (r *Runner) session(ctx, cctx context.Context, client *telegram.Client, recv *receiver,
	token string, srv *http.Server, ln net.Listener, opsAddr net.Addr) error {
	status, err := client.Auth().Status(cctx)
	if err != nil {
		return fmt.Errorf("auth status: %w", err)
	}
	if !status.Authorized {
		if _, err := client.Auth().Bot(cctx, token); err != nil {
			return fmt.Errorf("log in with the bot token (check telegram.bot_token, app_id and app_hash): %w", err)
		}
		r.log.InfoContext(ctx, "runner: logged in to Telegram with a new authorization of this instance", slog.String("instance", r.kyc.Instance()))
	}
	t := gotd.NewTransport(r.kyc, client.API())
	self, err := t.Self(cctx)
	if err != nil {
		return fmt.Errorf("who am I: %w", err)
	}

	workCtx, stopWork := context.WithCancel(cctx)
	defer stopWork()
	stopOnCtx := context.AfterFunc(ctx, stopWork)
	defer stopOnCtx()
	working := make(chan error, 1)
	go func() { working <- r.kyc.Run(workCtx, t) }()
	if stopped, err := r.serveWhenReady(ctx, cctx, working, srv, ln, opsAddr, self); stopped {
		if err != nil {
			return err
		}
		stopWork()
		return <-working
	}

	r.receiveMTProto(ctx, client.API(), self, recv)
	err = <-working
	if err != nil {
		return fmt.Errorf("work the queue: %w", err)
	}
	return nil
}

// serveWhenReady waits until the workers are wired (the web handler
// answers 503 before), checking with readyCtx, then serves the web server
// on ln and announces the instance (log, OnReady). It reports stopped
// when it did not get there: the workers failed (the error) or ctx
// ended (nil).
func (r *Runner) serveWhenReady(ctx, readyCtx context.Context, working <-chan error, srv *http.Server, ln net.Listener,
	opsAddr net.Addr, self bot.Self) (stopped bool, err error) {
	for r.kyc.Ready(readyCtx) != nil {
		select {
		case err := <-working:
			return true, fmt.Errorf("work the queue: %w", err)
		case <-ctx.Done():
			return true, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.ErrorContext(ctx, "runner: web server stopped", slog.String("error", err.Error()))
		}
	}()
	r.log.InfoContext(ctx, "runner: running", slog.Int64("bot_id", self.ID), slog.String("instance", r.kyc.Instance()),
		slog.String("web", ln.Addr().String()), opsAttr(opsAddr))
	if r.o.OnReady != nil {
		r.o.OnReady(Info{ID: self.ID, Username: self.Username, Instance: r.kyc.Instance(), WebAddr: ln.Addr(), OpsAddr: opsAddr})
	}
	return false, nil
}

// receiveMTProto competes for the receiver's lease until ctx ends, and
// runs gotd's updates manager while it holds it.
func (r *Runner) receiveMTProto(ctx context.Context, api *tg.Client, self bot.Self, recv *receiver) {
	st := r.kyc.Store()
	r.receive(ctx, self, func(leaseCtx context.Context, started func(context.Context)) error {
		state := st.Sessions().StateStorage()
		if r.o.StateFlushDelay > 0 {
			state.SetFlushDelay(r.o.StateFlushDelay)
		}
		defer func() {
			// The state changes held back, written before another instance
			// takes the lease over (or this process stops).
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := state.Flush(fctx); err != nil {
				r.log.WarnContext(ctx, "runner: cannot write the updates state; Telegram will send the last updates again, and the queue drops those already queued",
					slog.String("error", err.Error()))
			}
		}()
		gaps := updates.New(updates.Config{
			Handler: gotd.Hook(r.kyc, nil, gotd.WithoutAccessHashes()), Storage: state,
			AccessHasher: st.Sessions().AccessHasher(), UserAccessHasher: st.Sessions().UserAccessHasher(),
			Logger: logslog.New(slog.New(minLevel{h: r.log.Handler(), min: slog.LevelWarn}).With(slog.String("component", "gotd"))),
		})
		recv.set(gaps)
		defer recv.set(nil)
		return gaps.Run(leaseCtx, api, self.ID, updates.AuthOptions{IsBot: true, OnStart: started})
	})
}

// receive competes for the receiver's lease until ctx ends, and runs
// run while it holds it: run receives Telegram's updates for every
// instance until its context ends (the lease lost, or ctx), calling
// started once it receives. The first time, the receiver registers the
// commands with Telegram.
func (r *Runner) receive(ctx context.Context, self bot.Self, run func(ctx context.Context, started func(context.Context)) error) {
	leases := r.kyc.Store().Leases()
	name := "receiver:" + strconv.FormatInt(self.ID, 10)
	var tok [6]byte
	_, _ = rand.Read(tok[:])
	holder := r.kyc.Instance() + ":" + hex.EncodeToString(tok[:])
	lease := r.o.ReceiverLease
	commandsSet := false
	started := func(ctx context.Context) {
		r.receiving.Store(true)
		r.kyc.Metrics().Receiving(true)
		r.log.InfoContext(ctx, "runner: receiving Telegram's updates for every instance", slog.String("instance", r.kyc.Instance()))
		if !commandsSet {
			commandsSet = true
			if err := r.kyc.SetCommands(ctx); err != nil {
				r.log.WarnContext(ctx, "runner: cannot register the commands with Telegram", slog.String("error", err.Error()))
			}
		}
		if r.o.OnReceiving != nil {
			r.o.OnReceiving()
		}
	}
	for ctx.Err() == nil {
		ok, err := leases.Acquire(ctx, name, holder, lease)
		if err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "runner: cannot compete for the receiver's lease", slog.String("error", err.Error()))
		}
		if !ok {
			_ = wait.Sleep(ctx, min(lease/5, time.Second))
			continue
		}
		leaseCtx, lost := context.WithCancel(ctx)
		var renewing sync.WaitGroup
		renewing.Go(func() { r.renew(leaseCtx, lost, name, holder) })
		err = run(leaseCtx, started)
		r.receiving.Store(false)
		r.kyc.Metrics().Receiving(false)
		lost()
		renewing.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if rerr := leases.Release(rctx, name, holder); rerr != nil {
			r.log.WarnContext(rctx, "runner: cannot hand the receiver's lease over; another instance takes it when it runs out", slog.String("error", rerr.Error()))
		}
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			r.log.ErrorContext(ctx, "runner: receiving stopped; competing for the lease again", slog.String("error", err.Error()))
			_ = wait.Sleep(ctx, time.Second)
		}
	}
}

// renew renews the receiver's lease every third of its time until ctx
// ends; when the lease is lost (another instance holds it, or Redis did
// not answer for a whole lease time) it calls lost.
func (r *Runner) renew(ctx context.Context, lost context.CancelFunc, name, holder string) {
	lease := r.o.ReceiverLease
	t := time.NewTicker(lease / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, lease/3)
		ok, err := r.kyc.Store().Leases().Renew(rctx, name, holder, lease)
		cancel()
		switch {
		case err == nil && ok:
			last = time.Now()
		case err == nil:
			r.log.WarnContext(ctx, "runner: the receiver's lease was lost to another instance; stopping receiving")
			lost()
			return
		case time.Since(last) > lease:
			r.log.WarnContext(ctx, "runner: cannot renew the receiver's lease; stopping receiving", slog.String("error", err.Error()))
			lost()
			return
		}
	}
}

// receiver is the client's update handler: the updates manager of this
// instance while it receives, nothing otherwise (another instance
// receives: what Telegram pushes here is dropped).
type receiver struct {
	mu  sync.Mutex
	cur telegram.UpdateHandler
}

func (r *receiver) set(h telegram.UpdateHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = h
}

// Handle implements telegram.UpdateHandler.
func (r *receiver) Handle(ctx context.Context, u tg.UpdatesClass) error {
	r.mu.Lock()
	h := r.cur
	r.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.Handle(ctx, u)
}
