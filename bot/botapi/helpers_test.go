package botapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMain skips the examples when Redis is unreachable outside CI.
func TestMain(m *testing.M) { testkit.Main(m, "bot/botapi") }

// shopConfig is the shop's kycbot configuration in the tests and
// examples.
const shopConfig = `
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic:
    scope: [personal_details, phone_number]
web: {public_url: "https://kyc.acme.example"}
`

// testBot returns a kycbot of shopConfig on rdb under a fresh key
// prefix, logging nowhere.
func testBot(t *testing.T, rdb redis.UniversalClient) *bot.Bot { return configBot(t, rdb, shopConfig) }

// configBot returns a kycbot of the configuration yaml on rdb under a
// fresh key prefix, logging nowhere.
func configBot(t *testing.T, rdb redis.UniversalClient, yaml string) *bot.Bot {
	t.Helper()
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	cfg, err := config.Parse([]byte(yaml+`redis: {prefix: "`+testkit.Prefix(t, rdb, "botapi")+`"}
`), "test.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	kyc, err := bot.New(context.Background(), cfg, bot.WithRedis(rdb), bot.WithPrivateKey(handlerstest.Key(t)), bot.WithLogger(log), bot.WithInstance("botapi-test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kyc.Close() })
	return kyc
}

// setup returns a fake Bot API, a client of it and a kycbot on the test
// Redis.
func setup(t *testing.T, opts ...botapi.ClientOption) (*fakeAPI, *botapi.Client, *bot.Bot) {
	t.Helper()
	f := newFakeAPI()
	t.Cleanup(f.Close)
	c := botapi.NewClient(testToken, append([]botapi.ClientOption{botapi.WithBaseURL(f.URL()), botapi.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	return f, c, testBot(t, testkit.Need(t))
}

// downRedis is a client of a Redis that is not there.
func downRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// jsonOf returns v as JSON.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
