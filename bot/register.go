package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/web"
)

// wiring is what Register builds: the handlers and the web server of one
// bot account, on the settings of one config. Reload builds a new one
// and swaps it in; updates being handled keep the one they started with.
type wiring struct {
	set      *settings
	api      *tg.Client
	selfID   int64
	username string
	tg       handlers.Telegram
	passport *handlers.PassportHandler
	commands *handlers.Commands
	web      *web.Server
}

// Register hooks kycbot into the update dispatcher of your own gotd bot,
// whose API client is api: the passport handler and the conversation take
// the NewMessage and BotCallbackQuery updates. Call it once the client is
// logged in (inside client.Run): it asks Telegram for the bot's username
// unless WithBotUsername gave it.
//
// tg.UpdateDispatcher keeps one handler per update type, so Register
// replaces the NewMessage and BotCallbackQuery handlers set before. To
// keep your own, register them after kycbot with the handlers Register
// returns through NewMessageHandler and CallbackHandler, and call kycbot's
// from yours.
//
// Handlers run in goroutines of their own (WithConcurrency bounds them);
// call Close before exiting so that work in progress finishes.
func (b *Bot) Register(ctx context.Context, d *tg.UpdateDispatcher, api *tg.Client) error {
	if d == nil || api == nil {
		return errors.New("bot: Register needs a dispatcher and an API client")
	}
	username := b.o.username
	var selfID int64
	if username == "" {
		users, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
		if err != nil {
			return fmt.Errorf("bot: who am I (users.getUsers): %w", err)
		}
		for _, u := range users {
			if self, ok := u.(*tg.User); ok {
				username, selfID = self.Username, self.ID
			}
		}
	}
	if selfID == 0 {
		id, err := passport.BotIDFromToken(b.current().cfg.Telegram.BotToken.Value())
		if err != nil && username == "" {
			return fmt.Errorf("bot: cannot tell the bot's ID: %w", err)
		}
		selfID = id
	}
	if _, err := b.wire(api, selfID, username); err != nil {
		return err
	}
	d.OnNewMessage(b.NewMessageHandler())
	d.OnBotCallbackQuery(b.CallbackHandler())
	b.ready.Store(true)
	return nil
}

// wire builds the handlers and the web server on the settings in force
// and puts them in place.
func (b *Bot) wire(api *tg.Client, selfID int64, username string) (*wiring, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, err := b.build(b.current(), api, selfID, username)
	if err != nil {
		return nil, err
	}
	b.wired.Store(w)
	return w, nil
}

// build builds the handlers and the web server of settings set.
func (b *Bot) build(set *settings, api *tg.Client, selfID int64, username string) (*wiring, error) {
	cfg := set.cfg
	tgAPI := handlers.NewTelegram(api, nil, handlers.WithAccessHashes(accessHashes{h: b.store.Sessions().UserAccessHasher(), self: selfID}))
	pageURL := func(id string) string { return web.PageURL(cfg.Web.PublicURL, id) }
	hopts := []handlers.Option{handlers.WithClock(b.o.now), handlers.WithLogger(b.log), handlers.WithObserver(b.metrics)}
	if b.o.tempDir != "" {
		hopts = append(hopts, handlers.WithTempDir(b.o.tempDir))
	}
	popts := append(hopts[:len(hopts):len(hopts)], handlers.WithOnVerified(b.onVerified), handlers.WithOnRejected(b.onRejected))
	ph, err := handlers.NewPassport(handlers.PassportConfig{
		Key: b.key, Store: handlers.StoreViews(b.store), Telegram: tgAPI, Catalog: set.cat, Checkers: set.checkers,
		PageURL: pageURL, Admins: cfg.Admins, RequestTTL: cfg.Passport.RequestTTL,
	}, popts...)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	ch, err := handlers.NewCommands(handlers.CommandsConfig{
		Store: handlers.StoreViews(b.store), Telegram: tgAPI, Catalog: set.cat, Levels: cfg.LevelNames(), DefaultLevel: cfg.DefaultLevelName,
		Scopes: set.scope, PageURL: pageURL, Admins: cfg.Admins, RequestTTL: cfg.Passport.RequestTTL, BotUsername: username,
	}, hopts...)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	w := &wiring{set: set, api: api, selfID: selfID, username: username, tg: tgAPI, passport: ph, commands: ch}
	name := ""
	if username == "" {
		name = "Telegram bot " + fmt.Sprint(selfID)
	}
	w.web, err = web.New(backend{b: b, commands: ch}, set.cat, web.Options{
		BotID: selfID, BotName: name, BotUsername: username, PublicKeyPEM: b.pubPEM, PublicURL: cfg.Web.PublicURL,
		PrivacyPolicyURL: cfg.Passport.PrivacyPolicyURL, Scope: set.scope, Logger: b.log, Clock: b.o.now,
		Metrics: b.metricsHTTP, SeparateOps: cfg.Web.OpsListen != "",
	})
	if err != nil {
		return nil, fmt.Errorf("bot: web server: %w", err)
	}
	return w, nil
}

