package gotd_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/gotd"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
)

// A shop's bot, built on gotd, embeds kycbot: its own handlers stay as
// they are, and gotd.Hook wraps them, taking kycbot's updates (/start,
// /verify, ..., the Passport submissions) into kycbot's queue, which
// gotd.Run works with the shop's client. Here a local Telegram (package
// sandbox) and an in-process Redis stand in for the real ones, and a
// simulated user talks to the bot.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	account, err := sb.AddBot(sandbox.BotSpec{Username: "acme_shop_bot", PublicKeyPEM: string(pub)})
	if err != nil {
		log.Fatal(err)
	}
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	defer mr.Close()

	// kycbot, from its config.
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
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithPrivateKey(key), bot.WithInstance("shop-1"))
	if err != nil {
		log.Fatal(err)
	}
	defer kyc.Close()

	// The shop's bot: its dispatcher with its own command, its updates
	// manager and its gotd client.
	var api *tg.Client
	d := tg.NewUpdateDispatcher()
	d.OnNewMessage(func(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
		m, ok := u.Message.(*tg.Message)
		if !ok || m.Out || m.Message != "/orders" {
			return nil
		}
		peer, ok := m.PeerID.(*tg.PeerUser)
		if !ok {
			return nil
		}
		var rid [8]byte
		_, _ = rand.Read(rid[:])
		_, err := api.MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{
			Peer:     &tg.InputPeerUser{UserID: peer.UserID, AccessHash: e.Users[peer.UserID].AccessHash},
			Message:  "You have no orders yet.",
			RandomID: int64(binary.LittleEndian.Uint64(rid[:])),
		})
		return err
	})
	gaps := updates.New(updates.Config{Handler: gotd.Hook(kyc, d)})
	opts := sb.Options(nil) // a real bot: your own options and session storage
	opts.UpdateHandler = gaps
	client := telegram.NewClient(1, "0123456789abcdef0123456789abcdef", opts)
	api = client.API()

	err = client.Run(ctx, func(ctx context.Context) error {
		auth, err := client.Auth().Bot(ctx, account.Token)
		if err != nil {
			return err
		}
		work, stop := context.WithCancel(ctx)
		defer stop()
		kycDone, gapsDone, receiving := make(chan error, 1), make(chan error, 1), make(chan struct{})
		go func() { kycDone <- gotd.Run(work, kyc, client.API()) }() // kycbot's workers
		// http.Handle("/", kyc.Handler()) serves the request page at web.public_url.
		go func() {
			gapsDone <- gaps.Run(work, client.API(), auth.User.GetID(), updates.AuthOptions{
				IsBot: true, OnStart: func(context.Context) { close(receiving) },
			})
		}()
		<-receiving

		// A user opens the chat: kycbot answers /start, the shop answers
		// its own command.
		user, err := sb.NewSimUser(ctx, sandbox.UserSpec{Phone: "15550001111", FirstName: "Ada", LangCode: "en"}, sandbox.SimUserOptions{})
		if err != nil {
			return err
		}
		defer user.Close()
		botID, err := user.Start(ctx, "acme_shop_bot", "")
		if err != nil {
			return err
		}
		greeting, err := user.WaitMessage(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Println("kycbot:", strings.SplitN(greeting.Text, "\n", 2)[0])
		request, err := user.WaitMessage(ctx, nil)
		if err != nil {
			return err
		}
		for _, row := range request.Buttons {
			for _, b := range row {
				site, _, _ := strings.Cut(b.URL, "/passport/")
				fmt.Printf("kycbot: [%s] opens %s/passport/...\n", b.Text, site)
			}
		}
		if err := user.Send(ctx, botID, "/orders"); err != nil {
			return err
		}
		orders, err := user.WaitMessage(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Println("shop:", orders.Text)

		// Before the client stops: kycbot finishes what it is doing (what
		// it cannot finish stays queued for the next start).
		stop()
		if err := <-gapsDone; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return <-kycDone
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// kycbot: Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
	// kycbot: [Verify with Telegram Passport] opens https://kyc.acme.example/passport/...
	// shop: You have no orders yet.
}
