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
// web.listen, with /healthz, /readyz and /metrics beside it or, when
// web.ops_listen is set, on that address alone, and registers the
// commands with Telegram. On shutdown it
// stops taking web requests, lets the submissions in progress finish
// (WithShutdownTimeout) and disconnects. A submission the timeout cuts
// short is not half done: nothing more is told or recorded, and Run rolls
// the saved updates state back before it, so that it is processed again,
// in full and once, after the next start.
//
// Nothing depends on one process's memory: every submission being
// processed is held in a journal shared in Redis (store.HoldSubmission;
// sealed under JournalKey, derived from the Passport private key) under
// a lease of JournalLease, renewed every third of it, and released once
// the processing ended in a final way. One the shutdown cuts short is
// left there with its lease ended, and an instance that crashes stops
// renewing it: Run's sweeper, on every running instance (once on start,
// then every WithJournalSweep), claims the entries whose lease ended and
// processes them again through the workers, under the update ID that
// owns their dedupe mark, so that the processing resumes (the nonce is
// consumed by message; status, audit and hooks are idempotent by nonce
// hash). So in a rolling deploy, where another instance stores its pts
// over the rollback, the submission is still finished, by that instance.
//
// # Embedded
//
// A bot of your own registers kycbot on its tg.UpdateDispatcher once its
// client is logged in, and serves Handler() at web.public_url (and, when
// web.ops_listen is set, OpsHandler() where only its monitoring reaches
// it):
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
// replay refusal, and the retries of one update hold its dedupe mark, so
// they are not dropped as duplicates of it. The outcome (status, audit
// event) is recorded before the user is told. A submission still not
// processed when the retry window ends is given up on: the user is asked
// to share again. One the shutdown cuts short (a slow download, or one
// waiting for Redis) is left to the next start instead: Run releases its
// dedupe mark and rolls the updates state back, and Telegram delivers it
// again. An embedded bot (Register) owns its updates state: Close cancels
// the submissions still running after its context ends, and they are not
// delivered again.
//
// # Health and readiness
//
// Handler serves GET /healthz, 200 whenever the server answers
// (liveness), and GET /readyz, 200 only when Ready succeeds: the bot
// receives updates (Run has started gotd's updates manager and is not
// stopping; for an embedded bot, Register has run and Close has not) and
// Redis answers a PING. Otherwise it answers 503 and logs why
// (ErrNotReceiving, or the Redis error).
//
// These checks and /metrics are for monitoring, not for the Internet.
// OpsHandler serves the three of them alone; when web.ops_listen is set,
// Run serves it on that address (from its start until it returns) and
// Handler answers them 404 like any unknown path, so that only the
// request page is reachable through web.public_url.
//
// # Metrics
//
// Each Bot has a Prometheus registry of its own (Registry; never the
// global one), served as GET /metrics by Handler, or by OpsHandler alone
// when web.ops_listen is set (MetricsHandler serves it alone). Package bot/metrics defines the kycbot_* series:
// submissions by outcome, problem codes, the time to a verdict, webhook
// deliveries and the outbox depth, Telegram RPC errors by method and
// code (a middleware Run installs beneath the flood-wait one), the
// updates in flight and the commands. Run adds the go_* and process_*
// series. docs/operations.md explains each.
//
// # Logs
//
// Every update is handled with a logger of its own (passed down in the
// context, handlers.ContextWithLogger) whose records carry "update_id",
// 12 random hex digits, and "handler" (passport, command or callback):
// every record of one update's processing, retries included, can be
// found together. Logs hold user IDs, codes and hashes, never personal
// data or message texts.
//
// # Reload
//
// Reload puts a new config in force without dropping work: the levels,
// rules, texts, admins and a few passport and delivery settings. New
// handlers are built and swapped in at once; updates being handled
// finish with the old ones. A config that changes what cannot change
// while the bot runs (the Telegram credentials, the private key file,
// Redis, the web section (listen, public_url, ops_listen), the webhook,
// retention) is
// refused with an error naming those settings (ErrReloadRefused), and
// the config in force stays. `kycbot run` reloads its file on SIGHUP.
package bot
