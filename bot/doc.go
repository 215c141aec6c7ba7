// Package bot is kycbot's public API: identity verification with Telegram
// Passport as a plugin for gotd bots, and the standalone bot that
// `kycbot run` starts.
//
// # Standalone
//
//	cfg, err := config.Load("config.yaml")
//	b, err := bot.New(ctx, cfg, bot.WithOnVerified(saveCustomer))
//	err = b.Run(ctx) // until ctx ends (SIGINT/SIGTERM in kycbot run)
//
// Run logs in with the bot token (the gotd session is kept in Redis, so a
// restart does not log in again), runs gotd's updates manager on the Redis
// state storage (updates sent while the bot was down are processed after
// a restart, each once), adds flood-wait and rate-limit middlewares, asks
// for what was missed after every reconnect, serves the request page on
// web.listen, and registers the commands with Telegram. On shutdown it
// stops taking web requests, lets the submissions in progress finish
// (WithShutdownTimeout) and disconnects.
//
// # Embedded
//
// A bot of your own registers kycbot on its tg.UpdateDispatcher once its
// client is logged in, and serves Handler() at web.public_url:
//
//	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb))
//	// inside client.Run, after login:
//	err = kyc.Register(ctx, dispatcher, client.API())
//	http.Handle("/", kyc.Handler())
//
// See Example_embed. Handlers run in goroutines of their own, at most
// WithConcurrency at once, so a submission being downloaded never holds up
// other chats; Close waits for them.
//
// # Hooks
//
// WithOnVerified receives every accepted submission (typed data, the scans
// as readers while the hook runs, the level and the business's reference
// from /start <ref>); WithOnRejected every final rejection. Nothing
// personal is ever logged.
//
// # Nothing lost
//
// A submission that cannot be processed now (Redis or Telegram
// unreachable) is retried with growing pauses (WithRetry); the user is
// told once that it takes longer. The nonce is consumed by message, so a
// retry after a lost Redis reply gets the same request back instead of a
// replay refusal.
package bot
