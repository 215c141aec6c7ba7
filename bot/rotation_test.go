package bot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// The outbox opens across both rotations and the upgrade: an entry
// sealed by an older version (under the webhook secret's key) and one
// sealed under the old Passport key's derivation both open in a bot
// restarted with a new Passport key (the old one as previous) and a new
// webhook secret (the old one as previous); without the previous Passport
// key the second no longer opens.
func TestOutboxKeyRotation(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	const oldSecret, newSecret = "the-webhook-secret-before-0123456789", "the-webhook-secret-after-0123456789a"
	withWebhook := func(secret, previous string) *config.Config {
		cfg := parseConfig(t, e.prefix, "", "", nil)
		cfg.Delivery.WebhookURL = "https://backend.example.com/hook"
		cfg.Delivery.WebhookSecret = config.Secret(secret)
		cfg.Delivery.PreviousWebhookSecret = config.Secret(previous)
		return cfg
	}
	oldKey := keys.get(t)
	newKey, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}

	// Queued by the version before: the outbox key came from the secret.
	legacy := store.New(e.rdb, store.WithPrefix(e.prefix), store.WithOutboxKey(delivery.OutboxKey([]byte(oldSecret))))
	if err := legacy.Outbox().Enqueue(ctx, store.OutboxEntry{EventID: "evt_legacy", UserID: 1, Kind: "verified", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// Queued by this version under the old Passport key.
	before := e.newBotConfig(t, "a", withWebhook(oldSecret, ""))
	if err := before.Store().Outbox().Enqueue(ctx, store.OutboxEntry{EventID: "evt_before", UserID: 2, Kind: "verified", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}

	forgot := e.newBotConfig(t, "b", withWebhook(newSecret, oldSecret), WithPrivateKey(newKey))
	if _, err := forgot.Store().Outbox().Claim(ctx, "b", time.Millisecond, 10); !errors.Is(err, store.ErrOutboxDecrypt) {
		t.Fatalf("claim without the previous Passport key: %v, want ErrOutboxDecrypt", err)
	}
	time.Sleep(5 * time.Millisecond) // past minIdle: what b could not open is handed out again
	after := e.newBotConfig(t, "c", withWebhook(newSecret, oldSecret), WithPrivateKey(newKey), WithPreviousPrivateKeys(oldKey))
	ds, err := after.Store().Outbox().Claim(ctx, "c", time.Millisecond, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim after the rotation: %d deliveries, %v; want both", len(ds), err)
	}
}

// previous_private_key_files are loaded like private_key_file: a key file
// others may read is refused, naming the setting.
func TestPreviousKeyFiles(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, passport.MarshalPrivateKey(keys.get(t)), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, exposed := write("old.pem", 0o600), write("exposed.pem", 0o644)
	for _, tt := range []struct {
		name  string
		files []string
		want  error
	}{
		{"a good file", []string{good}, nil},
		{"a file others may read", []string{good, exposed}, ErrKeyExposed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parseConfig(t, e.prefix, "", "", nil)
			cfg.Passport.PreviousPrivateKeyFiles = tt.files
			b, err := New(context.Background(), cfg, WithRedis(e.rdb), WithPrivateKey(keys.get(t)), WithInstance("k"))
			if b != nil {
				t.Cleanup(func() { _ = b.Close() })
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("New: %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "previous_private_key_files") {
				t.Errorf("the error %q does not name the setting", err)
			}
			if err == nil && len(b.previous) != 1 {
				t.Errorf("%d previous keys loaded, want 1", len(b.previous))
			}
		})
	}
}
