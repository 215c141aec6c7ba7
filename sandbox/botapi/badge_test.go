package botapi_test

import (
	"testing"
	"time"

	"github.com/kycbot/kycbot/sandbox"
)

// TestVerifyUser: verifyUser and removeUserVerification set and take off
// the bot's badge on a user it has seen, once the bot is a verifier;
// before, Telegram's BOT_VERIFIER_FORBIDDEN comes back in the Bot API's
// shape, and a user the bot never heard from is not found.
func TestVerifyUser(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	u := e.user(ctx, t, "15550000031", "Ada", nil)
	if _, err := u.Start(ctx, "@kyc_botapi_bot", ""); err != nil {
		t.Fatal(err)
	}
	var upd []map[string]any
	ok(t, "getUpdates", e.call(ctx, t, "getUpdates", map[string]any{"timeout": 10}), &upd)
	params := map[string]any{"user_id": u.User.ID, "custom_description": "Verified by Acme"}
	fails(t, "not a verifier", e.call(ctx, t, "verifyUser", params), 400, "Bad Request: BOT_VERIFIER_FORBIDDEN")
	if _, set := e.sb.Badge(u.User.ID); set {
		t.Fatal("a badge from a bot that is not a verifier")
	}
	if err := e.sb.SetBotVerifier(e.bot.ID, true); err != nil {
		t.Fatal(err)
	}
	fails(t, "unknown user", e.call(ctx, t, "verifyUser", map[string]any{"user_id": 123456}), 400, "Bad Request: user not found")
	ok(t, "verifyUser", e.call(ctx, t, "verifyUser", params), nil)
	if b, set := e.sb.Badge(u.User.ID); !set || b.BotID != e.bot.ID || b.Description != "Verified by Acme" {
		t.Fatalf("badge %+v (set %v)", b, set)
	}
	ok(t, "removeUserVerification", e.call(ctx, t, "removeUserVerification", map[string]any{"user_id": u.User.ID}), nil)
	if b, set := e.sb.Badge(u.User.ID); set {
		t.Fatalf("badge %+v after removeUserVerification", b)
	}
}
