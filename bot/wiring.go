package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/admin"
	"github.com/kycbot/kycbot/handlers/chat"
	"github.com/kycbot/kycbot/handlers/lifecycle"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/web"
)

// wiring is what Run builds: the handlers and the web server of one bot
// on one transport, on the settings of one config. Reload builds a new
// one and swaps it in; updates being handled keep the one they started
// with.
type wiring struct {
	set    *settings
	t      Transport
	self   Self
	admins *handlers.Admins
	flow   *verification.Flow
	chat   *chat.Conversation
	life   *lifecycle.Lifecycle
	web    *web.Server
	// erase is the handlers' store, whose DeleteUser erases a user and
	// reports it (the sweep finishes the erasures cut short with it).
	erase erasing
}

// wire builds the handlers and the web server on the settings in force
// and puts them in place.
func (b *Bot) wire(t Transport, self Self) (*wiring, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w, err := b.build(b.current(), t, self)
	if err != nil {
		return nil, err
	}
	b.wired.Store(w)
	return w, nil
}

// wiring returns the handlers in force (nil before Run).
func (b *Bot) wiring() *wiring { return b.wired.Load() }

// build builds the handlers and the web server of settings set.
func (b *Bot) build(set *settings, t Transport, self Self) (*wiring, error) {
	cfg := set.cfg
	pageURL := func(id string) string { return web.PageURL(cfg.Web.PublicURL, id) }
	w := &wiring{set: set, t: t, self: self,
		admins: &handlers.Admins{IDs: cfg.Admins, Catalog: set.cat, Sender: t, Log: b.log, Off: noticesOff(cfg.AdminNotices)}}
	st := erasing{statusStore: statusStore{Store: handlers.NewStore(b.store), v: b.store.Validities(), badges: b.badges(set, t, w.admins)}, b: b}
	w.erase = st
	reverify := make(map[string]time.Duration, len(cfg.Levels))
	for name, l := range cfg.Levels {
		if l != nil && l.ReverifyAfter > 0 {
			reverify[name] = l.ReverifyAfter
		}
	}
	flow, err := verification.New(verification.Config{
		Key: b.key, PreviousKeys: b.previous, Store: st, Telegram: t, Catalog: set.cat, Checkers: set.checkers, PageURL: pageURL,
		Admins: w.admins, Support: cfg.Support, RequestTTL: cfg.Passport.RequestTTL, OnVerified: b.onVerified, OnRejected: b.onRejected,
		ResultsTo: b.resultsTo, OnReview: b.onReview, OnNeedsFixes: b.onNeedsFixes, ReviewLink: b.reviewLink,
		ReviewChecks: append([]verification.ReviewCheck{b.screen}, b.o.reviewChecks...), ReverifyAfter: reverify,
		ScanMemory: scanMemory(cfg.Passport.ScanMemoryMB), TempDir: b.o.tempDir, Now: b.o.now, Log: b.log, Observer: b.metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	adm, err := admin.New(admin.Config{Store: st, Telegram: t, Catalog: set.cat, Admins: cfg.Admins,
		Levels: cfg.LevelNames(), Titles: levelTitles(cfg), NotifyRevoked: cfg.Revocation.NotifyUser, OnRevoked: b.onRevoked,
		Now: b.o.now, Log: b.log, Resend: b.resend})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	conv, err := chat.New(chat.Config{
		Store: st, Telegram: t, Catalog: set.cat, Levels: cfg.LevelNames(), Titles: levelTitles(cfg), DefaultLevel: cfg.DefaultLevelName,
		Support: cfg.Support, Commands: b.o.commands, CatchAll: b.o.everything,
		Scopes: set.scope, PageURL: pageURL, Admin: adm, Admins: w.admins, RequestTTL: cfg.Passport.RequestTTL,
		BotUsername: self.Username, Now: b.o.now, Log: b.log, Observer: b.metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	life, err := lifecycle.New(lifecycle.Config{Store: st, Telegram: t, Catalog: set.cat,
		ReverifyData: func(level string) string { return chat.ReverifyData + level },
		RemindDays:   cfg.Reverification.RemindDays, Titles: levelTitles(cfg), OnExpired: b.onExpired,
		Now: b.o.now, Log: b.log})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	w.flow, w.chat, w.life = flow, conv, life
	// Who is asking on the request page: the business (web.brand), else
	// the bot's @username.
	name := cfg.Web.Brand.Name
	if name == "" && self.Username == "" {
		name = "Telegram bot " + fmt.Sprint(self.ID)
	}
	w.web, err = web.New(backend{b: b}, set.cat, web.Options{
		BotID: self.ID, BotName: name, BotUsername: self.Username, PublicKeyPEM: b.pubPEM, PublicURL: cfg.Web.PublicURL,
		Logo: cfg.Web.Brand.Logo, LogoType: cfg.Web.Brand.LogoType,
		PrivacyPolicyURL: cfg.Passport.PrivacyPolicyURL, Scope: set.scope, Logger: b.log, Clock: b.o.now,
		Metrics: b.metricsHTTP, SeparateOps: cfg.Web.SeparateOps(), Scans: b.scanSource(t), Reviews: reviews{b: b, t: t},
	})
	if err != nil {
		return nil, fmt.Errorf("bot: web server: %w", err)
	}
	return w, nil
}

// SetCommands registers the conversation's commands with Telegram, in
// every language, and the admin commands in the admins' chats. The
// standalone bot calls it when it starts receiving updates; a host bot
// that embeds kycbot calls it only if kycbot's menu is to replace its
// own. It fails before Run has started.
func (b *Bot) SetCommands(ctx context.Context) error {
	w := b.wiring()
	if w == nil {
		return fmt.Errorf("bot: SetCommands: %w", ErrNotReceiving)
	}
	return w.chat.SetCommands(ctx)
}

// noticesOff returns the kinds of admin notices config admin_notices
// turns off.
func noticesOff(n config.AdminNotices) map[string]bool {
	return map[string]bool{handlers.NoticeVerified: !n.Verified, handlers.NoticeRejected: !n.Rejected, handlers.NoticeAlarm: !n.Alarms}
}

// levelTitles returns the titles of the config's levels that have one.
func levelTitles(cfg *config.Config) map[string]string {
	titles := make(map[string]string, len(cfg.Levels))
	for name, l := range cfg.Levels {
		if l != nil && l.Title != "" {
			titles[name] = l.Title
		}
	}
	return titles
}

// scanMemory is the flow's ScanMemory for passport.scan_memory_mb, whose
// 0 stages every scan on disk. A reload builds a new flow with a budget of
// its own: the submissions of the old one keep theirs until they end.
func scanMemory(mb int) int64 {
	if mb <= 0 {
		return -1
	}
	return int64(mb) << 20
}
