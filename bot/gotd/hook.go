package gotd

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// Hook returns an update handler that gives kycbot its updates and passes
// every other update to next, untouched: wrap the handler your bot
// already has (the one gotd's updates manager, or the client, calls).
//
//	d := tg.NewUpdateDispatcher()            // your handlers
//	gaps := updates.New(updates.Config{Handler: gotd.Hook(kyc, d)})
//
// kycbot's updates are the Telegram Passport submissions, its commands
// addressed to this bot (/start, /verify, /status, /language, /help,
// /cancel and the admin ones) and taps on its buttons (bot.Bot.Wants).
// They go to kycbot's queue, where any instance's Run handles them; an
// update received again (a restart, a second receiver) is dropped there.
// When Redis cannot take them, Handle waits and tries again until ctx
// ends (then it fails, and gotd's updates manager, which saves its
// position in the updates only after the handler, delivers them again
// after a restart). The access hashes of kycbot's users are kept in the
// bot's store, so that it can write to them outside an update (see
// WithoutAccessHashes).
//
// next may be nil: updates kycbot does not want are then dropped.
func Hook(kyc *bot.Bot, next telegram.UpdateHandler, opts ...HookOption) telegram.UpdateHandler {
	h := &hook{kyc: kyc, next: next, hashes: true, log: kyc.Logger()}
	for _, o := range opts {
		o(h)
	}
	return h
}

// HookOption configures Hook.
type HookOption func(*hook)

// WithoutAccessHashes keeps Hook from storing the access hashes of the
// users of kycbot's updates: for a bot whose updates manager already
// stores every user's hash in kycbot's store (the standalone bot's does).
func WithoutAccessHashes() HookOption { return func(h *hook) { h.hashes = false } }

type hook struct {
	kyc    *bot.Bot
	next   telegram.UpdateHandler
	hashes bool
	log    *slog.Logger
}

// Enqueue retry pauses while Redis is unreachable.
const (
	enqueueFirstPause = 200 * time.Millisecond
	enqueueMaxPause   = 5 * time.Second
)

// Handle implements telegram.UpdateHandler.
func (h *hook) Handle(ctx context.Context, u tg.UpdatesClass) error {
	list, users, rebuild := split(u)
	var ours []bot.Update
	var rest []tg.UpdateClass
	for _, upd := range list {
		if ku, ok := convert(upd, users); ok && h.kyc.Wants(ku) {
			ours = append(ours, ku)
			continue
		}
		rest = append(rest, upd)
	}
	if len(ours) == 0 {
		return h.pass(ctx, u)
	}
	if err := h.enqueue(ctx, ours); err != nil {
		return err
	}
	if h.hashes {
		h.keepHashes(ctx, users, ours)
	}
	if len(rest) == 0 || rebuild == nil {
		return nil
	}
	return h.pass(ctx, rebuild(rest))
}

func (h *hook) pass(ctx context.Context, u tg.UpdatesClass) error {
	if h.next == nil {
		return nil
	}
	return h.next.Handle(ctx, u)
}

// enqueue puts kycbot's updates in the queue, trying again while Redis
// cannot take them, until ctx ends.
func (h *hook) enqueue(ctx context.Context, ours []bot.Update) error {
	pause := enqueueFirstPause
	for logged := false; ; logged = true {
		err := h.kyc.Enqueue(ctx, ours...)
		if err == nil {
			if logged {
				h.log.InfoContext(ctx, "gotd: updates queued after a wait", slog.Int("updates", len(ours)))
			}
			return nil
		}
		if !logged {
			h.log.WarnContext(ctx, "gotd: cannot queue kycbot's updates; trying again", slog.Int("updates", len(ours)), slog.String("error", err.Error()))
		}
		if werr := wait.Sleep(ctx, pause); werr != nil {
			return errors.Join(err, werr)
		}
		pause = min(pause*2, enqueueMaxPause)
	}
}

