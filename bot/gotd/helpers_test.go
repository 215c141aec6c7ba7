package gotd

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/tests/testkit"
)

// self is the bot account of the tests.
var self = bot.Self{ID: 5550001, Username: "kyc_test_bot"}

// newBot returns a Bot on the Redis of rdb, under a fresh key prefix,
// logging to logs (when not nil).
func newBot(t *testing.T, rdb redis.UniversalClient, logs io.Writer, opts ...bot.Option) *bot.Bot {
	t.Helper()
	prefix := testkit.Prefix(t, rdb, "gotd")
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	cfg, err := config.Parse([]byte(`
telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic:
    scope: [personal_details, phone_number]
web: {public_url: "https://kyc.acme.example"}
redis: {prefix: "`+prefix+`"}
`), "test.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]bot.Option{bot.WithRedis(rdb), bot.WithPrivateKey(handlerstest.Key(t)), bot.WithLogger(logger), bot.WithInstance("gotd-test")}, opts...)
	b, err := bot.New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
