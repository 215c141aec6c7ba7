package handlers

import (
	"context"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/kycbot/kycbot/i18n"
)

// Badger sets and removes the bot's verification badge on a user: the
// mark and description Telegram shows on the user's profile to everyone
// (bots.setCustomVerification over MTProto, verifyUser and
// removeUserVerification over the Bot API). The transports implement it.
type Badger interface {
	// SetBadge marks to as verified by the bot, with description. It
	// fails with an error wrapping ErrBadgeForbidden when Telegram has
	// not approved the bot as a verifier.
	SetBadge(ctx context.Context, to User, description string) error
	// RemoveBadge takes the bot's mark off to. Removing a mark that is not
	// there succeeds.
	RemoveBadge(ctx context.Context, to User) error
}

// ErrBadgeForbidden is wrapped by the error of a Badger when Telegram
// refuses the bot as a verifier (BOT_VERIFIER_FORBIDDEN): only bots of
// organisations Telegram approved may mark users.
var ErrBadgeForbidden = errors.New("handlers: Telegram has not approved this bot as a verifier (BOT_VERIFIER_FORBIDDEN)")

// MaxBadgeDescription is Telegram's limit on a verification's description,
// in characters (bot_verification_description_length_limit).
const MaxBadgeDescription = 70

// BadgeForbiddenKey is the key of the admins' alarm that Telegram refuses
// the bot as a verifier: every admin is told once, whichever instance
// meets the refusal first (see Admins.NotifyText).
const BadgeForbiddenKey = "alarm:badge_forbidden"

// Badges gives verified users the bot's verification badge and takes it
// away. A nil *Badges does nothing (the badge is off).
type Badges struct {
	// Telegram sets and removes the badge.
	Telegram Badger
	// Catalog writes the description, in its default language (the badge
	// is shown to everyone).
	Catalog *i18n.Catalog
	// Description, when not empty, is the description of every badge
	// (config badge.description) instead of the catalog's
	// i18n.MsgBadgeDescription.
	Description string
	// Titles are the levels' titles by name; a level without one is named
	// by its name.
	Titles map[string]string
	// Admins are told once when Telegram refuses the bot as a verifier.
	Admins *Admins
	// Log receives the failures (user IDs and errors, nothing personal).
	Log *slog.Logger
}

// Grant marks the user as verified at level, valid until until (zero: no
// end). Failures are logged, and a refusal of the bot as a verifier
// alarms the admins once: the verification stands either way.
func (b *Badges) Grant(ctx context.Context, u User, level string, until time.Time) {
	if b == nil || b.Telegram == nil {
		return
	}
	if err := b.Telegram.SetBadge(ctx, u, b.describe(level, until)); err != nil {
		b.failed(ctx, "set", u, err)
	}
}

// Remove takes the badge off the user. Failures are logged.
func (b *Badges) Remove(ctx context.Context, u User) {
	if b == nil || b.Telegram == nil {
		return
	}
	if err := b.Telegram.RemoveBadge(ctx, u); err != nil {
		b.failed(ctx, "remove", u, err)
	}
}

// describe returns the badge's description, cut to MaxBadgeDescription.
func (b *Badges) describe(level string, until time.Time) string {
	text := b.Description
	if text == "" {
		loc := b.Catalog.Language(b.Catalog.DefaultLanguage())
		data := map[string]any{"Level": Title(b.Titles, level)}
		if !until.IsZero() {
			data["Until"] = loc.Date(until)
		}
		text = loc.Text(i18n.MsgBadgeDescription, data)
	}
	return truncateRunes(text, MaxBadgeDescription)
}

func (b *Badges) failed(ctx context.Context, what string, u User, err error) {
	log := LoggerFromContext(ctx, b.Log)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if errors.Is(err, ErrBadgeForbidden) {
		log.ErrorContext(ctx, "handlers: Telegram refuses this bot as a verifier; no badge", slog.Int64("user_id", u.ID))
		b.Admins.Notify(ctx, BadgeForbiddenKey, i18n.MsgAdminBadgeForbidden, nil)
		return
	}
	log.WarnContext(ctx, "handlers: cannot "+what+" the verification badge", slog.Int64("user_id", u.ID), slog.String("error", err.Error()))
}

// truncateRunes cuts s to at most n characters, ending with "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
