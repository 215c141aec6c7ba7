package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/store"
)

// emit queues the webhook event of a status transition (see
// delivery.Transition) in the outbox, after the user's events queued
// before it: the one way kycbot reports a change that is not a verdict of
// the flow (needs_fix, erased; expired and revoked likewise). It does
// nothing without a webhook. The event ID comes from the kind, the user
// and t.Key: the same transition emitted again (an update handled twice)
// is queued once. An error wrapping store.ErrUnavailable means Redis could
// not be reached and emit can be called again.
func (b *Bot) emit(ctx context.Context, t delivery.Transition) error {
	if !b.webhook() {
		return nil
	}
	if t.At.IsZero() {
		t.At = b.o.now()
	}
	ev, err := delivery.FromTransition(t)
	if err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	return b.queue(ctx, ev)
}

// queue adds ev to the webhook's outbox (the caller checked b.webhook()).
func (b *Bot) queue(ctx context.Context, ev delivery.Event) error {
	if err := b.outbox.Add(ctx, ev); err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	return nil
}

// onNeedsFixes is the flow's hook for submissions sent back to be fixed:
// the webhook event.
func (b *Bot) onNeedsFixes(ctx context.Context, n verification.NeedsFixes) error {
	if !b.webhook() {
		return nil
	}
	return b.queue(ctx, delivery.FromNeedsFixes(n))
}

// erasing is the handlers' store (statusStore: badges and validities)
// whose DeleteUser (the user's /delete_my_data, an admin's /kyc_delete)
// reports the erasure to the webhook once it is done: DeleteUser drops the
// user's events still queued, and the erased event follows. The erasure
// is recorded as begun before anything is erased (store.Erasures) and as
// finished once its event is queued, so that one cut short (the process
// died, Redis went away half way) is finished by the sweep of any
// instance, event included.
type erasing struct {
	statusStore
	b *Bot
}

// DeleteUser erases the user, then emits the erased event when there
// was something to erase (a repeat finds nothing, and emits nothing,
// unless an earlier attempt erased and could not report it). A deletion
// that fails leaves the erasure begun: the sweep finishes it.
func (e erasing) DeleteUser(ctx context.Context, userID int64) (int, error) {
	er, err := e.b.store.Erasures().Begin(ctx, userID)
	if err != nil {
		return 0, err
	}
	n, err := e.statusStore.DeleteUser(ctx, userID)
	if err != nil {
		return n, err
	}
	if n == 0 && !er.Resumed {
		// Nothing was kept: nothing to report.
		if err := e.b.store.Erasures().Done(ctx, er); err != nil {
			e.b.log.WarnContext(ctx, "bot: cannot close an empty erasure", slog.String("error", err.Error()))
		}
		return 0, nil
	}
	if err := e.reported(ctx, er); err != nil {
		e.b.log.ErrorContext(ctx, "bot: the erasure is done but its webhook event could not be queued; the sweep tries again",
			slog.Int64("user_id", userID), slog.String("error", err.Error()))
	}
	return n, nil
}

// reported queues the erased event of er (its ID comes from when the
// erasure began: queued again, it is the same event) and closes er.
func (e erasing) reported(ctx context.Context, er store.Erasure) error {
	t := delivery.Transition{Kind: delivery.KindErased, UserID: er.UserID, At: er.Began, State: store.StateNone,
		Key: "erased:" + strconv.FormatInt(er.Began.UnixNano(), 10)}
	if err := e.b.emit(ctx, t); err != nil {
		return err
	}
	return e.b.store.Erasures().Done(ctx, er)
}

// erasureGrace is how long an erasure may take before the sweep takes
// it for one cut short and finishes it.
const erasureGrace = time.Minute

// finishErasures finishes the erasures that began more than erasureGrace
// ago and were not finished: the user confirmed them, so what is left of
// the user is erased (as it was when the erasure began, and whatever the
// user did since: there is no telling the two apart), and the erased
// event is queued. It returns how many it finished.
func (e erasing) finishErasures(ctx context.Context) (int, error) {
	stale, err := e.b.store.Erasures().Stale(ctx, e.b.o.now().Add(-erasureGrace), sweepErasures)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, er := range stale {
		n, err := e.statusStore.DeleteUser(ctx, er.UserID)
		if err == nil {
			err = e.reported(ctx, er)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("finish the erasure of user %d: %w", er.UserID, err))
			continue
		}
		e.b.log.WarnContext(ctx, "bot: an erasure cut short was finished", slog.Int64("user_id", er.UserID),
			slog.Int("records", n), slog.Time("began", er.Began))
		done++
	}
	return done, errors.Join(errs...)
}

// sweepErasures is how many erasures cut short one sweep finishes, at
// most.
const sweepErasures = 50

// resend queues the kept webhook event eventID again (store.Outbox.Resend,
// once per src) for /kyc_resend (kycbot webhook resend calls the store
// itself, without a running bot). Without a webhook
// nothing is kept, and it answers an error wrapping store.ErrNotFound.
func (b *Bot) resend(ctx context.Context, eventID, src string) (userID int64, kind string, err error) {
	if !b.webhook() {
		return 0, "", fmt.Errorf("bot: resend %s: no webhook: %w", eventID, store.ErrNotFound)
	}
	k, err := b.store.Outbox().Resend(ctx, eventID, src)
	if err != nil {
		return 0, "", fmt.Errorf("bot: %w", err)
	}
	return k.UserID, k.Kind, nil
}