// wiring returns the handlers in force (nil before Register).
func (b *Bot) wiring() *wiring { return b.wired.Load() }

// NewMessageHandler returns kycbot's NewMessage handler (valid after
// Register): Passport submissions (retried while Redis is unreachable,
// WithRetry; once the retry window is over, the user is asked to share
// again) and the conversation commands, each in a goroutine of its own.
func (b *Bot) NewMessageHandler() tg.NewMessageHandler {
	return func(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
		w := b.wiring()
		if w == nil {
			return errors.New("bot: not registered")
		}
		if handlers.IsSubmission(u) {
			msg := u.Message.(*tg.MessageService)
			sub := submission{pos: position(u, int(b.work.floor.Load())), userID: msg.PeerID.(*tg.PeerUser).UserID, msgID: msg.ID}
			return b.work.doSubmission(ctx, sub, func(ctx context.Context) error {
				return b.processSubmission(ctx, w, e, u, store.JournalLease{})
			})
		}
		return b.work.do(ctx, "command", func(ctx context.Context) error {
			if msg, ok := u.Message.(*tg.Message); ok && !msg.Out {
				if peer, ok := msg.PeerID.(*tg.PeerUser); ok && !b.firstDelivery(ctx, peer.UserID, msg.ID) {
					return nil
				}
			}
			return w.commands.OnNewMessage(ctx, e, u)
		})
	}
}

// firstDelivery reports whether this instance is the first to handle a
// message (or callback) of a user: several instances on one bot account
// all receive every update, and only one may answer it. When Redis cannot
// tell, the update is handled (an answer twice beats none).
func (b *Bot) firstDelivery(ctx context.Context, userID int64, id int) bool {
	first, err := b.store.MarkUpdate(ctx, userID, id, conversationMarkTTL)
	if err != nil {
		handlers.LoggerFromContext(ctx, b.log).WarnContext(ctx, "bot: cannot mark an update as handled; handling it anyway",
			slog.String("error", err.Error()))
		return true
	}
	if !first {
		handlers.LoggerFromContext(ctx, b.log).DebugContext(ctx, "bot: update already handled (by another instance, or delivered again); dropped")
	}
	return first
}

// conversationMarkTTL is how long a handled message or callback is
// remembered to drop its copies: those delivered to other instances, and
// those delivered again after a restart whose shutdown rewound the updates
// state (leaveOver) past them, however long the bot was down (up to a
// day). A mark is a few dozen bytes in Redis.
const conversationMarkTTL = 24 * time.Hour

// callbackMarkID maps a callback query to the ID MarkUpdate takes:
// negative, so that it never meets a message ID of the same user.
func callbackMarkID(queryID int64) int {
	return -1 - int(uint64(queryID)%(1<<31))
}

// CallbackHandler returns kycbot's BotCallbackQuery handler (valid after
// Register).
func (b *Bot) CallbackHandler() tg.BotCallbackQueryHandler {
	return func(ctx context.Context, e tg.Entities, u *tg.UpdateBotCallbackQuery) error {
		w := b.wiring()
		if w == nil {
			return errors.New("bot: not registered")
		}
		return b.work.do(ctx, "callback", func(ctx context.Context) error {
			if !b.firstDelivery(ctx, u.UserID, callbackMarkID(u.QueryID)) {
				return nil
			}
			return w.commands.OnBotCallbackQuery(ctx, e, u)
		})
	}
}

// Handler returns the web server (request page, Passport callback,
// /healthz, /readyz and /metrics): mount it at the root of the server
// web.public_url reaches. Before Register has run it answers /healthz
// with 200, /metrics with the metrics and everything else with 503. When
// web.ops_listen is set it leaves /healthz, /readyz and /metrics out,
// answering them 404: OpsHandler serves them.
func (b *Bot) Handler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := b.wiring()
		if w == nil {
			if b.separateOps() && isOpsPath(r.URL.Path) {
				http.NotFound(rw, r)
				return
			}
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/healthz":
				rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = rw.Write([]byte("ok"))
			case r.Method == http.MethodGet && r.URL.Path == "/metrics":
				b.metricsHTTP.ServeHTTP(rw, r)
			default:
				http.Error(rw, "starting", http.StatusServiceUnavailable)
			}
			return
		}
		w.web.Handler().ServeHTTP(rw, r)
	})
}

// SetBotCommands registers the conversation commands with Telegram
// (bots.setBotCommands, once per language). Run calls it on start.
func (b *Bot) SetBotCommands(ctx context.Context) error {
	w := b.wiring()
	if w == nil {
		return errors.New("bot: not registered")
	}
	return w.commands.SetBotCommands(ctx)
}

// accessHashes reads the access hashes the updates manager stored for the
// bot account self.
type accessHashes struct {
	h    updates.UserAccessHasher
	self int64
}

func (a accessHashes) GetUserAccessHash(ctx context.Context, userID int64) (int64, bool, error) {
	return a.h.GetUserAccessHash(ctx, a.self, userID)
}
