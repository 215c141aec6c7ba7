package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Exchange is one exchange with a user, for the steps that answer in the
// chat (package chat and package admin): who, in which language, which
// update it answers, and the logger of that update.
type Exchange struct {
	// User is the user answered.
	User User
	// ID is the update's ID: the answers' idempotency keys start with it.
	ID string
	// Reply sends the answers, in the user's language.
	Reply *Reply
	// Log is the update's logger, with the user's ID.
	Log *slog.Logger
	// Prefs are the user's preferences, once LoadPrefs has read them.
	Prefs store.Prefs

	step string // names the step in logs and errors ("chat", "admin")
	cat  *i18n.Catalog
}

// NewExchange starts an exchange of step (a short name for logs and
// errors) with user about the update id, in the language of the user's
// app; log is the step's logger (a logger in ctx wins).
func NewExchange(ctx context.Context, step, id string, user User, sender Sender, cat *i18n.Catalog, log *slog.Logger) *Exchange {
	return &Exchange{User: user, ID: id, step: step, cat: cat,
		Log:   LoggerFromContext(ctx, log).With(slog.Int64("user_id", user.ID)),
		Reply: &Reply{To: user, Sender: sender, Key: id, Loc: cat.Language(cat.Match(user.LangCode))}}
}

// Loc returns the language the exchange answers in.
func (x *Exchange) Loc() *i18n.Localizer { return x.Reply.Loc }

// SetLanguage makes the exchange answer in the catalog's language tag.
func (x *Exchange) SetLanguage(tag string) { x.Reply.Loc = x.cat.Language(tag) }

// Text sends the catalog's message id, rendered with data.
func (x *Exchange) Text(ctx context.Context, id string, data map[string]any) error {
	return x.Reply.Text(ctx, id, data)
}

// LoadPrefs reads the user's preferences with get: the language the user
// chose with /language wins over the app's.
func (x *Exchange) LoadPrefs(ctx context.Context, get func(context.Context, int64) (store.Prefs, error)) error {
	p, err := get(ctx, x.User.ID)
	if err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	x.Prefs = p
	if p.Lang != "" {
		x.SetLanguage(p.Lang)
	}
	return nil
}

// Failed reports a failure of the bot's side (storage unreachable): it is
// logged, the user is asked to try again later (MsgErrorTryLater), and
// the error is returned. When the storage is unreachable
// (store.ErrUnavailable) and the caller will hand the update again
// (ContextWithRetry), the user is told nothing yet and the error wraps
// ErrRetryLater: a Redis failover ends with the answer the user asked for.
func (x *Exchange) Failed(ctx context.Context, what string, err error) error {
	if errors.Is(err, store.ErrUnavailable) && willRetry(ctx) {
		x.Log.WarnContext(ctx, x.step+": "+what+" failed; the update will be handled again", slog.String("error", err.Error()))
		return fmt.Errorf("%w: %s: %s for user %d: %w", ErrRetryLater, x.step, what, x.User.ID, err)
	}
	x.Log.ErrorContext(ctx, x.step+": "+what+" failed", slog.String("error", err.Error()))
	err = fmt.Errorf("%s: %s for user %d: %w", x.step, what, x.User.ID, err)
	if serr := x.Text(ctx, i18n.MsgErrorTryLater, nil); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
