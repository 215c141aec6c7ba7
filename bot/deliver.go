package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/web"
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
	return b.queue(ctx, ev)
}

// resultsTo says where the results of a verified submission went, for the
// admins' notice: the webhook event (its ID is that of the event
// onVerified queued), the application's hook, or nowhere (delivery.none,
// or no hook at all).
func (b *Bot) resultsTo(nonceHash string, userID int64) (to, eventID string) {
	switch {
	case b.webhook():
		return verification.ResultsToWebhook, delivery.NewEventID(delivery.KindVerified, userID, nonceHash)
	case b.o.onVerified != nil:
		return verification.ResultsToHook, ""
	}
	return verification.ResultsNowhere, ""
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
	return b.queue(ctx, delivery.FromRejected(r))
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
		OnParked: b.parked, OnResult: b.metrics.Delivery, Logger: b.log, Clock: b.o.now, Links: b.links, Signature: d.Signature,
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

// scans serves the one-time scan links of the webhook events (web.Scans)
// with a transport's Download: any instance serves any link, Redis
// being shared.
type scans struct {
	b *Bot
	t Transport
}

// scanSource returns the scan links' source of the web server on the
// transport t, or nil without a webhook (no links then).
func (b *Bot) scanSource(t Transport) web.Scans {
	if b.links == nil {
		return nil
	}
	return scans{b: b, t: t}
}

// Ready implements web.Scans: Run works the queue with the transport.
func (s scans) Ready(context.Context) error {
	if !s.b.running.Load() {
		return fmt.Errorf("bot: %w", ErrNotReceiving)
	}
	return nil
}

// Take implements web.Scans.
func (s scans) Take(ctx context.Context, token string) (web.Scan, error) {
	sc, err := s.b.links.Take(ctx, token)
	if errors.Is(err, delivery.ErrLinkNotFound) {
		return web.Scan{}, fmt.Errorf("%w: %w", web.ErrNotFound, err)
	}
	if err != nil {
		return web.Scan{}, err
	}
	return web.Scan{MIME: sc.MIME, Size: sc.Size, SHA256: sc.SHA256, File: sc.File, Record: sc}, nil
}

// Restore implements web.Scans.
func (s scans) Restore(ctx context.Context, token string, sc web.Scan) error {
	rec, ok := sc.Record.(delivery.Scan)
	if !ok {
		return errors.New("bot: restore a scan link: not a link's record")
	}
	return s.b.links.Restore(ctx, token, rec)
}

// Download implements web.Scans: the transport's, as the verification's.
func (s scans) Download(ctx context.Context, f *passport.File, w io.Writer) error {
	return s.t.Download(ctx, f, w)
}
