package sandbox_test

import (
	"context"
	"fmt"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/sandbox"
)

// A gotd bot logs in to a sandbox with the token AddBot returned.
func ExampleStart() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = sb.Close() }()

	bot, err := sb.AddBot(sandbox.BotSpec{Username: "my_kyc_bot"})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := telegram.NewClient(1, "app-hash", sb.Options(nil))
	err = client.Run(ctx, func(ctx context.Context) error {
		auth, err := client.Auth().Bot(ctx, bot.Token)
		if err != nil {
			return err
		}
		self := auth.User.(*tg.User)
		fmt.Println(self.Username, self.Bot, self.ID == bot.ID)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: my_kyc_bot true true
}
