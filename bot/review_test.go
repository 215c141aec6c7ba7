package bot

import (
	"context"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/web"
)

// TestReviewTokens: a review link works once, for an admin of the config
// in force, until it expires; a forged or altered one never.
func TestReviewTokens(t *testing.T) {
	env := newTestEnv(t)
	clk := testkit.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	b := env.newBot(t, "i1", "42, 43", "", WithClock(clk.Now))
	ctx := context.Background()
	link := func(admin int64) string {
		return b.signReview(reviewClaims{purpose: reviewOpen, review: "r0123456789abcdef", user: 7, admin: admin, expires: clk.Now().Add(ReviewLinkTTL)})
	}

	tok := link(42)
	if strings.Contains(tok, "7|42") {
		t.Errorf("the token %q is not encoded", tok)
	}
	c, err := b.checkReview(ctx, tok, reviewOpen)
	if err != nil || c.user != 7 || c.admin != 42 || c.review != "r0123456789abcdef" {
		t.Fatalf("first use: %+v, %v", c, err)
	}
	if _, err := b.checkReview(ctx, tok, reviewOpen); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("reused: %v, want ErrNotFound", err)
	}
	// Another purpose: a form token does not open the page, nor the
	// reverse.
	if _, err := b.checkReview(ctx, link(43), reviewDecide); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("another purpose: %v, want ErrNotFound", err)
	}
	// Not an admin (any more).
	if _, err := b.checkReview(ctx, link(99), reviewOpen); !errors.Is(err, web.ErrForbidden) {
		t.Errorf("not an admin: %v, want ErrForbidden", err)
	}
	// Expired.
	old := link(43)
	clk.Advance(ReviewLinkTTL + time.Second)
	if _, err := b.checkReview(ctx, old, reviewOpen); !errors.Is(err, web.ErrNotFound) {
		t.Errorf("expired: %v, want ErrNotFound", err)
	}
	// Forged: another admin's ID in a signed token, a token of another
	// key, garbage.
	enc, mac, _ := strings.Cut(link(43), ".")
	forged := strings.Replace(enc, enc[len(enc)-4:], "AAAA", 1) + "." + mac
	otherKey := env.newBot(t, "i2", "42, 43", "", WithClock(clk.Now), WithPrivateKey(otherTestKey(t)))
	for name, tok := range map[string]string{"altered": forged, "other key": otherKey.signReview(reviewClaims{purpose: reviewOpen,
		review: "r0123456789abcdef", user: 7, admin: 43, expires: clk.Now().Add(time.Hour)}), "garbage": "not-a-token", "empty": ""} {
		if _, err := b.checkReview(ctx, tok, reviewOpen); !errors.Is(err, web.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	// The link points at the ops server the runner reported.
	if u := b.reviewLink("r0123456789abcdef", 7, 42); !strings.HasPrefix(u, "http://127.0.0.1:9090/review/") {
		t.Errorf("link %s, want the default ops_listen", u)
	}
}

var otherKeys testKeys

// otherTestKey is a second throwaway key.
func otherTestKey(t testing.TB) *rsa.PrivateKey { return otherKeys.get(t) }
