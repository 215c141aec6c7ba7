// Package kyctgbot embeds kycbot in a bot written with go-telegram/bot
// (github.com/go-telegram/bot): Middleware, given to bot.WithMiddlewares,
// gives kycbot its updates (Telegram Passport submissions, kycbot's
// commands, taps on kycbot's buttons) and passes every other update,
// untouched, to the bot's own handlers.
//
// The adapter only routes updates: go-telegram/bot's typed update is
// marshalled back to the Bot API's JSON (UpdateJSON; nothing of the
// Passport data is lost on the way: the elements with their data, hashes
// and files, and the encrypted credentials) and handed to botapi.Take.
// kycbot's workers answer users through bot/botapi's own client with the
// same token (botapi.Run), beside go-telegram/bot's:
//
//	kyc, err := kycbot.New(ctx, cfg, kycbot.WithRedis(rdb))
//	go botapi.Run(ctx, kyc, botapi.NewClient(token)) // kycbot's workers
//	b, err := bot.New(token, bot.WithMiddlewares(kyctgbot.Middleware(kyc)), bot.WithDefaultHandler(yours))
//	b.Start(ctx)
//
// (kycbot here is github.com/kycbot/kycbot/bot, bot go-telegram's.)
// Serve kyc.Handler() at web.public_url: it is the request page the
// users' Telegram Passport button opens.
//
// go-telegram/bot confirms updates to Telegram (the long poll's offset)
// when it receives them, not when they are handled, and its handlers
// return no error: a kycbot update that Redis cannot take (botapi.Take
// waits and retries until the handler's context ends, when the bot
// stops) is logged on kycbot's logger and not delivered again.
//
// This is a Go module of its own, so that kycbot's users who do not use
// go-telegram/bot do not pull it into their builds. Its go.mod requires
// github.com/kycbot/kycbot v0.0.0, a placeholder that the replace next
// to it points at the checkout (../../..); that replace does not apply
// outside this repository, so a bot there requires both modules at one
// release (the adapter's tag is bot/botapi/kyctgbot/vX.Y.Z) and pins the
// placeholder to it:
//
//	require (
//		github.com/kycbot/kycbot vX.Y.Z
//		github.com/kycbot/kycbot/bot/botapi/kyctgbot vX.Y.Z
//	)
//	replace github.com/kycbot/kycbot v0.0.0 => github.com/kycbot/kycbot vX.Y.Z
package kyctgbot
