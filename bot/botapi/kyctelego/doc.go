// Package kyctelego embeds kycbot in a bot written with telego
// (github.com/mymmrac/telego): Middleware is a telegohandler middleware
// that gives kycbot its updates (Telegram Passport submissions, kycbot's
// commands, taps on kycbot's buttons) and passes every other update,
// untouched, to the bot's own handlers.
//
// The adapter only routes updates: telego's typed update is marshalled
// back to the Bot API's JSON (UpdateJSON; nothing of the Passport data
// is lost on the way: the elements with their data, hashes and files,
// and the encrypted credentials) and handed to botapi.Take. kycbot's
// workers answer users through bot/botapi's own client with the same
// token (botapi.Run), beside telego's:
//
//	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb))
//	go botapi.Run(ctx, kyc, botapi.NewClient(token)) // kycbot's workers
//	bh, err := th.NewBotHandler(telegoBot, updates)
//	bh.Use(kyctelego.Middleware(kyc)) // first: kycbot takes its updates
//	bh.Handle(yourHandler)
//
// Serve kyc.Handler() at web.public_url: it is the request page the
// users' Telegram Passport button opens.
//
// telego confirms updates to Telegram (the long poll's offset) when it
// receives them, not when they are handled: a kycbot update that Redis
// cannot take (botapi.Take waits and retries until the handler's context
// ends, when the bot handler stops) is reported as the handler's error
// and not delivered again.
//
// This is a Go module of its own, so that kycbot's users who do not use
// telego do not pull it (and fasthttp, sonic) into their builds. Its
// go.mod requires github.com/kycbot/kycbot v0.0.0, a placeholder that the
// replace next to it points at the checkout (../../..); that replace
// does not apply outside this repository, so a bot there requires both
// modules at one release (the adapter's tag is
// bot/botapi/kyctelego/vX.Y.Z) and pins the placeholder to it:
//
//	require (
//		github.com/kycbot/kycbot vX.Y.Z
//		github.com/kycbot/kycbot/bot/botapi/kyctelego vX.Y.Z
//	)
//	replace github.com/kycbot/kycbot v0.0.0 => github.com/kycbot/kycbot vX.Y.Z
package kyctelego
