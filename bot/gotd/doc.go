// Package gotd is kycbot's transport for bots built on gotd
// (github.com/gotd/td): Hook wraps the host bot's update handler, taking
// kycbot's updates into its queue and passing every other update on
// untouched, and Transport lets the pipeline talk to Telegram with the
// host's client. Run starts kycbot's workers on that client.
//
// A host bot embeds kycbot in a few lines:
//
//	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithOnVerified(save))
//	d := tg.NewUpdateDispatcher()   // the host's own handlers
//	d.OnNewMessage(hostMessages)
//	gaps := updates.New(updates.Config{Handler: gotd.Hook(kyc, d)})
//	client := telegram.NewClient(appID, appHash, telegram.Options{UpdateHandler: gaps})
//	err = client.Run(ctx, func(ctx context.Context) error {
//		self, err := client.Auth().Bot(ctx, token)
//		if err != nil {
//			return err
//		}
//		go gotd.Run(ctx, kyc, client.API())  // kycbot's workers
//		http.Handle("/", kyc.Handler())       // the request page, at web.public_url
//		return gaps.Run(ctx, client.API(), self.User.GetID(), updates.AuthOptions{IsBot: true})
//	})
//
// Updates being handled when the host stops stay in the queue and are
// handled, in full and once, when it starts again (or by another
// instance): an embedded bot recovers like the standalone one (package
// bot/runner). See the runnable example.
package gotd
