// Package delivery delivers verification outcomes to the business's
// backend as signed webhooks, through the Redis outbox, at least once.
//
// Every change of a user's status is an Event: the flow's hooks turn
// their outcome into one (FromVerified, FromRejected, FromReview,
// FromNeedsFixes), and package bot builds the others (erased; expired and
// revoked) with FromTransition; each goes into the Outbox, which is all
// they wait for. Each user's events are delivered in the order they were
// added, and kept sealed for store.Outbox.Resend (/kyc_resend). A Sender on every instance claims the events, POSTs each to
// the webhook URL signed with HMAC-SHA256 (Sign, Verify; with
// Options.Signature also as Standard Webhooks: SetStandardHeaders,
// VerifyStandard), acknowledges it
// on a 2xx answer, retries it with exponential backoff otherwise, and
// parks it once it is older than GiveUpAfter, telling the admins through
// OnParked. An instance stopped mid-delivery hands its events back to be
// sent again at once; one that dies leaves them to the others after
// ReclaimAfter. NewRequest builds those requests, for tools and tests that send
// what the bot sends (kycbot webhook send). docs/webhook.md describes the
// requests for the receiving side.
//
// # Scans: one-time links
//
// With Include.Files, FromVerified streams each scan once through
// Verified.Open for its size, SHA-256 and media type; the event keeps
// where the scan is (its location at Telegram and its file credentials),
// never its bytes, and the Outbox seals that with the event. At every
// attempt the Sender mints a fresh link per scan (Options.Links, Links.Mint):
// a random 32-byte token whose record, the scan's description and
// location, is sealed in Redis (store.ScanLinks, under a key derived from
// the Passport private key) under the SHA-256 of the token, for
// LinkOptions.TTL (config delivery.file_link_ttl, default 1 hour). The
// body carries the link (File.URL, File.ExpiresAt). The web server
// (package web, Options.Scans, wired by package bot) serves it: Links.Take
// consumes the record (GETDEL: a link works once), then it downloads the
// scan through the bot's transport and decrypts it into the answer as it
// arrives. So neither the body, the outbox nor any Redis value ever holds
// a scan, and memory stays bounded whatever the sizes.
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
//	links, err := delivery.NewLinks(st, delivery.LinkOptions{ // st also needs store.WithScanLinkKey
//		URL: func(token string) string { return web.ScanURL(cfg.Web.PublicURL, token) },
//		TTL: cfg.Delivery.FileLinkTTL,
//	})
//	...
//	sender, err := delivery.NewSender(st, delivery.Options{
//		URL: cfg.Delivery.WebhookURL, Secret: secret, GiveUpAfter: cfg.Delivery.GiveUpAfter,
//		PreviousSecret: []byte(cfg.Delivery.PreviousWebhookSecret.Value()),
//		MinBackoff: cfg.Delivery.MinBackoff, MaxBackoff: cfg.Delivery.MaxBackoff,
//		ReclaimAfter: cfg.Delivery.ReclaimAfter,
//		OnParked: alertAdmins, Logger: log, Links: links,
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
// Events may hold personal data (Event.Data) and what fetches the scans
// (the sources of Event.Files: file locations and credentials). They are
// sealed with AES-256-GCM in Redis (OutboxKey; the links' records under
// their own key), sent only in request bodies (the sources never: only
// links), and never logged: logs and errors carry event IDs, user IDs,
// status codes, reason codes and attempt counts. Event's String and
// LogValue leave the data out.
package delivery
