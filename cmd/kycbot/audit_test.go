package main

import (
	"context"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// auditWorld is a config for kycbot audit, on a fresh prefix of the test
// Redis, with a trail of three events keyed under the Passport key.
func auditWorld(t *testing.T) (cfg string, prefix string, st *store.Store) {
	t.Helper()
	c := testkit.Need(t)
	prefix = testkit.Prefix(t, c, "cli-audit")
	key := testKeys()[0]
	keyFile := writeKey(t, t.TempDir(), "bot.key", key, 0o600)
	cfg = writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: "+keyFile+"}\nredis: {prefix: \""+prefix+"\"}\n")
	st = store.New(c, store.WithPrefix(prefix), bot.AuditKeys(key))
	appendEvents(t, st, 3)
	return cfg, prefix, st
}

func appendEvents(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := range n {
		if err := st.Audit().Append(context.Background(), store.Event{Kind: "verified", UserID: int64(4200 + i), Level: "full", Ref: "crm-1"}); err != nil {
			t.Fatal(err)
		}
	}
}

// headOf runs kycbot audit head and returns the hash it printed.
func headOf(t *testing.T, cfg string) string {
	t.Helper()
	r := runCLI(t, nil, "audit", "head", "--config", cfg)
	if r.code != exitOK {
		t.Fatalf("audit head: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if h, ok := strings.CutPrefix(l, "head:  "); ok && len(h) == 64 {
			return h
		}
	}
	t.Fatalf("audit head printed no head:\n%s", r.stdout)
	return ""
}

func TestAuditVerifyCommand(t *testing.T) {
	cfg, _, st := auditWorld(t)
	anchor := headOf(t, cfg)
	appendEvents(t, st, 2)

	r := runCLI(t, nil, "audit", "verify", "--config", cfg, "--head", anchor)
	if r.code != exitOK || !strings.Contains(r.stdout, "verifies: 5 events, unbroken; the anchored head is in the chain.") {
		t.Fatalf("verify: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "audit", "verify", "--config", cfg, "--head", strings.Repeat("ab", 32))
	if r.code != exitFailure || !strings.Contains(r.stdout, "BROKEN") || !strings.Contains(r.stdout, "anchored head") {
		t.Errorf("verify with a foreign head: exit %d, stdout %q", r.code, r.stdout)
	}
}

// Tampering through Redis, with or without rebuilding the chain under
// another key, makes kycbot audit verify fail.
func TestAuditVerifyCommandTampered(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, st *store.Store, prefix string)
		want   string
	}{
		{"one event changed", func(t *testing.T, st *store.Store, prefix string) {
			ctx := context.Background()
			c := st.Client()
			msgs, err := c.XRange(ctx, prefix+"{audit}:stream", "-", "+").Result()
			if err != nil || len(msgs) != 3 {
				t.Fatalf("%d events, %v", len(msgs), err)
			}
			msgs[1].Values["e"] = strings.Replace(msgs[1].Values["e"].(string), `"verified"`, `"rejected"`, 1)
			c.Del(ctx, prefix+"{audit}:stream")
			for _, m := range msgs {
				if err := c.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "{audit}:stream", ID: m.ID, Values: m.Values}).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}, "the event was changed"},
		{"rebuilt under another key", func(t *testing.T, st *store.Store, prefix string) {
			ctx := context.Background()
			c := st.Client()
			c.Del(ctx, prefix+"{audit}:stream", prefix+"{audit}:head")
			appendEvents(t, store.New(c, store.WithPrefix(prefix), bot.AuditKeys(otherKey())), 3)
		}, "is keyed with audit key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, prefix, st := auditWorld(t)
			tt.tamper(t, st, prefix)
			r := runCLI(t, nil, "audit", "verify", "--config", cfg)
			if r.code != exitFailure || !strings.Contains(r.stdout, "The audit trail is BROKEN at event") || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("verify: exit %d, stdout %q, stderr %q; want BROKEN, %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

func otherKey() *rsa.PrivateKey { return testKeys()[1] }

func TestAuditCommandUsage(t *testing.T) {
	r := runCLI(t, nil, "audit", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "kycbot audit head") || strings.Contains(r.stdout, "not keyed") {
		t.Errorf("help: exit %d, %q", r.code, r.stdout)
	}
	wantOneLineError(t, runCLI(t, nil, "audit", "list"), exitUsage, "verify and head")
	cfg := writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: /nonexistent/bot.key}\n")
	wantOneLineError(t, runCLI(t, nil, "audit", "head", "--config", cfg), exitFailure, "Passport private key")
}

// An empty trail is not "verified": it says nothing was found and which
// settings to check, and fails.
func TestAuditVerifyCommandEmpty(t *testing.T) {
	c := testkit.Need(t)
	prefix := testkit.Prefix(t, c, "cli-audit-empty")
	keyFile := writeKey(t, t.TempDir(), "bot.key", testKeys()[0], 0o600)
	cfg := writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: "+keyFile+"}\nredis: {prefix: \""+prefix+"\"}\n")
	r := runCLI(t, nil, "audit", "verify", "--config", cfg)
	if r.code != exitFailure {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, exitFailure, r.stderr)
	}
	for _, want := range []string{"EMPTY", prefix, "redis.prefix"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}
