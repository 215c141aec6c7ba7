package tests

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
)

// tamper flips one byte of the encrypted credentials on their way to
// Telegram while armed, as an attacker between the app and the bot could.
type tamper struct{ armed atomic.Bool }

func (tp *tamper) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if r, ok := input.(*tg.AccountAcceptAuthorizationRequest); ok && tp.armed.Load() {
			r.Credentials.Data[len(r.Credentials.Data)/2] ^= 0x40
		}
		return next.Invoke(ctx, input, output)
	}
}

// withNonce returns the Passport link with another nonce.
func withNonce(t *testing.T, link, nonce string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("nonce", nonce)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestSecurity: replayed, foreign, expired and unknown nonces and tampered
// credentials are each refused with the right message and audit event,
// and the rightful user can still verify afterwards.
func TestSecurity(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})

	expectRefusal := func(t *testing.T, w *world, ctx context.Context, u *sandbox.SimUser, msgID, kind string, verifiedBefore int) {
		t.Helper()
		m := w.next(ctx, u)
		if want := w.text("en", msgID, nil); m.Text != want {
			t.Errorf("the bot said %q, want %q", m.Text, want)
		}
		if ev := w.events(ctx, u.User.ID); !contains(ev, kind) {
			t.Errorf("audit events %v lack %s", ev, kind)
		}
		if n := countKind(w.events(ctx, u.User.ID), "verified"); n != verifiedBefore {
			t.Errorf("the refused submission verified the user (%d verified events, had %d)", n, verifiedBefore)
		}
	}
	verifies := func(t *testing.T, w *world, ctx context.Context, u *sandbox.SimUser) {
		t.Helper()
		page, _ := w.request(ctx, u, "")
		w.share(ctx, u, page)
		if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
			t.Fatalf("the rightful user was not verified afterwards: %q", m.Text)
		}
	}

	t.Run("replayed nonce", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		u := w.user("en", nil)
		page, _ := w.request(ctx, u, "")
		link := w.share(ctx, u, page)
		if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
			t.Fatalf("first submission: %q", m.Text)
		}
		if err := u.FillForm(ctx, link); err != nil { // the same nonce again
			t.Fatal(err)
		}
		expectRefusal(t, w, ctx, u, i18n.MsgNonceUsed, "nonce_used", 1)
	})

	t.Run("another user's nonce", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		owner, thief := w.user("en", nil), w.user("en", nil)
		page, _ := w.request(ctx, owner, "")
		link, err := thief.OpenURL(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if err := thief.FillForm(ctx, link); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, w, ctx, thief, i18n.MsgNonceOtherUser, "nonce_other_user", 0)
		// The owner's request is untouched.
		ownerLink, err := owner.OpenURL(ctx, page)
		if err != nil {
			t.Fatalf("the owner's request page: %v", err)
		}
		if err := owner.FillForm(ctx, ownerLink); err != nil {
			t.Fatal(err)
		}
		if m := w.next(ctx, owner); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
			t.Fatalf("owner after the theft attempt: %q", m.Text)
		}
		verifies(t, w, ctx, thief)
	})

	t.Run("expired nonce", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		u := w.user("en", nil)
		link := w.requestLink(ctx, u)
		w.clock.Advance(w.Config.Passport.RequestTTL + time.Minute)
		if err := u.FillForm(ctx, link); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, w, ctx, u, i18n.MsgNonceExpired, "nonce_expired", 0)
		verifies(t, w, ctx, u)
	})

	t.Run("no request", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		u := w.user("en", nil)
		link := w.requestLink(ctx, u)
		if err := u.FillForm(ctx, withNonce(t, link, "a-nonce-the-bot-never-issued-0123456789abcd")); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, w, ctx, u, i18n.MsgNonceNotFound, "nonce_unknown", 0)
		verifies(t, w, ctx, u)
	})

	t.Run("tampered credentials", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		tp := &tamper{}
		tp.armed.Store(true)
		u := w.user("en", nil, sandbox.SimUserOptions{Middlewares: []telegram.Middleware{tp}})
		page, _ := w.request(ctx, u, "")
		link := w.share(ctx, u, page)
		expectRefusal(t, w, ctx, u, i18n.MsgSubmissionUndecryptable, "decrypt_failed", 0)
		// The nonce was not burned by data that does not decrypt: the
		// same request still works untampered.
		tp.armed.Store(false)
		if err := u.FillForm(ctx, link); err != nil {
			t.Fatal(err)
		}
		if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
			t.Fatalf("after the tampered attempt: %q", m.Text)
		}
	})
}
