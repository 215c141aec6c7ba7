package kyctelego_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mymmrac/telego"
	th "github.com/mymmrac/telego/telegohandler"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/bot/botapi/kyctelego"
	"github.com/kycbot/kycbot/tests/adapterkit"
	"github.com/kycbot/kycbot/tests/testkit"
)

// shopBot is a shop's telego bot with kycbot in it, the README's code:
// kycbot's workers answer on bot/botapi's client with the same token,
// and the middleware gives kycbot its updates before the shop's own
// handler sees the others. apiURL is the Bot API server (the sandbox's
// here; for Telegram's, leave out telego.WithAPIServer and
// botapi.WithBaseURL).
func shopBot(ctx context.Context, kyc *bot.Bot, token, apiURL string) error {
	b, err := telego.NewBot(token, telego.WithAPIServer(apiURL), telego.WithDiscardLogger())
	if err != nil {
		return err
	}
	updates, err := b.UpdatesViaLongPolling(ctx, nil)
	if err != nil {
		return err
	}
	bh, err := th.NewBotHandler(b, updates)
	if err != nil {
		return err
	}
	bh.Use(kyctelego.Middleware(kyc)) // first: kycbot takes its updates
	bh.Handle(shopHandler, th.AnyMessageWithText())
	workers := make(chan error, 1) // kycbot's workers, on the same token:
	go func() { workers <- botapi.Run(ctx, kyc, botapi.NewClient(token, botapi.WithBaseURL(apiURL))) }()
	return errors.Join(bh.Start(), bh.Stop(), <-workers)
}

// shopHandler is the shop's own handler: it answers /ping with "pong"
// and echoes any other text.
func shopHandler(ctx *th.Context, u telego.Update) error {
	answer := u.Message.Text
	if answer == "/ping" {
		answer = "pong"
	}
	_, err := ctx.Bot().SendMessage(ctx, tu.Message(u.Message.Chat.ChatID(), answer))
	return err
}

// A shop's telego bot embeds kycbot with a middleware (shopBot): a user
// who starts the bot gets kycbot's greeting and its Telegram Passport
// button, and the shop's own handler still answers /ping. The sandbox (a
// local Telegram with its Bot API) and the test Redis stand in for the
// real ones; env.Say is a user writing in Telegram, printing the bot's
// answers.
func Example() {
	rdb, _ := testkit.NewClient() // the shop's Redis
	defer func() { _ = rdb.Close() }()
	env, err := adapterkit.New(context.Background(), rdb)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = env.Close() }()
	env.Host(shopBot)

	env.Say("/start", 2)
	env.Say("/ping", 1)
	// Output:
	// Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
	// To verify your identity, share the following through Telegram Passport: [Verify with Telegram Passport]
	// pong
}
