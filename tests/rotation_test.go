package tests

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/tests/testkit"
)

// newRotationWorld is the bot delivering to a receiver, on a clock of
// the test's.
func newRotationWorld(t *testing.T) (*world, *receiver) {
	clk := &testkit.Clock{}
	rcv := newReceiver(t, clk.Now)
	return newWorld(t, worldOptions{clock: clk, configYAML: webhookConfig(rcv.srv.URL + "/kyc/webhook")}), rcv
}

// queuedWhileDown verifies users while the receiver is down, and returns
// once each one's event was tried once: their events wait in the outbox.
func queuedWhileDown(ctx context.Context, t *testing.T, w *world, rcv *receiver, users ...*sandbox.SimUser) {
	t.Helper()
	rcv.answer(http.StatusServiceUnavailable)
	for _, u := range users {
		w.verifyUser(ctx, u, "")
	}
	for _, u := range users {
		rcv.wait(t, ctx, "a first attempt", func() bool { return rcv.attempts[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] > 0 }, nil)
	}
}

// TestRotateWebhookSecret: events queued while the receiver is down go
// out after the bot is restarted with a new webhook secret (the old one as
// previous_webhook_secret) and the receiver then switched to the new secret
// only; each request is signed under both secrets.
func TestRotateWebhookSecret(t *testing.T) {
	t.Parallel()
	w, rcv := newRotationWorld(t)
	ctx := testContext(t)
	advance := func() { w.clock.Advance(time.Minute) }
	users := w.users(2, "en")
	queuedWhileDown(ctx, t, w, rcv, users...)

	// The rotation as docs/webhook.md has it: the bot first, then the
	// receiver. (The other way round, the old instance's retries while it
	// stops, signed under the old secret only, would be refused.)
	const newSecret = "e2e-webhook-secret-rotated-abcdef0123456789"
	w.restartWith(ctx, func(c *config.Config) {
		c.Delivery.PreviousWebhookSecret = c.Delivery.WebhookSecret
		c.Delivery.WebhookSecret = newSecret
	})
	rcv.mu.Lock()
	rcv.secret = newSecret
	rcv.headers, rcv.heard = map[string]string{}, map[string]time.Time{}
	rcv.mu.Unlock()
	rcv.answer(http.StatusOK)
	for _, u := range users {
		id := rcv.eventOf(u.User.ID, delivery.KindVerified)
		rcv.wait(t, ctx, "the delivery after the rotation", func() bool { return rcv.ok[id] > 0 }, advance)
		rcv.mu.Lock()
		header, body, at := rcv.headers[id], rcv.bodies[id], rcv.heard[id]
		rcv.mu.Unlock()
		// Checked at the time the request came: waiting for the other
		// user's delivery moves the clock on meanwhile.
		for _, secret := range []string{newSecret, webhookSecret} {
			if err := delivery.Verify([]byte(secret), header, body, at, 10*time.Minute); err != nil {
				t.Errorf("event %s after the rotation: a receiver on the %s secret refuses it: %v", id, map[bool]string{true: "new", false: "old"}[secret == newSecret], err)
			}
		}
	}
}

// TestRotatePassportKey: a user shares under the old Passport key while
// the bot is down; the bot comes back with a new key (the old one in
// previous_private_key_files) and @BotFather gets the new public key. The
// submission still verifies, the webhook event sealed before the switch
// still goes out, the instance keeps its Telegram session, and a new
// request uses the new key.
func TestRotatePassportKey(t *testing.T) {
	t.Parallel()
	w, rcv := newRotationWorld(t)
	ctx := testContext(t)
	advance := func() { w.clock.Advance(time.Minute) }

	// Before the switch: an event waits in the outbox, sealed under the
	// old key's derivation.
	before := w.user("en", nil)
	queuedWhileDown(ctx, t, w, rcv, before)

	// A user opens the form under the old key; the bot stops before they
	// share, so their submission is encrypted to the old public key.
	late := w.user("en", nil)
	link := w.requestLink(ctx, late)
	if err := w.StopBot(); err != nil {
		t.Fatal(err)
	}
	// The app's return to the request page fails while the bot is down;
	// the submission itself is with Telegram.
	if err := late.FillForm(ctx, link); err != nil && !strings.Contains(err.Error(), "open callback URL") {
		t.Fatal(err)
	}

	oldKey := w.Key
	oldFile := filepath.Join(t.TempDir(), "bot-old.pem")
	if err := os.WriteFile(oldFile, passport.MarshalPrivateKey(oldKey), 0o600); err != nil {
		t.Fatal(err)
	}
	newKey, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := passport.MarshalPublicKey(&newKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	w.Key = newKey
	c := *w.Config
	c.Passport.PreviousPrivateKeyFiles = []string{oldFile}
	w.Config = &c
	if err := w.StartBot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Sandbox.SetBotPublicKey(w.Account.ID, string(pub)); err != nil {
		t.Fatal(err)
	}

	if m := w.next(ctx, late); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("the submission under the old key: the bot said %q, want verified", m.Text)
	}
	rcv.answer(http.StatusOK)
	for _, u := range []int64{before.User.ID, late.User.ID} {
		rcv.wait(t, ctx, "the deliveries after the switch", func() bool { return rcv.ok[rcv.eventOfLocked(u, delivery.KindVerified)] > 0 }, advance)
	}
	if logs := w.logs.String(); strings.Contains(logs, "does not open") || strings.Contains(logs, "cannot be decrypted") {
		t.Errorf("something sealed under the old key did not open after the switch:\n%s", logs)
	}

	// A new request carries the new public key, which the sandbox (like
	// Telegram) now requires.
	after := w.user("en", nil)
	w.verifyUser(ctx, after, "")
}
