package sandbox_test

import (
	"context"
	"fmt"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"

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

// A gotd client on the obfuscated transport, as Telegram's apps connect:
// the servers accept it on the same port as the plain transports and
// count the connection under its transport.
func ExampleSandbox_Transports() {
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
	opts := sb.Options(nil)
	opts.Resolver = dcs.Plain(dcs.PlainOptions{Protocol: transport.Abridged, Obfuscated: true})
	client := telegram.NewClient(1, "app-hash", opts)
	err = client.Run(ctx, func(ctx context.Context) error {
		_, err := client.Auth().Bot(ctx, bot.Token)
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sb.Transports()[sandbox.TransportObfuscatedAbridged] > 0)
	// Output: true
}

// The servers speak one schema layer; a request in another one answers
// this error.
func ExampleLayers() {
	fmt.Println(sandbox.Layers()[0] == tg.Layer, sandbox.ErrLayer == fmt.Sprintf("CONNECTION_LAYER_INVALID_%d", tg.Layer))
	// Output: true true
}

// A client that starts from a session NewSession made: it logs in without
// an exchange of its own, over the key the servers already know.
func ExampleRemote_NewSession() {
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
	r := sb.Remote()
	storage, err := r.NewSession(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := telegram.NewClient(1, "app-hash", r.Options(storage))
	err = client.Run(ctx, func(ctx context.Context) error {
		auth, err := client.Auth().Bot(ctx, bot.Token)
		if err != nil {
			return err
		}
		fmt.Println(auth.User.(*tg.User).Username)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: my_kyc_bot
}
