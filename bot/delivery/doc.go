// Package delivery delivers verification outcomes to the business's
// backend as signed webhooks, through the Redis outbox, at least once.
//
// The OnVerified and OnRejected hooks turn the outcome into an Event
// (FromVerified, FromRejected) and add it to the Outbox; that is all they
// wait for. A Sender on every instance claims the events, POSTs each to
// the webhook URL signed with HMAC-SHA256 (Sign, Verify), acknowledges it
// on a 2xx answer, retries it with exponential backoff otherwise, and
// parks it once it is older than GiveUpAfter, telling the admins through
// OnParked. An instance that dies mid-delivery leaves its events to the
// others. NewRequest builds those requests, for tools and tests that send
// what the bot sends (kycbot webhook send). docs/webhook.md describes the
// requests for the receiving side.
//
// Wiring, with the config's delivery section:
//
//	secret := []byte(cfg.Delivery.WebhookSecret.Value())
//	st := store.New(rdb, store.WithOutboxKey(outboxKey)) // 32 bytes; see Keys
//	out := delivery.NewOutbox(st)
//	inc := delivery.Include{Data: cfg.Delivery.IncludeData, Files: cfg.Delivery.IncludeFiles}
//	onVerified := func(ctx context.Context, v verification.Verified) error {
//		ev, err := delivery.FromVerified(ctx, v, inc)
//		if err != nil {
//			return err
//		}
//		return out.Add(ctx, ev)
//	}
//	onRejected := func(ctx context.Context, r verification.Rejected) error {
//		return out.Add(ctx, delivery.FromRejected(r))
//	}
//	sender, err := delivery.NewSender(st, delivery.Options{
//		URL: cfg.Delivery.WebhookURL, Secret: secret, GiveUpAfter: cfg.Delivery.GiveUpAfter,
//		PreviousSecret: []byte(cfg.Delivery.PreviousWebhookSecret.Value()),
//		MinBackoff: cfg.Delivery.MinBackoff, MaxBackoff: cfg.Delivery.MaxBackoff,
//		ReclaimAfter: cfg.Delivery.ReclaimAfter,
//		OnParked: alertAdmins, Logger: log,
//	})
//	...
//	go sender.Run(ctx)
//
// # Keys and rotation
//
// The outbox key is not the webhook secret's: package bot seals the
// outbox under bot.OutboxKey, derived from the Passport private key, so
// that changing the webhook secret strands nothing queued. OutboxKey (of
// the webhook secret) is the key of the versions before; the bot gives it
// to store.WithOutboxKey as a previous key, so that events queued before
// the upgrade still go out. A Passport key rotation keeps the outbox
// open the same way (the previous keys' derivations are previous outbox
// keys).
//
// To rotate the webhook secret, set the new one in webhook_secret and the
// old one in previous_webhook_secret (Options.PreviousSecret): every
// request then carries a v1 signature under each (Sign), so that a
// receiver checking either accepts it during the rolling restart. Once
// every receiver checks the new secret, remove the previous one.
// docs/operations.md ("Rotating secrets") has the steps.
//
// # Personal data
//
// Events may hold personal data (Event.Data, Event.Files). It is sealed
// with AES-256-GCM in Redis (OutboxKey), sent only in request bodies, and
// never logged: logs and errors carry event IDs, user IDs, status codes,
// reason codes and attempt counts. Event's String and LogValue leave the
// data out.
package delivery
