package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// maxRemindersPerRound bounds the reviews one round of remindReviews looks
// at; the rest wait for the next round.
const maxRemindersPerRound = 100

// reminderPeriod is admin_notices.review_reminder in force.
func (b *Bot) reminderPeriod() time.Duration {
	if p := b.current().cfg.AdminNotices.ReviewReminder; p > 0 {
		return p
	}
	return config.DefaultReviewReminder
}

// remindLoop reminds the admins of the reviews left undecided until ctx
// ends, looking every quarter of the period (between a second and a
// minute). Run runs it on every instance: the store's Remind lets one
// instance remind of each review per period.
func (b *Bot) remindLoop(ctx context.Context) {
	for {
		period := b.reminderPeriod()
		if err := wait.Sleep(ctx, min(max(period/4, time.Second), time.Minute)); err != nil {
			return
		}
		b.remindReviews(ctx, period)
	}
}

// remindReviews reminds the admins, each with a new link of their own, of
// every review that has waited a period since it was sent to review or
// last reminded of. A review gone undecided (past its retention) is taken
// off, and the admins are told once when the user is still under review.
func (b *Bot) remindReviews(ctx context.Context, period time.Duration) {
	w := b.wiring()
	if w == nil {
		return
	}
	reviews := b.store.Reviews()
	due := b.o.now().Add(-period)
	waiting, err := reviews.Waiting(ctx, due, maxRemindersPerRound)
	if err != nil {
		b.log.WarnContext(ctx, "bot: cannot read the reviews waiting for a decision; trying again later", slog.String("error", err.Error()))
		return
	}
	for _, p := range waiting {
		if first, err := reviews.Remind(ctx, p, due); err != nil || !first {
			continue // another instance reminds of it, or Redis is away: next round
		}
		uid := strconv.FormatInt(p.UserID, 10)
		rv, err := w.flow.OpenReview(ctx, p.UserID, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			b.reviewGone(ctx, w, p)
			continue
		}
		if err != nil {
			b.log.ErrorContext(ctx, "bot: cannot open a review to remind of it; next reminder in a period",
				slog.String("review_id", p.ID), slog.String("error", err.Error()))
			continue
		}
		key := "remind:" + p.ID + ":" + strconv.FormatInt(b.o.now().Unix(), 10)
		w.admins.NotifyEach(ctx, key, i18n.MsgAdminReviewReminder, func(loc *i18n.Localizer, admin int64) string {
			return loc.Text(i18n.MsgAdminReviewReminder, map[string]any{"User": uid, "Level": rv.Level, "Ref": rv.Ref,
				"Since": loc.DateTime(rv.At), "Link": b.reviewLink(p.ID, p.UserID, admin)})
		})
		b.log.InfoContext(ctx, "bot: admins reminded of a review left undecided", slog.String("review_id", p.ID), slog.Int64("user_id", p.UserID))
	}
}

// reviewGone takes a review that is no longer kept off the waiting ones:
// it was erased with the user's data, or its retention ran out undecided.
// Then nobody can decide it any more: the user's verification at that
// level expires (lifecycle.ExpireUndecided: the event, the status, the
// user told to verify again) and the admins are told once.
func (b *Bot) reviewGone(ctx context.Context, w *wiring, p store.Waiting) {
	sts, err := b.store.Statuses().List(ctx, p.UserID)
	if err != nil {
		b.log.WarnContext(ctx, "bot: cannot look at a review gone; looked at again in a period", slog.String("error", err.Error()))
		return
	}
	// The status of the case is the user's oldest under review: every
	// review is kept equally long, so a user with cases at two levels
	// loses the older one first.
	var under *store.Status
	for i := range sts {
		if s := &sts[i]; s.State == store.StateReview && (under == nil || s.UpdatedAt.Before(under.UpdatedAt)) {
			under = s
		}
	}
	if under != nil {
		if err := w.life.ExpireUndecided(ctx, *under, p.ID); err != nil {
			// The review stays among the waiting ones: tried again in a period.
			b.log.WarnContext(ctx, "bot: cannot expire a review left undecided; tried again in a period",
				slog.String("review_id", p.ID), slog.String("error", err.Error()))
			return
		}
	}
	if err := b.store.Reviews().Forget(ctx, p); err != nil {
		b.log.WarnContext(ctx, "bot: cannot look at a review gone; looked at again in a period", slog.String("error", err.Error()))
		return
	}
	if under == nil {
		return
	}
	days := strconv.Itoa(int(verification.DefaultReviewTTL / (24 * time.Hour)))
	w.admins.Notify(ctx, "review_expired:"+p.ID, i18n.MsgAdminReviewExpired, map[string]any{"User": strconv.FormatInt(p.UserID, 10), "Days": days})
	b.log.WarnContext(ctx, "bot: a review expired undecided; its submission is erased and the verification expired",
		slog.String("review_id", p.ID), slog.Int64("user_id", p.UserID))
}
