package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Store is what the sweep reads and changes in Redis: exactly the calls
// it makes. Package bot implements it on the store.
type Store interface {
	// GetStatus reads the user's status at a level.
	GetStatus(ctx context.Context, userID int64, level string) (store.Status, error)
	// SetStatus records a status (expired).
	SetStatus(ctx context.Context, st store.Status) error
	// Preferences reads the user's language.
	Preferences(ctx context.Context, userID int64) (store.Prefs, error)
	// Ending lists verifications that end before before (store.Validities).
	Ending(ctx context.Context, before time.Time, limit int) ([]store.Validity, error)
	// Schedule records when a verification ends; zero removes it.
	Schedule(ctx context.Context, userID int64, level string, until time.Time) error
	// Claim claims a reminder or an expiry once; Unclaim gives it back.
	Claim(ctx context.Context, userID int64, level string, until time.Time, what string) (bool, error)
	Unclaim(ctx context.Context, userID int64, level string, until time.Time, what string) error
	// AuditOnce appends ev to the audit trail once per id.
	AuditOnce(ctx context.Context, ev store.Event, id string) error
}

// Telegram is what the sweep asks of Telegram.
type Telegram interface {
	handlers.Sender
	// Resolve returns u with what the transport needs to reach the user.
	Resolve(ctx context.Context, u handlers.User) (handlers.User, error)
}

// Expired is a verification that ended.
type Expired struct {
	// ID names the expiry: the same expiry has the same ID.
	ID     string
	UserID int64
	Level  string
	Ref    string
	// Until is when it ended (zero for an undecided review's).
	Until time.Time
	// Reason is why it ended before its time: ReasonReviewExpired, or ""
	// for the end of its validity.
	Reason string
}

// ReasonReviewExpired is the Reason of an expiry whose case went to manual
// review and was left undecided past the review's retention: its
// submission is erased and it can no longer be decided (ExpireUndecided).
// The expired status carries it as its code.
const ReasonReviewExpired = store.CodeReviewExpired

// Config is what New needs. Fields without a default are required.
type Config struct {
	Store    Store
	Telegram Telegram
	// Catalog holds the texts.
	Catalog *i18n.Catalog
	// ReverifyData returns the callback data of the one-tap
	// re-verification button for a level (package chat handles it).
	ReverifyData func(level string) string
	// RemindDays are how many days before the end the user is reminded
	// (config reverification.remind_days); each reminder once. Empty: none.
	RemindDays []int
	// Titles are the levels' titles by name.
	Titles map[string]string
	// OnExpired is called for each expiry before the status changes (the
	// webhook event); an error leaves it for the next sweep. It may be
	// called again for the same expiry (same ID). Default: none.
	OnExpired func(context.Context, Expired) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the logs (default: none).
	Log *slog.Logger
}

// Lifecycle sweeps the verifications that end soon. It is safe for
// concurrent use, and any number of instances may sweep at once.
type Lifecycle struct{ cfg Config }

// New returns the sweep; it fails when cfg lacks something required.
func New(cfg Config) (*Lifecycle, error) {
	if err := handlers.Require("lifecycle", handlers.Setting{Name: "Store", Set: cfg.Store != nil},
		handlers.Setting{Name: "Telegram", Set: cfg.Telegram != nil}, handlers.Setting{Name: "Catalog", Set: cfg.Catalog != nil},
		handlers.Setting{Name: "ReverifyData", Set: cfg.ReverifyData != nil}); err != nil {
		return nil, err
	}
	cfg.RemindDays = slices.Clone(cfg.RemindDays)
	slices.Sort(cfg.RemindDays) // the nearest first
	cfg.Titles = maps.Clone(cfg.Titles)
	handlers.Defaults(&cfg.Now, &cfg.Log, nil)
	return &Lifecycle{cfg: cfg}, nil
}

// sweepBatch is how many verifications one pass looks at, at most.
const sweepBatch = 200

// day is a reminder's unit.
const day = 24 * time.Hour

