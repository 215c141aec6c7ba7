package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/contrib/middleware/ratelimit"
	"github.com/gotd/log/logslog"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"golang.org/x/time/rate"

	"github.com/kycbot/kycbot/bot/metrics"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/web"
)

// MaxFloodWait is the longest FLOOD_WAIT the bot waits out by itself;
// longer ones fail the call (and a submission is retried later).
const MaxFloodWait = 5 * time.Minute

// Run runs the standalone bot until ctx ends: a gotd client logged in with
// the bot token (its session kept in Redis), the updates manager on the
// Redis state storage (so updates sent while the bot was down are
// processed after a restart, exactly once), flood-wait and rate-limit
// middlewares, the conversation and the passport handler, and the web
// server on web.listen (and, when web.ops_listen is set, the operations
// server there: OpsHandler, from the start until Run returns, so that
// /healthz and /metrics answer while Run logs in and drains). When ctx
// ends it stops taking new HTTP requests,
// lets the work in progress finish (WithShutdownTimeout) and disconnects.
// The passport submissions the shutdown timeout cuts short (or that
// arrive too late to start) are left to the next start: once gotd's
// updates manager has stopped, Run forgets their dedupe marks and rolls
// the saved updates state back before the earliest of them, so that
// Telegram delivers them again (see WithShutdownTimeout). It closes the
// Bot when it returns.
//
// The bot is ready (Ready, /readyz) from the moment the updates manager
// has started until the session ends or Run is asked to stop. The
// middlewares count the errors of Telegram calls in the metrics, and the
// Go runtime and process series are added to Registry.
func (b *Bot) Run(ctx context.Context) (err error) {
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), b.o.shutdownTimeout)
		defer cancel()
		if cerr := b.Close(cctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	cfg := b.current().cfg // the settings Run reads cannot change with Reload
	if err := cfg.RequireTelegram(); err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	b.standalone.Store(true)
	if err := metrics.RegisterRuntime(b.reg); err != nil {
		b.log.WarnContext(ctx, "bot: no Go runtime metrics", slog.String("error", err.Error()))
	}
	token := cfg.Telegram.BotToken.Value()
	botID, err := passport.BotIDFromToken(token)
	if err != nil {
		return fmt.Errorf("bot: telegram.bot_token: %w", err)
	}
	opsAddr, stopOps, err := b.serveOps(ctx, cfg.Web.OpsListen)
	if err != nil {
		return err
	}
	defer stopOps()
	ln := b.o.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Web.Listen); err != nil {
			return fmt.Errorf("bot: web.listen: %w", err)
		}
	}
	// Closed whatever happens, even when Run fails before serving it
	// (closing it again after the server did is harmless).
	defer func() { _ = ln.Close() }()
	srv := web.NewHTTPServer(b.Handler(), slog.NewLogLogger(b.log.Handler(), slog.LevelWarn))
	defer srv.Close()

	gotdLog := logslog.New(slog.New(minLevel{h: b.log.Handler(), min: slog.LevelWarn}).With(slog.String("component", "gotd")))
	d := tg.NewUpdateDispatcher()
	gaps := updates.New(updates.Config{
		Handler: &d, Storage: ptsFloor{StateStorage: b.store.Sessions().StateStorage(), floor: &b.work.floor}, AccessHasher: b.store.Sessions().AccessHasher(),
		UserAccessHasher: b.store.Sessions().UserAccessHasher(), Logger: gotdLog,
	})
	// FLOOD_WAIT is waited out in the calling goroutine (see floodWaiter:
	// gotd/contrib's floodwait.Waiter hangs the downloads from another DC).
	mws := []telegram.Middleware{newFloodWaiter(MaxFloodWait, func(ctx context.Context, d time.Duration) {
		b.log.WarnContext(ctx, "bot: telegram asked to wait", slog.Duration("wait", d))
	})}
	if b.o.rateLimit > 0 {
		mws = append(mws, sendLimit{limit: ratelimit.New(rate.Limit(b.o.rateLimit), max(b.o.rateBurst, 1))})
	}
	// clientCtx outlives ctx while the work in progress drains.
	clientCtx, stopClient := context.WithCancel(context.WithoutCancel(ctx))
	defer stopClient()
	// Inside the flood-wait middleware: every FLOOD_WAIT is counted, even
	// those waited out.
	mws = append(mws, b.metrics.Middleware(), updatesHook{base: clientCtx, handle: gaps.Handle, log: b.log})
	var connected atomic.Int32
	topts := telegram.Options{
		SessionStorage: b.sessionStorage(ctx, botID),
		UpdateHandler:  gaps,
		Middlewares:    mws,
		Logger:         gotdLog,
		OnConnectionState: func(s telegram.ConnectionState) {
			// gotd's updates manager does not fetch what was missed while
			// the connection was down: ask it to (getDifference).
			if s == telegram.ConnectionStateReady && connected.Add(1) > 1 {
				go func() {
					if err := gaps.Handle(clientCtx, &tg.UpdatesTooLong{}); err != nil {
						b.log.WarnContext(clientCtx, "bot: catching up after a reconnect failed", slog.String("error", err.Error()))
					}
				}()
			}
		},
	}
	for _, f := range b.o.telegram {
		f(&topts)
	}
	client := telegram.NewClient(cfg.Telegram.AppID, cfg.Telegram.AppHash.Value(), topts)

	// The webhook sender runs beside the client and stops with it.
	snd, err := b.sender()
	if err != nil {
		return err
	}
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		if snd == nil {
			return
		}
		if err := snd.Run(clientCtx); err != nil && !errors.Is(err, context.Canceled) {
			b.log.ErrorContext(clientCtx, "bot: webhook sender stopped", slog.String("error", err.Error()))
		}
	}()
	defer func() { stopClient(); <-senderDone }()

	// The journal sweeper starts once the updates manager is up, and
	// takes nothing more once Run is asked to stop (or the client stops).
	started := make(chan struct{})
	var startOnce sync.Once
	sweepCtx, stopSweep := context.WithCancel(clientCtx)
	defer stopSweep()
	stopSweepOnStop := context.AfterFunc(ctx, stopSweep)
	defer stopSweepOnStop()
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		b.sweepJournal(sweepCtx, started)
	}()
	defer func() { stopClient(); <-sweepDone }()

	var selfID atomic.Int64 // the bot's user ID, once logged in
	done := make(chan error, 1)
	go func() {
		done <- client.Run(clientCtx, func(ctx context.Context) error {
			return b.session(ctx, client, &d, gaps, token, srv, ln, &selfID, opsAddr, func() { startOnce.Do(func() { close(started) }) })
		})
	}()

	select {
	case err := <-done:
		b.ready.Store(false)
		return fmt.Errorf("bot: %w", err)
	case <-ctx.Done():
	}
	b.ready.Store(false)
	b.log.InfoContext(ctx, "bot: stopping: finishing the work in progress")
	sctx, cancel := context.WithTimeout(context.Background(), b.o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		b.log.WarnContext(sctx, "bot: web server shutdown", slog.String("error", err.Error()))
	}
	werr := b.work.shutdown(sctx)
	stopClient()
	cerr := <-done
	// The updates manager has stopped: it no longer stores its pts over
	// the rollback.
	b.leaveOver(ctx, selfID.Load(), b.work.leftovers())
	if cerr != nil && !errors.Is(cerr, context.Canceled) {
		return fmt.Errorf("bot: %w", cerr)
	}
	b.log.Info("bot: stopped")
	return werr
}

