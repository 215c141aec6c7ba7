package bot

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
)

const fullLevel = `  full:
    scope: [personal_details, {one_of: [passport, identity_card], selfie: true}]`

// say queues a text message of user (a user of its own) and waits until
// it is handled; it returns the last message the user got.
func (tb *testBot) say(t *testing.T, tr *fakeTransport, user int64, text string) sentMsg {
	t.Helper()
	tb.enqueue(t, textUpdate(user, text))
	got := tr.waitMessages(t, user, 1, 10*time.Second)
	tb.waitEmpty(t, 10*time.Second)
	got = tr.messages(user)
	return got[len(got)-1]
}

// Reload puts new levels and admins in force: the next updates get the new
// handlers, while an update being handled when it happens finishes with
// the handlers it started with.
func TestReload(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "777", "")
	tr := newFakeTransport()
	gate, sending := make(chan struct{}), make(chan struct{}, 1)
	tr.send = func(ctx context.Context, to handlers.User, _ handlers.Message) error {
		if to.ID != 1002 {
			return nil
		}
		sending <- struct{}{}
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.start(t, tr)
	ctx := context.Background()
	unknown := b.Catalog().Language("en").Text(i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": "basic"})

	if m := b.say(t, tr, 1001, "/verify full"); m.Text != unknown || m.Buttons != 0 {
		t.Fatalf("before the reload: %q with %d buttons, want %q", m.Text, m.Buttons, unknown)
	}

	// An update in progress during the reload.
	b.enqueue(t, textUpdate(1002, "/verify full"))
	select {
	case <-sending:
	case <-time.After(10 * time.Second):
		t.Fatal("the update did not reach Telegram")
	}
	old := b.wiring()
	next := parseConfig(t, env.prefix, "777, 778", fullLevel, nil)
	if err := b.Reload(ctx, next); err != nil {
		t.Fatal(err)
	}
	close(gate)
	got := tr.waitMessages(t, 1002, 1, 10*time.Second)
	if got[0].Text != unknown || got[0].Buttons != 0 {
		t.Errorf("the update in progress: %q with %d buttons, want the old handlers' %q", got[0].Text, got[0].Buttons, unknown)
	}

	// The next updates get the new handlers.
	if m := b.say(t, tr, 1003, "/verify full"); m.Text == unknown || m.Buttons != 1 {
		t.Errorf("after the reload: %q with %d buttons, want a request with its button", m.Text, m.Buttons)
	}
	if b.Config() != next || b.wiring() == old || b.wiring().set.cfg != next {
		t.Error("the new config is not in force")
	}
	if _, ok := b.current().checkers["full"]; !ok {
		t.Error("no checker for the new level")
	}
	if !slices.Equal(b.Config().Admins, []int64{777, 778}) {
		t.Errorf("admins %v", b.Config().Admins)
	}
	if n := tr.commandCalls(); n != 0 {
		t.Errorf("an embedded bot registered the commands on reload (%d calls)", n)
	}
	if !b.logged("config reloaded") {
		t.Errorf("the reload is not logged:\n%s", b.logs)
	}
	// The request page follows: its scope function knows the new level.
	if _, err := b.wiring().set.scope("full"); err != nil {
		t.Error(err)
	}
}

// The standalone bot (WithEverything) registers its commands with
// Telegram again on reload, for the new admins and texts.
func TestReloadSetsCommands(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "777", "", WithEverything())
	tr := newFakeTransport()
	b.start(t, tr)
	before := tr.commandCalls()
	if err := b.Reload(context.Background(), parseConfig(t, env.prefix, "777, 778", "", nil)); err != nil {
		t.Fatal(err)
	}
	if tr.commandCalls() <= before {
		t.Error("the commands were not registered again")
	}
}

// Reload before Run swaps the settings; Run then wires them.
func TestReloadBeforeRun(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "", "")
	next := parseConfig(t, env.prefix, "5", fullLevel, nil)
	if err := b.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if b.Config() != next || b.wiring() != nil {
		t.Fatal("Reload before Run")
	}
	tr := newFakeTransport()
	b.start(t, tr)
	if m := b.say(t, tr, 1001, "/verify full"); m.Buttons != 1 {
		t.Errorf("after Run: %q with %d buttons, want a request at the reloaded level", m.Text, m.Buttons)
	}
}

// serverYAML is a telegram.server section naming a server of one's own
// on DC dc, in flow style.
func serverYAML(t *testing.T, dc int) string {
	t.Helper()
	der := x509.MarshalPKCS1PublicKey(&keys.get(t).PublicKey)
	key := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: der})))
	return fmt.Sprintf(`, server: {dc: %d, addresses: {%d: "127.0.0.1:40001"}, public_keys: %q}}`, dc, dc, key)
}

// Settings that cannot change at runtime are refused by name, and the
// config in force stays.
func TestReloadRefused(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "777", "")
	b.start(t, newFakeTransport())
	before := b.Config()
	w := b.wiring()
	tgLine := `bot_token: "` + testToken + `"}`
	for _, tc := range []struct {
		name  string
		from  string
		to    string
		paths []string
	}{
		{"bot token", testToken, "7000001:AAsomethingElseEntirely123456789", []string{"telegram.bot_token"}},
		{"app id and hash", "app_id: 1, app_hash: 0123456789abcdef0123456789abcdef", "app_id: 2, app_hash: fedcba9876543210fedcba9876543210",
			[]string{"telegram.app_id", "telegram.app_hash"}},
		{"telegram test servers", tgLine, strings.TrimSuffix(tgLine, "}") + `, server: {test: true}}`, []string{"telegram.server.test"}},
		{"telegram servers of one's own", tgLine, strings.TrimSuffix(tgLine, "}") + serverYAML(t, 4),
			[]string{"telegram.server.dc", "telegram.server.addresses", "telegram.server.public_keys"}},
		{"listen", `listen: "127.0.0.1:0"`, `listen: "127.0.0.1:9999"`, []string{"web.listen"}},
		{"ops listen", `listen: "127.0.0.1:0"`, `listen: "127.0.0.1:0", ops_listen: public`, []string{"web.ops_listen"}},
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
			next := parseConfig(t, env.prefix, "777, 778", fullLevel, func(y string) string {
				if !strings.Contains(y, tc.from) {
					t.Fatalf("%q not in the config", tc.from)
				}
				return strings.Replace(y, tc.from, tc.to, 1)
			})
			err := b.Reload(context.Background(), next)
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
			for _, secret := range []string{"AAsomethingElseEntirely", "fedcba9876543210", "-secret", testToken, "BEGIN RSA"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
			if b.Config() != before || b.wiring() != w {
				t.Error("the refused config is in force")
			}
		})
	}
}

// A config Reload cannot use leaves the one in force.
func TestReloadInvalid(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "", "")
	before := b.Config()
	for _, tc := range []struct {
		name string
		cfg  *config.Config
	}{
		{"nil", nil},
		{"no levels", config.Default()},
	} {
		if err := b.Reload(context.Background(), tc.cfg); err == nil {
			t.Errorf("%s: Reload succeeded", tc.name)
		}
		if b.Config() != before {
			t.Errorf("%s: the config changed", tc.name)
		}
	}
}