// Sweep looks at the verifications that end within the longest reminder
// period: it sends each reminder that is due (the nearest one only, when
// several are: the others are claimed without a message) and expires
// those that ended. It returns how many messages it sent and the errors
// of the verifications it could not handle (they are tried again at the
// next sweep).
func (l *Lifecycle) Sweep(ctx context.Context) (int, error) {
	now := l.cfg.Now()
	horizon := now
	if n := len(l.cfg.RemindDays); n > 0 {
		horizon = now.Add(time.Duration(l.cfg.RemindDays[n-1]) * day)
	}
	ending, err := l.cfg.Store.Ending(ctx, horizon, sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: %w", err)
	}
	sent := 0
	var errs []error
	for _, v := range ending {
		n, err := l.one(ctx, v, now)
		sent += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// one handles one verification that ends soon or ended.
func (l *Lifecycle) one(ctx context.Context, v store.Validity, now time.Time) (int, error) {
	st, err := l.cfg.Store.GetStatus(ctx, v.UserID, v.Level)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: user %d at %s: %w", v.UserID, v.Level, err)
	}
	if st.State != store.StateVerified || !st.ValidUntil.Equal(v.Until) {
		// Verified again (a new end), reset, revoked or erased: this end
		// is no longer scheduled.
		if st.State != store.StateVerified || st.ValidUntil.IsZero() {
			return 0, l.cfg.Store.Schedule(ctx, v.UserID, v.Level, time.Time{})
		}
		return 0, l.cfg.Store.Schedule(ctx, v.UserID, v.Level, st.ValidUntil)
	}
	if !now.Before(v.Until) {
		return l.expire(ctx, st)
	}
	// The reminders due: the nearest one is sent, the farther ones (missed
	// while no instance ran) are only claimed.
	left := v.Until.Sub(now)
	due := -1
	for _, d := range l.cfg.RemindDays {
		if left <= time.Duration(d)*day {
			due = d
			break
		}
	}
	if due < 0 {
		return 0, nil
	}
	for _, d := range l.cfg.RemindDays {
		if d <= due {
			continue
		}
		if _, err := l.cfg.Store.Claim(ctx, v.UserID, v.Level, v.Until, remindWhat(d)); err != nil {
			return 0, fmt.Errorf("lifecycle: user %d at %s: %w", v.UserID, v.Level, err)
		}
	}
	what := remindWhat(due)
	ok, err := l.cfg.Store.Claim(ctx, v.UserID, v.Level, v.Until, what)
	if err != nil || !ok {
		return 0, err
	}
	loc, to := l.userLoc(ctx, v.UserID)
	text := loc.Text(i18n.MsgReverifyReminder, map[string]any{"Level": l.title(v.Level), "Until": loc.Date(v.Until)})
	if err := l.send(ctx, to, st, what, loc, text); err != nil {
		if uerr := l.cfg.Store.Unclaim(ctx, v.UserID, v.Level, v.Until, what); uerr != nil {
			err = errors.Join(err, uerr)
		}
		return 0, fmt.Errorf("lifecycle: remind user %d at %s: %w", v.UserID, v.Level, err)
	}
	l.audit(ctx, st, "reverify_reminded", what, map[string]string{"days": strconv.Itoa(due)})
	l.cfg.Log.InfoContext(ctx, "lifecycle: reminder sent", slog.Int64("user_id", v.UserID), slog.String("level", v.Level), slog.Int("days", due))
	return 1, nil
}

// expire ends a verification at the end of its validity.
func (l *Lifecycle) expire(ctx context.Context, st store.Status) (int, error) {
	id := "expired:" + strconv.FormatInt(st.UserID, 10) + ":" + st.Level + ":" + strconv.FormatInt(st.ValidUntil.UnixMilli(), 10)
	return l.end(ctx, st, Expired{ID: id, UserID: st.UserID, Level: st.Level, Ref: st.Ref, Until: st.ValidUntil},
		st.ValidUntil, "expired", i18n.MsgExpiredNotice)
}

// ExpireUndecided ends the verification of st (a status under review)
// whose case, reviewID, was left undecided past the review's retention:
// the submission is erased, so nobody can decide it any more. It is an
// expiry with ReasonReviewExpired: the business's event (OnExpired), the
// status expired, the audit event and the user told, with the one-tap
// re-verification button. Called again for the same case, it sends the
// event and sets the status again, and tells the user once.
func (l *Lifecycle) ExpireUndecided(ctx context.Context, st store.Status, reviewID string) error {
	what := ReasonReviewExpired + ":" + reviewID
	// The claim's time: when the case went to review, the same at every
	// call (a zero time would expire the user's claims at once).
	anchor := st.UpdatedAt
	if anchor.IsZero() {
		anchor = l.cfg.Now()
	}
	st.ValidUntil = time.Time{}
	_, err := l.end(ctx, st, Expired{ID: what + ":" + strconv.FormatInt(st.UserID, 10) + ":" + st.Level,
		UserID: st.UserID, Level: st.Level, Ref: st.Ref, Reason: ReasonReviewExpired}, anchor, what, i18n.MsgReviewExpiredNotice)
	return err
}

// end ends a verification: the business's event first (OnExpired), then
// the status (the store package bot gives takes the badge off with it),
// the audit and the user's notice msg, claimed once as what at the time
// anchor (the end of the validity).
func (l *Lifecycle) end(ctx context.Context, st store.Status, e Expired, anchor time.Time, what, msg string) (int, error) {
	if l.cfg.OnExpired != nil {
		if err := l.cfg.OnExpired(ctx, e); err != nil {
			return 0, fmt.Errorf("lifecycle: expire user %d at %s: %w", st.UserID, st.Level, err)
		}
	}
	// The claim makes the notice once; the status change below is a state
	// and may be made again.
	ok, err := l.cfg.Store.Claim(ctx, st.UserID, st.Level, anchor, what)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: expire user %d at %s: %w", st.UserID, st.Level, err)
	}
	expired := store.Status{UserID: st.UserID, Level: st.Level, State: store.StateExpired, Ref: st.Ref}
	if e.Reason != "" {
		expired.Codes = []string{e.Reason}
	}
	if err := l.cfg.Store.SetStatus(ctx, expired); err != nil {
		if ok {
			err = errors.Join(err, l.cfg.Store.Unclaim(ctx, st.UserID, st.Level, anchor, what))
		}
		return 0, fmt.Errorf("lifecycle: expire user %d at %s: %w", st.UserID, st.Level, err)
	}
	if err := l.cfg.Store.Schedule(ctx, st.UserID, st.Level, time.Time{}); err != nil {
		l.cfg.Log.WarnContext(ctx, "lifecycle: cannot unschedule an expired verification", slog.String("error", err.Error()))
	}
	if !ok {
		return 0, nil
	}
	var detail map[string]string
	if e.Reason != "" {
		detail = map[string]string{"reason": e.Reason}
	}
	l.audit(ctx, st, "verification_expired", what, detail)
	l.cfg.Log.InfoContext(ctx, "lifecycle: verification expired", slog.Int64("user_id", st.UserID), slog.String("level", st.Level),
		slog.String("reason", e.Reason))
	loc, to := l.userLoc(ctx, st.UserID)
	text := loc.Text(msg, map[string]any{"Level": l.title(st.Level)})
	if err := l.send(ctx, to, st, what, loc, text); err != nil {
		// The status changed: the user sees it in /status.
		l.cfg.Log.WarnContext(ctx, "lifecycle: cannot tell the user of the expiry", slog.Int64("user_id", st.UserID), slog.String("error", err.Error()))
		return 0, nil
	}
	return 1, nil
}

