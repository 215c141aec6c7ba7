package bot_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
)

// Embedding kycbot into an existing gotd bot: build it from your config,
// then Register it on your dispatcher once your client is logged in, and
// serve kyc.Handler() (the request page) at web.public_url. Here a local
// Telegram (package sandbox) and an in-process Redis stand in for the
// real ones, and a simulated user says /start.
func Example_embed() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	key, err := passport.GenerateKey(2048)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		log.Fatal(err)
	}
	account, err := sb.AddBot(sandbox.BotSpec{Username: "acme_kyc_bot", PublicKeyPEM: string(pub)})
	if err != nil {
		log.Fatal(err)
	}
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()

	cfg, err := config.Parse([]byte(`
telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "`+account.Token+`"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic:
    scope: [personal_details, phone_number]
web: {public_url: "https://kyc.acme.example"}
`), "config.yaml")
	if err != nil {
		log.Fatal(err)
	}
	kyc, err := bot.New(ctx, cfg, bot.WithRedis(redis.NewClient(&redis.Options{Addr: mr.Addr()})), bot.WithPrivateKey(key))
	if err != nil {
		log.Fatal(err)
	}

	// Your bot: your dispatcher and your gotd client.
	d := tg.NewUpdateDispatcher()
	opts := sb.Options(&session.StorageMemory{}) // real Telegram: your own options
	opts.UpdateHandler = d
	client := telegram.NewClient(1, "0123456789abcdef0123456789abcdef", opts)
	err = client.Run(ctx, func(ctx context.Context) error {
		if _, err := client.Auth().Bot(ctx, account.Token); err != nil {
			return err
		}
		if err := kyc.Register(ctx, &d, client.API()); err != nil {
			return err
		}
		// http.Handle("/", kyc.Handler()) serves the request page.

		user, err := sb.NewSimUser(ctx, sandbox.UserSpec{Phone: "15550001111", FirstName: "Ada", LangCode: "en"}, sandbox.SimUserOptions{})
		if err != nil {
			return err
		}
		defer user.Close()
		if _, err := user.Start(ctx, "acme_kyc_bot", ""); err != nil {
			return err
		}
		m, err := user.WaitMessage(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Println(strings.SplitN(m.Text, "\n", 2)[0])
		// Before your client stops: let kycbot finish what it is doing.
		return kyc.Close(ctx)
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
}
