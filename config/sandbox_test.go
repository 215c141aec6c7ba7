package config_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/sandbox"
)

// telegram.server takes a gotd client to kycbot's local sandbox: the
// addresses and the key of its servers, written in the config, are all the
// client needs. The bot starts on DC 4, whose server sends it to DC 2.
func TestTelegramServerReachesSandbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{ServerKey: key, FilesDC: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	}()
	bot, err := sb.AddBot(sandbox.BotSpec{Username: "config_test_bot"})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	src := fmt.Sprintf(`telegram:
  server:
    dc: 4
    addresses:
      2: %s
      4: %s
    public_keys: |
      %s
levels:
  basic: {scope: [personal_details]}
`, sb.Addr(2), sb.Addr(4), strings.ReplaceAll(strings.TrimSpace(string(keyPEM)), "\n", "\n      "))
	cfg, err := config.Parse([]byte(src), "sandbox.yaml", config.WithEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		t.Fatal(err)
	}
	if sum := cfg.Summary(); !strings.Contains(sum, "Telegram servers: servers of your own, not Telegram's: DC 2 at "+sb.Addr(2).String()) {
		t.Errorf("summary:\n%s", sum)
	}

	var opts telegram.Options
	if err := cfg.Telegram.Server.Apply(&opts); err != nil {
		t.Fatal(err)
	}
	client := telegram.NewClient(1, "app-hash", opts)
	err = client.Run(ctx, func(ctx context.Context) error {
		auth, err := client.Auth().Bot(ctx, bot.Token)
		if err != nil {
			return err
		}
		if u, ok := auth.User.(*tg.User); !ok || u.ID != bot.ID || !u.Bot {
			return fmt.Errorf("logged in as %+v, want the bot %d", auth.User, bot.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the bot could not log in to the sandbox through telegram.server: %v", err)
	}
}