func remindWhat(days int) string { return "remind:" + strconv.Itoa(days) }

// userLoc returns the user's language and how to reach them. A reminder
// or an expiry notice is claimed once: when the user's language cannot be
// read, it goes out in the default language rather than not at all.
func (l *Lifecycle) userLoc(ctx context.Context, userID int64) (*i18n.Localizer, handlers.User) {
	r, err := handlers.FindRecipient(ctx, l.cfg.Store.Preferences, l.cfg.Telegram, l.cfg.Catalog, userID)
	if err != nil {
		l.cfg.Log.WarnContext(ctx, "lifecycle: writing in the default language", slog.Int64("user_id", userID), slog.String("error", err.Error()))
	}
	return r.Loc, r.To
}

// send sends text with the re-verification button, keyed by the
// verification's end and what: sent again, Telegram shows it once.
func (l *Lifecycle) send(ctx context.Context, to handlers.User, st store.Status, what string, loc *i18n.Localizer, text string) error {
	key := "lifecycle:" + strconv.FormatInt(st.UserID, 10) + ":" + st.Level + ":" + strconv.FormatInt(st.ValidUntil.UnixMilli(), 10) + ":" + what
	return l.cfg.Telegram.Send(ctx, to, handlers.Message{Text: text, Key: key, Buttons: [][]handlers.Button{{{
		Text: loc.Text(i18n.MsgButtonReverify, nil), Data: l.cfg.ReverifyData(st.Level),
	}}}})
}

func (l *Lifecycle) audit(ctx context.Context, st store.Status, kind, what string, detail map[string]string) {
	id := kind + ":" + strconv.FormatInt(st.UserID, 10) + ":" + st.Level + ":" + strconv.FormatInt(st.ValidUntil.UnixMilli(), 10) + ":" + what
	ev := store.Event{Kind: kind, UserID: st.UserID, Level: st.Level, Ref: st.Ref, Detail: detail}
	if err := l.cfg.Store.AuditOnce(ctx, ev, id); err != nil {
		l.cfg.Log.ErrorContext(ctx, "lifecycle: audit failed", slog.String("kind", kind), slog.String("error", err.Error()))
	}
}

func (l *Lifecycle) title(level string) string { return handlers.Title(l.cfg.Titles, level) }