// session is what Run does once connected: log in, wire the handlers,
// serve the web page and receive updates until ctx ends.
func (b *Bot) session(ctx context.Context, client *telegram.Client, d *tg.UpdateDispatcher, gaps *updates.Manager,
	token string, srv *http.Server, ln net.Listener, selfID *atomic.Int64, opsAddr net.Addr, onStart func()) error {
	status, err := client.Auth().Status(ctx)
	if err != nil {
		return fmt.Errorf("auth status: %w", err)
	}
	if !status.Authorized {
		if _, err := client.Auth().Bot(ctx, token); err != nil {
			return fmt.Errorf("log in with the bot token (check telegram.bot_token, app_id and app_hash): %w", err)
		}
	}
	self, err := client.Self(ctx)
	if err != nil {
		return fmt.Errorf("who am I: %w", err)
	}
	if !self.Bot {
		return errors.New("the session belongs to a user account, not a bot: use a bot token from @BotFather")
	}
	selfID.Store(self.ID)
	username := b.o.username
	if username == "" {
		username = self.Username
	}
	if _, err := b.wire(client.API(), self.ID, username); err != nil {
		return err
	}
	d.OnNewMessage(b.NewMessageHandler())
	d.OnBotCallbackQuery(b.CallbackHandler())

	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.ErrorContext(ctx, "bot: web server stopped", slog.String("error", err.Error()))
		}
	}()
	if err := b.SetBotCommands(ctx); err != nil {
		b.log.WarnContext(ctx, "bot: cannot register the commands with Telegram", slog.String("error", err.Error()))
	}
	defer b.ready.Store(false)
	return gaps.Run(ctx, client.API(), self.ID, updates.AuthOptions{
		IsBot: true,
		OnStart: func(ctx context.Context) {
			b.ready.Store(true)
			onStart()
			b.log.InfoContext(ctx, "bot: running", slog.Int64("bot_id", self.ID), slog.String("web", ln.Addr().String()), opsAttr(opsAddr))
			if b.o.ready != nil {
				b.o.ready(Info{ID: self.ID, Username: username, WebAddr: ln.Addr(), OpsAddr: opsAddr})
			}
		},
	})
}

// minLevel drops records below min (gotd's debug logs are verbose).
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}
func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(a), min: m.min}
}
func (m minLevel) WithGroup(n string) slog.Handler { return minLevel{h: m.h.WithGroup(n), min: m.min} }
