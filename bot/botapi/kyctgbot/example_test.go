package kyctgbot_test

import (
	"context"
	"fmt"
	"log"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/bot/botapi/kyctgbot"
	"github.com/kycbot/kycbot/tests/adapterkit"
	"github.com/kycbot/kycbot/tests/testkit"
)

// shopBot is a shop's go-telegram/bot bot with kycbot in it, the
// README's code: kycbot's workers answer on bot/botapi's client with the
// same token, and the middleware gives kycbot its updates before the
// shop's own handler sees the others. apiURL is the Bot API server (the
// sandbox's here; for Telegram's, leave out tgbot.WithServerURL and
// botapi.WithBaseURL).
func shopBot(ctx context.Context, kyc *bot.Bot, token, apiURL string) error {
	b, err := tgbot.New(token, tgbot.WithServerURL(apiURL),
		tgbot.WithMiddlewares(kyctgbot.Middleware(kyc)), // kycbot takes its updates
		tgbot.WithDefaultHandler(shopHandler))
	if err != nil {
		return err
	}
	workers := make(chan error, 1) // kycbot's workers, on the same token:
	go func() { workers <- botapi.Run(ctx, kyc, botapi.NewClient(token, botapi.WithBaseURL(apiURL))) }()
	b.Start(ctx)
	return <-workers
}

// shopHandler is the shop's own handler: it answers /ping with "pong"
// and echoes any other text.
func shopHandler(ctx context.Context, b *tgbot.Bot, u *models.Update) {
	if u.Message == nil || u.Message.Text == "" {
		return
	}
	answer := u.Message.Text
	if answer == "/ping" {
		answer = "pong"
	}
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: answer}); err != nil {
		log.Printf("shop: answer update %d: %v", u.ID, err)
	}
}

// A shop's go-telegram/bot bot embeds kycbot with a middleware
// (shopBot): a user who starts the bot gets kycbot's greeting and its
// Telegram Passport button, and the shop's own handler still answers
// /ping. The sandbox (a local Telegram with its Bot API) and the test
// Redis stand in for the real ones; env.Say is a user writing in
// Telegram, printing the bot's answers.
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
