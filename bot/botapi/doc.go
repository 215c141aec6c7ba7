// Package botapi is kycbot's transport for bots built on the Telegram Bot
// API (JSON over HTTPS, core.telegram.org/bots/api): Take, Webhook and
// Poll give kycbot its updates and pass every other update on untouched;
// Transport lets the pipeline answer with the Bot API (Client); Run
// starts kycbot's workers on it. The API base URL is configurable
// (WithBaseURL): Telegram's, a self-hosted telegram-bot-api server, or
// the sandbox.
//
// A plain net/http bot embeds kycbot in a few lines:
//
//	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithOnVerified(save))
//	client := botapi.NewClient(token)
//	go botapi.Run(ctx, kyc, client) // kycbot's workers
//	http.Handle("/", kyc.Handler()) // the request page, at web.public_url
//	// Receiving with a webhook (setWebhook with the same secret_token):
//	http.Handle("/telegram", botapi.Webhook(kyc, myUpdates, botapi.WithSecretToken(secret)))
//	// or with long polling, in one process:
//	err = botapi.Poll(ctx, kyc, client, func(ctx context.Context, raw json.RawMessage) error {
//		return myHandle(ctx, raw) // the updates that are not kycbot's
//	})
//
// A framework's adapter marshals the framework's update back to JSON and
// calls Take: false means the update is the host's.
//
// Updates being handled when the bot stops stay in kycbot's queue and are
// handled, in full and once, when it starts again (or by another
// instance). An update is confirmed to Telegram (the webhook's 200, the
// poll's offset) only once it is in the queue, so none is lost; one
// received twice is dropped by the queue. Messages are kept from being
// sent twice by a record in Redis (see Transport), since the Bot API has
// no random_id. Flood control (429, retry_after) is waited out by the
// Client.
//
// Callback query IDs are strings in the Bot API and numbers in kycbot's
// queue: Telegram's are the decimal form of a 64-bit number, which
// ParseQueryID reads (signed or unsigned) and AnswerCallback gives back.
// A tap whose ID is not such a number (no Bot API server of Telegram's
// sends one) is not kycbot's: it goes to the host.
package botapi
