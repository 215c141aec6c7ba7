package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

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
// whose DeleteUser (the user's
// /delete_my_data, an admin's /kyc_delete) reports the erasure to the
// webhook once it is done: DeleteUser drops the user's events still
// queued, and the erased event follows.
type erasing struct {
	statusStore
	b *Bot
}

// DeleteUser erases the user, then emits the erased event when there
// was something to erase (a repeat finds nothing, and emits nothing). A
// failure to queue the event is logged: the erasure stands.
func (e erasing) DeleteUser(ctx context.Context, userID int64) (int, error) {
	n, err := e.statusStore.DeleteUser(ctx, userID)
	if err != nil || n == 0 {
		return n, err
	}
	at := e.b.o.now()
	t := delivery.Transition{Kind: delivery.KindErased, UserID: userID, At: at, State: store.StateNone,
		Key: "erased:" + strconv.FormatInt(at.UnixNano(), 10)}
	if err := e.b.emit(ctx, t); err != nil {
		e.b.log.ErrorContext(ctx, "bot: the erasure is done but its webhook event could not be queued",
			slog.Int64("user_id", userID), slog.String("error", err.Error()))
	}
	return n, nil
}

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
