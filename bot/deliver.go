package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// webhook reports whether results go to a webhook (delivery.webhook_url).
// It cannot change with Reload.
func (b *Bot) webhook() bool { return b.current().cfg.Delivery.WebhookURL != "" }

// onVerified is the passport handler's hook: the application's hook, then
// the webhook event into the outbox. An error fails the verification for
// now: nothing is told to the user as verified before the business can
// have the result.
func (b *Bot) onVerified(ctx context.Context, v Verified) error {
	if b.o.onVerified != nil {
		if err := b.o.onVerified(ctx, v); err != nil {
			return err
		}
	}
	if !b.webhook() {
		return nil
	}
	d := b.current().cfg.Delivery
	ev, err := delivery.FromVerified(ctx, v, delivery.Include{Data: d.IncludeData, Files: d.IncludeFiles})
	if err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	if err := b.outbox.Add(ctx, ev); err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	return nil
}

// onRejected is the passport handler's hook for final rejections.
func (b *Bot) onRejected(ctx context.Context, r Rejected) error {
	if b.o.onRejected != nil {
		if err := b.o.onRejected(ctx, r); err != nil {
			return err
		}
	}
	if !b.webhook() {
		return nil
	}
	if err := b.outbox.Add(ctx, delivery.FromRejected(r)); err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	return nil
}

// sender returns the webhook sender of this instance, or nil without a
// webhook.
func (b *Bot) sender() (*delivery.Sender, error) {
	if !b.webhook() {
		return nil, nil
	}
	d := b.current().cfg.Delivery
	s, err := delivery.NewSender(b.store, delivery.Options{
		URL: d.WebhookURL, Secret: []byte(d.WebhookSecret.Value()), PreviousSecret: []byte(d.PreviousWebhookSecret.Value()),
		GiveUpAfter: d.GiveUpAfter, MinBackoff: d.MinBackoff, MaxBackoff: d.MaxBackoff, ReclaimAfter: d.ReclaimAfter,
		OnParked: b.parked, OnResult: b.metrics.Delivery, Logger: b.log, Clock: b.o.now,
	})
	if err != nil {
		return nil, fmt.Errorf("bot: webhook: %w", err)
	}
	return s, nil
}

// parked alerts the admins of a delivery given up on (once per event,
// whichever instance parks it), and audits it.
func (b *Bot) parked(ctx context.Context, p delivery.Parked) {
	if err := b.store.Audit().AppendOnce(ctx, store.Event{Kind: "delivery_parked", UserID: p.UserID, Codes: []string{p.Reason},
		Detail: map[string]string{"event_id": p.EventID, "attempts": strconv.Itoa(p.Attempts)}}, "delivery_parked:"+p.EventID); err != nil {
		b.log.ErrorContext(ctx, "bot: audit of a parked delivery failed", slog.String("error", err.Error()))
	}
	if w := b.wiring(); w != nil {
		w.admins.NotifyText(ctx, "parked:"+p.EventID, i18n.MsgAdminDeliveriesParked, func(loc *i18n.Localizer) string {
			return loc.Plural(i18n.MsgAdminDeliveriesParked, 1, nil)
		})
	}
}
