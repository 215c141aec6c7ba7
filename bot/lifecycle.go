package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/admin"
	"github.com/kycbot/kycbot/handlers/lifecycle"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// statusStore is the handlers' store with what follows a change of a
// status, wherever it is made (a verdict, a review's decision, /kyc_reset,
// /kyc_revoke, /kyc_delete, /delete_my_data, an expiry): when the
// verification ends (store.Validities) and the verification badge.
type statusStore struct {
	handlers.Store
	v      store.Validities
	badges *handlers.Badges // nil: the badge is off
}

// SetStatus records st, then schedules when a verified status ends and
// gives the badge to a verified user; a revoked or expired status is no
// longer scheduled and takes the badge off unless another level is still
// verified, and so does any other state that replaces a verified one.
func (s statusStore) SetStatus(ctx context.Context, st store.Status) error {
	// A later attempt at a verified level (the re-verification button)
	// replaces the verified status with its outcome: when that is not
	// verified, the badge must not keep saying so. Whether the level was
	// verified is read first, only with the badge on and for the states
	// the switch below does not already refresh the badge for (an
	// unreadable status counts as verified: the badge is then recomputed).
	replacesVerified := false
	refreshedBelow := st.State == store.StateVerified || st.State == store.StateRevoked || st.State == store.StateExpired
	if s.badges != nil && !refreshedBelow {
		prev, err := s.GetStatus(ctx, st.UserID, st.Level)
		replacesVerified = err != nil || prev.State == store.StateVerified
	}
	if err := s.Store.SetStatus(ctx, st); err != nil {
		return err
	}
	switch st.State {
	case store.StateVerified:
		if err := s.v.Schedule(ctx, st.UserID, st.Level, st.ValidUntil); err != nil {
			return err
		}
		s.badges.Grant(ctx, handlers.User{ID: st.UserID}, st.Level, st.ValidUntil)
	case store.StateRevoked, store.StateExpired:
		if err := s.v.Schedule(ctx, st.UserID, st.Level, time.Time{}); err != nil {
			return err
		}
		s.refreshBadge(ctx, st.UserID)
	default:
		// Another state (the outcome of a new attempt at the level) keeps
		// its Redis round trips: the sweep drops the end of a status that
		// is no longer verified when it meets it. The badge follows now.
		if replacesVerified {
			s.refreshBadge(ctx, st.UserID)
		}
	}
	return nil
}

// ResetStatus removes the status, its end, and the badge unless another
// level is still verified.
func (s statusStore) ResetStatus(ctx context.Context, userID int64, level string) error {
	if err := s.Store.ResetStatus(ctx, userID, level); err != nil {
		return err
	}
	if err := s.v.Schedule(ctx, userID, level, time.Time{}); err != nil {
		return err
	}
	s.refreshBadge(ctx, userID)
	return nil
}

// DeleteUser takes the badge off first (the transport may need what the
// deletion erases to reach the user), then erases the user.
func (s statusStore) DeleteUser(ctx context.Context, userID int64) (int, error) {
	s.badges.Remove(ctx, handlers.User{ID: userID})
	return s.Store.DeleteUser(ctx, userID)
}

// refreshBadge shows the badge of the user's most recent verified level,
// or takes it off when none is left.
func (s statusStore) refreshBadge(ctx context.Context, userID int64) {
	if s.badges == nil {
		return
	}
	statuses, err := s.ListStatuses(ctx, userID)
	if err != nil {
		// Off rather than a badge that may be wrong.
		s.badges.Remove(ctx, handlers.User{ID: userID})
		return
	}
	var last *store.Status
	for i := range statuses {
		if st := &statuses[i]; st.State == store.StateVerified && (last == nil || st.UpdatedAt.After(last.UpdatedAt)) {
			last = st
		}
	}
	if last == nil {
		s.badges.Remove(ctx, handlers.User{ID: userID})
		return
	}
	s.badges.Grant(ctx, handlers.User{ID: userID}, last.Level, last.ValidUntil)
}

// Ending, Schedule, Claim and Unclaim serve lifecycle.Store.
func (s statusStore) Ending(ctx context.Context, before time.Time, limit int) ([]store.Validity, error) {
	return s.v.Ending(ctx, before, limit)
}

func (s statusStore) Schedule(ctx context.Context, userID int64, level string, until time.Time) error {
	return s.v.Schedule(ctx, userID, level, until)
}

func (s statusStore) Claim(ctx context.Context, userID int64, level string, until time.Time, what string) (bool, error) {
	return s.v.Claim(ctx, userID, level, until, what)
}

func (s statusStore) Unclaim(ctx context.Context, userID int64, level string, until time.Time, what string) error {
	return s.v.Unclaim(ctx, userID, level, until, what)
}

// badges returns the verification badge of the config on the transport t:
// nil when the badge is off, or when t cannot set it (a transport of the
// host's own that does not implement handlers.Badger; logged).
func (b *Bot) badges(set *settings, t Transport, admins *handlers.Admins) *handlers.Badges {
	cfg := set.cfg
	if !cfg.Badge.Enabled {
		return nil
	}
	bt, ok := t.(handlers.Badger)
	if !ok {
		b.log.Warn("bot: badge.enabled is set but the transport cannot set verification badges; no badges")
		return nil
	}
	return &handlers.Badges{Telegram: bt, Catalog: set.cat, Description: cfg.Badge.Description,
		Titles: levelTitles(cfg), Admins: admins, Log: b.log}
}

// Event kinds of a status that changed outside a submission.
// onRevoked is the admin commands' hook: the revocation's event, with
// the admin's reason code as its one problem (target "status").
func (b *Bot) onRevoked(ctx context.Context, r admin.Revoked) error {
	return b.emit(ctx, delivery.Transition{Kind: delivery.KindRevoked, UserID: r.UserID, Level: r.Level, Ref: r.Ref,
		At: r.At, Key: r.ID, State: store.StateRevoked,
		Problems: []delivery.Problem{{Target: "status", Code: verify.Code(r.Reason)}}})
}

// onExpired is the sweep's hook: the expiry's event, at the moment the
// verification ended (now for an undecided review's), with the reason of
// an early end as its one problem (target "status").
func (b *Bot) onExpired(ctx context.Context, e lifecycle.Expired) error {
	t := delivery.Transition{Kind: delivery.KindExpired, UserID: e.UserID, Level: e.Level, Ref: e.Ref,
		At: e.Until, Key: e.ID, State: store.StateExpired, ValidUntil: e.Until}
	if e.Reason != "" {
		t.Problems = []delivery.Problem{{Target: "status", Code: verify.Code(e.Reason)}}
	}
	return b.emit(ctx, t)
}

// sweep looks for verifications that end soon every WithValiditySweep
// until ctx ends (lifecycle.Lifecycle.Sweep), on the handlers in force,
// and finishes the erasures cut short (erasing.finishErasures).
func (b *Bot) sweep(ctx context.Context) {
	for {
		if w := b.wiring(); w != nil && w.life != nil {
			if _, err := w.life.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
				b.log.WarnContext(ctx, "bot: validity sweep", slog.String("error", err.Error()))
			}
			if _, err := w.erase.finishErasures(ctx); err != nil && !errors.Is(err, context.Canceled) {
				b.log.WarnContext(ctx, "bot: erasures cut short", slog.String("error", err.Error()))
			}
		}
		if err := wait.Sleep(ctx, b.o.sweepEvery); err != nil {
			return
		}
	}
}