// keepHashes stores the access hashes of the users of kycbot's updates
// (the bot writes to them later, outside an update: admins' notices).
func (h *hook) keepHashes(ctx context.Context, users map[int64]*tg.User, ours []bot.Update) {
	self := h.kyc.Self()
	if self.ID == 0 {
		return
	}
	hasher := h.kyc.Store().Sessions().UserAccessHasher()
	for _, u := range ours {
		if tu, ok := users[u.From.ID]; ok && tu.AccessHash != 0 {
			if err := hasher.SetUserAccessHash(ctx, self.ID, u.From.ID, tu.AccessHash); err != nil {
				h.log.WarnContext(ctx, "gotd: cannot keep a user's access hash", slog.String("error", err.Error()))
				return
			}
		}
	}
}

// split returns the updates of u, its users by ID, and a function that
// builds a copy of u holding other updates (nil when u cannot hold a
// list: it is then passed on whole or not at all).
func split(u tg.UpdatesClass) ([]tg.UpdateClass, map[int64]*tg.User, func([]tg.UpdateClass) tg.UpdatesClass) {
	users := map[int64]*tg.User{}
	addUsers := func(list []tg.UserClass) {
		for _, uc := range list {
			if user, ok := uc.(*tg.User); ok {
				users[user.ID] = user
			}
		}
	}
	switch v := u.(type) {
	case *tg.Updates:
		addUsers(v.Users)
		return v.Updates, users, func(rest []tg.UpdateClass) tg.UpdatesClass {
			c := *v
			c.Updates = rest
			return &c
		}
	case *tg.UpdatesCombined:
		addUsers(v.Users)
		return v.Updates, users, func(rest []tg.UpdateClass) tg.UpdatesClass {
			c := *v
			c.Updates = rest
			return &c
		}
	case *tg.UpdateShort:
		return []tg.UpdateClass{v.Update}, users, nil
	case *tg.UpdateShortMessage:
		if v.Out {
			return nil, users, nil
		}
		msg := &tg.Message{ID: v.ID, PeerID: &tg.PeerUser{UserID: v.UserID}, Message: v.Message, Date: v.Date}
		return []tg.UpdateClass{&tg.UpdateNewMessage{Message: msg, Pts: v.Pts, PtsCount: v.PtsCount}}, users, nil
	}
	return nil, users, nil
}

// convert turns a Telegram update into a kycbot update, when it is one of
// the kinds kycbot handles: a Passport submission or a text message in a
// private chat from a user (not a bot), or a callback query.
func convert(u tg.UpdateClass, users map[int64]*tg.User) (bot.Update, bool) {
	from := func(id int64) (handlers.User, bool) {
		hu := handlers.User{ID: id}
		if tu, ok := users[id]; ok {
			if tu.Bot {
				return hu, false
			}
			hu.AccessHash, hu.LangCode = tu.AccessHash, tu.LangCode
		}
		return hu, true
	}
	switch v := u.(type) {
	case *tg.UpdateNewMessage:
		switch m := v.Message.(type) {
		case *tg.MessageService:
			peer, ok := m.PeerID.(*tg.PeerUser)
			action, isPassport := m.Action.(*tg.MessageActionSecureValuesSentMe)
			if !ok || m.Out || !isPassport {
				return bot.Update{}, false
			}
			user, ok := from(peer.UserID)
			if !ok {
				return bot.Update{}, false
			}
			es, err := passport.FromMTProto(action)
			if err != nil {
				// Malformed: queued without data, so that the user is
				// told it does not decrypt.
				es = &passport.EncryptedSubmission{}
			}
			return bot.Update{Kind: bot.KindSubmission, From: user, MsgID: m.ID, Submission: es}, true
		case *tg.Message:
			peer, ok := m.PeerID.(*tg.PeerUser)
			if !ok || m.Out || m.Post {
				return bot.Update{}, false
			}
			if fromPeer, ok := m.FromID.(*tg.PeerUser); ok && fromPeer.UserID != peer.UserID {
				return bot.Update{}, false
			}
			user, ok := from(peer.UserID)
			if !ok {
				return bot.Update{}, false
			}
			return bot.Update{Kind: bot.KindMessage, From: user, MsgID: m.ID, Text: m.Message}, true
		}
	case *tg.UpdateBotCallbackQuery:
		user, ok := from(v.UserID)
		if !ok {
			return bot.Update{}, false
		}
		return bot.Update{Kind: bot.KindCallback, From: user, QueryID: v.QueryID, Data: string(v.Data)}, true
	}
	return bot.Update{}, false
}
