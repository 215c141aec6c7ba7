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
//	st := store.New(rdb, store.WithOutboxKey(delivery.OutboxKey(secret)))
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
//		MinBackoff: cfg.Delivery.MinBackoff, MaxBackoff: cfg.Delivery.MaxBackoff,
//		ReclaimAfter: cfg.Delivery.ReclaimAfter,
//		OnParked: alertAdmins, Logger: log, Links: links,
//	})
//	...
//	go sender.Run(ctx)
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
