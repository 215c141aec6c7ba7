package bot_test

import (
	"context"
	"fmt"
	"log"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// A host bot that already has /status and /help of its own embeds kycbot:
// kycbot's /status becomes /kyc_status_me, its /help is turned off, and
// everything that is not kycbot's (the host's commands, plain text) stays
// with the host's handler: kycbot gives no catch-all reply unless
// bot.WithEverything asks for one, as the standalone bot does.
func ExampleWithCommand() {
	ctx := context.Background()
	mr, err := miniredis.Run() // stands in for the host's Redis
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	key, err := passport.GenerateKey(2048)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic: {title: "Basic check", scope: [personal_details]}
web: {public_url: "https://kyc.acme.example"}
`), "config.yaml")
	if err != nil {
		log.Fatal(err)
	}
	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithPrivateKey(key), bot.WithInstance("shop-1"),
		bot.WithCommand("status", "kyc_status_me"), bot.WithoutCommand("help"))
	if err != nil {
		log.Fatal(err)
	}
	defer kyc.Close()

	// What the host's hook (gotd.Hook) asks of each message.
	user := handlers.User{ID: 1001}
	for _, text := range []string{"/kyc_status_me", "/status", "/help", "/verify", "/delete_my_data", "hello"} {
		u := bot.Update{Kind: bot.KindMessage, From: user, MsgID: 1, Text: text}
		owner := "the host"
		if kyc.Wants(u) {
			owner = "kycbot"
		}
		fmt.Printf("%-16s -> %s\n", text, owner)
	}
	// Output:
	// /kyc_status_me   -> kycbot
	// /status          -> the host
	// /help            -> the host
	// /verify          -> kycbot
	// /delete_my_data  -> kycbot
	// hello            -> the host
}

// A rename that clashes is refused when the bot is made.
func ExampleWithoutCommand() {
	ctx := context.Background()
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	key, err := passport.GenerateKey(2048)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Parse([]byte(`
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic: {scope: [personal_details]}
web: {public_url: "https://kyc.acme.example"}
`), "config.yaml")
	if err != nil {
		log.Fatal(err)
	}
	// /cancel off, and /verify renamed onto the name /start has.
	_, err = bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithPrivateKey(key), bot.WithoutCommand("cancel"), bot.WithCommand("verify", "start"))
	fmt.Println(err)
	// Output:
	// bot: chat: commands "start" and "verify" are both named "start"
}
