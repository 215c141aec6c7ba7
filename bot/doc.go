// Package bot is kycbot's plugin: identity verification with Telegram
// Passport, one pipeline for any host bot and any number of instances.
//
// New builds a Bot from a config (config.Load, Parse, or New in Go): the
// private key, the texts, the rules of every level, the Redis store and
// the metrics. A transport's hook hands kycbot its updates (Wants tells
// which: Passport submissions, kycbot's commands and buttons) and Enqueue
// puts them in a queue in Redis, sealed, once per Telegram message. Run
// works that queue with the transport's client: each update is handled by
// one instance, kept in the queue while it is handled, taken over by
// another instance when its own stops answering, and acknowledged once
// its outcome is recorded and told. Every effect of handling an update is
// idempotent, so an update handled twice tells the user nothing twice.
//
//	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithOnVerified(save))
//	updatesHandler := gotd.Hook(kyc, hostHandler)   // package bot/gotd
//	// once the host's gotd client is logged in:
//	err = gotd.Run(ctx, kyc, client.API())          // the workers
//	http.Handle("/", kyc.Handler())                 // the request page, at web.public_url
//
// Embedded, kycbot takes only its own updates: every other message
// (the host's commands, plain text) and every other button stays with the
// host's handler, untouched, and kycbot answers nothing else (no catch-all
// reply; WithEverything, which the standalone bot sets, asks for one).
// WithCommand renames kycbot's public commands (/start, /verify, /status,
// /language, /help, /cancel, /delete_my_data) and WithoutCommand turns one
// off, for a host that has commands of these names.
//
// The standalone bot of `kycbot run` is package bot/runner; the gotd
// transport and hook are package bot/gotd. docs/architecture.md tells how
// an update flows, docs/operations.md how to run several instances.
//
// WithOnVerified receives every accepted submission (typed data, the
// scans while the hook runs, the level and the business's reference from
// /start <ref>), WithOnRejected every final rejection, WithOnReview every
// case sent to manual review (rules.review, rules.review_sample,
// rules.duplicates: review, a hit of the config's screening.lists, which
// New loads, Run watches and Reload reconfigures, or a WithReviewCheck;
// the admin's decision then reaches WithOnVerified or WithOnRejected); with
// delivery.webhook_url they also reach the business as signed webhooks
// (package bot/delivery), sent by Run. The review page, where an admin
// opens a case from a one-time link and decides, is served by OpsHandler
// only. Handler serves the request page and,
// when web.ops_listen is public, /healthz, /readyz and /metrics
// (OpsHandler serves those alone, on 127.0.0.1:9090 by default); the metrics are the Bot's own Prometheus registry
// (package bot/metrics). Reload puts a new config in force without
// dropping work, and refuses settings that need a restart.
//
// The bot logs through WithLogger only: without it, it logs nothing (it
// never writes to slog.Default()). Nothing personal is ever logged.
package bot
