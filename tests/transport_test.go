package tests

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/transport"

	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
)

// TestObfuscatedTransport: the README demo's flow (`kycbot sandbox`: the
// bot, a user with a Telegram app, /start, the request page, Telegram
// Passport, the verdict) with every client on the obfuscated transport
// Telegram's apps speak: the bot and the demo's user on obfuscated
// abridged (as Telegram Desktop), a second user on obfuscated padded
// intermediate (as MTProxy clients). Both end verified, and the servers
// saw no plain connection.
func TestObfuscatedTransport(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{resolver: dcs.Plain(dcs.PlainOptions{Protocol: transport.Abridged, Obfuscated: true})})
	ctx := testContext(t)

	var out bytes.Buffer
	res, err := w.RunScenario(ctx, demo.Happy, "en", &out)
	if err != nil {
		t.Fatalf("the demo's flow over obfuscated abridged: %v\n%s", err, out.String())
	}
	if res.State != store.StateVerified {
		t.Fatalf("the demo's user ended %s, want verified\n%s", res.State, out.String())
	}
	if !strings.Contains(out.String(), "Verify with Telegram Passport") {
		t.Errorf("the transcript shows no request button:\n%s", out.String())
	}

	profile, err := demo.Happy.Profile("DOBF0002", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.Sandbox.NewSimUser(ctx, sandbox.UserSpec{Phone: "4930777000002", FirstName: "Ada", LangCode: "en", CloudPassword: "pw"},
		sandbox.SimUserOptions{Profile: profile, Resolver: dcs.Plain(dcs.PlainOptions{Protocol: transport.PaddedIntermediate, Obfuscated: true})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	w.s.mu.Lock()
	w.s.profiles = append(w.s.profiles, profile.Clone())
	w.s.mu.Unlock()
	b := w.Bot()
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err = demo.Play(pctx, u, demo.Happy, demo.PlayOptions{Bot: w.Account.Username, Texts: b.Catalog(),
		Scope: w.Config.Levels[w.Config.DefaultLevelName].Scope})
	if err != nil || res.State != store.StateVerified {
		t.Fatalf("the flow over obfuscated padded intermediate ended %q: %v", res.State, err)
	}

	got := w.Sandbox.Transports()
	for name, n := range got {
		if !strings.HasPrefix(name, "obfuscated ") {
			t.Errorf("%d connections over the plain %s transport; every client was on an obfuscated one (%v)", n, name, got)
		}
	}
	for _, name := range []string{sandbox.TransportObfuscatedAbridged, sandbox.TransportObfuscatedPaddedIntermediate} {
		if got[name] == 0 {
			t.Errorf("no connection over %s: %v", name, got)
		}
	}
}
