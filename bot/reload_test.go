package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store/storetest"
)

const fullLevel = `  full:
    scope: [personal_details, {one_of: [passport, identity_card], selfie: true}]`

// Reload puts new levels and admins in force; an update being handled
// when it happens finishes with the handlers it started with.
func TestReload(t *testing.T) {
	tb := newTestBot(t, "777", "")
	ctx := context.Background()
	unknown := tb.Catalog().Language("en").Text(i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": "basic"})

	tb.say(t, 1001, "/verify full")
	if text, buttons := tb.lastText(t); text != unknown || buttons != 0 {
		t.Fatalf("before the reload: %q with %d buttons, want %q", text, buttons, unknown)
	}

	// An update in progress during the reload.
	gate, sending := make(chan struct{}), make(chan struct{}, 1)
	tb.tg.mu.Lock()
	tb.tg.gate, tb.tg.sending = gate, sending
	tb.tg.mu.Unlock()
	tb.dispatch(t, 1002, "/verify full")
	select {
	case <-sending:
	case <-time.After(10 * time.Second):
		t.Fatal("the update did not reach Telegram")
	}
	old := tb.wiring()
	next := parseConfig(t, tb.prefix, "777, 778", fullLevel, nil)
	if err := tb.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	tb.tg.mu.Lock()
	tb.tg.gate = nil
	tb.tg.mu.Unlock()
	close(gate)
	if err := tb.work.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if text, buttons := tb.lastText(t); text != unknown || buttons != 0 {
		t.Errorf("the update in progress: %q with %d buttons, want the old handlers' %q", text, buttons, unknown)
	}

	// The next updates get the new handlers.
	tb.say(t, 1003, "/verify full")
	if text, buttons := tb.lastText(t); text == unknown || buttons != 1 {
		t.Errorf("after the reload: %q with %d buttons, want a request with its button", text, buttons)
	}
	if tb.Config() != next || tb.wiring() == old || tb.wiring().set.cfg != next {
		t.Error("the new config is not in force")
	}
	if _, ok := tb.current().checkers["full"]; !ok {
		t.Error("no checker for the new level")
	}
	if !slices.Equal(tb.Config().Admins, []int64{777, 778}) {
		t.Errorf("admins %v", tb.Config().Admins)
	}
	tb.tg.mu.Lock()
	commands := tb.tg.commands
	tb.tg.mu.Unlock()
	if commands != 0 {
		t.Errorf("an embedded bot registered the commands on reload (%d calls)", commands)
	}
	if !strings.Contains(tb.logs.String(), "config reloaded") {
		t.Errorf("the reload is not logged:\n%s", tb.logs)
	}
	// The request page follows: its scope function knows the new level.
	if _, err := tb.wiring().set.scope("full"); err != nil {
		t.Error(err)
	}
}

// Reload before Register swaps the settings; Register then wires them.
func TestReloadBeforeRegister(t *testing.T) {
	rdb := storetest.Need(t)
	prefix := storetest.Prefix(t, rdb, "bot")
	cfg := parseConfig(t, prefix, "", "", nil)
	b, err := New(context.Background(), cfg, WithRedis(rdb), WithPrivateKey(keys.get(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	next := parseConfig(t, prefix, "5", fullLevel, nil)
	if err := b.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if b.Config() != next || b.wiring() != nil {
		t.Error("Reload before Register")
	}
}

// Settings that cannot change at runtime are refused by name, and the
// config in force stays.
func TestReloadRefused(t *testing.T) {
	tb := newTestBot(t, "777", "")
	before := tb.Config()
	w := tb.wiring()
	for _, tc := range []struct {
		name  string
		from  string
		to    string
		paths []string
	}{
		{"bot token", testToken, "7000001:AAsomethingElseEntirely123456789", []string{"telegram.bot_token"}},
		{"app id and hash", "app_id: 1, app_hash: 0123456789abcdef0123456789abcdef", "app_id: 2, app_hash: fedcba9876543210fedcba9876543210",
			[]string{"telegram.app_id", "telegram.app_hash"}},
		{"listen", `listen: "127.0.0.1:0"`, `listen: "127.0.0.1:9999"`, []string{"web.listen"}},
		{"public url", "https://kyc.acme.example", "https://kyc2.acme.example", []string{"web.public_url"}},
		{"redis", `redis: {prefix: "`, `redis: {addrs: ["10.0.0.9:6379"], prefix: "x`, []string{"redis.addrs", "redis.prefix"}},
		{"private key", `passport: {`, `passport: {private_key_file: /etc/kycbot/other.pem, `, []string{"passport.private_key_file"}},
		{"webhook", `admins:`, "delivery: {webhook_url: \"https://hooks.acme.example/kyc\", webhook_secret: \"0123456789abcdef0123456789abcdef-secret\"}\nadmins:",
			[]string{"delivery.webhook_url", "delivery.webhook_secret"}},
		{"retention", `admins:`, "retention: {status_days: 30}\nadmins:", []string{"retention.status_days"}},
		{"delivery retries", `admins:`, "delivery: {give_up_after: 2h, min_backoff: 10s, max_backoff: 20m, reclaim_after: 2m}\nadmins:",
			[]string{"delivery.give_up_after", "delivery.min_backoff", "delivery.max_backoff", "delivery.reclaim_after"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := parseConfig(t, tb.prefix, "777, 778", fullLevel, func(y string) string {
				if !strings.Contains(y, tc.from) {
					t.Fatalf("%q not in the config", tc.from)
				}
				return strings.Replace(y, tc.from, tc.to, 1)
			})
			err := tb.Reload(context.Background(), next)
			if !errors.Is(err, ErrReloadRefused) {
				t.Fatalf("Reload: %v, want ErrReloadRefused", err)
			}
			for _, p := range tc.paths {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("the error does not name %s: %v", p, err)
				}
			}
			if got := fixedChanges(before, next); !slices.Equal(got, tc.paths) {
				t.Errorf("fixedChanges = %v, want %v", got, tc.paths)
			}
			for _, secret := range []string{"AAsomethingElseEntirely", "fedcba9876543210", "-secret", testToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
			if tb.Config() != before || tb.wiring() != w {
				t.Error("the refused config is in force")
			}
		})
	}
}

func TestReloadInvalid(t *testing.T) {
	tb := newTestBot(t, "", "")
	before := tb.Config()
	for _, tc := range []struct {
		name string
		cfg  *config.Config
	}{
		{"nil", nil},
		{"no levels", config.Default()},
	} {
		if err := tb.Reload(context.Background(), tc.cfg); err == nil {
			t.Errorf("%s: Reload succeeded", tc.name)
		}
		if tb.Config() != before {
			t.Errorf("%s: the config changed", tc.name)
		}
	}
}
