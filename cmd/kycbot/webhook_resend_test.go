package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// kycbot webhook resend queues a kept event again, in the outbox the bot
// reads (the same prefix and outbox key as the config gives the bot), so
// that a running instance delivers it once more, with its payload; it
// says so when the event is not kept, and refuses what is not an event ID.
func TestWebhookResendCommand(t *testing.T) {
	c := testkit.Need(t)
	prefix := testkit.Prefix(t, c, "cli-resend")
	key := testKeys()[0]
	keyFile := writeKey(t, t.TempDir(), "bot.key", key, 0o600)
	cfgFile := writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: "+keyFile+"}\nredis: {prefix: \""+prefix+"\"}\n")
	cfg, err := config.Load(cfgFile, config.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The bot's outbox as kycbot run opens it (sealed under the key
	// derived from the Passport key), with one event delivered
	// (acknowledged) and one of a user erased since.
	st := store.New(c, bot.StoreOptions(cfg, store.WithOutboxKey(bot.OutboxKey(key)), bot.AuditKeys(key))...)
	ctx := context.Background()
	const delivered, erased = "evt_0123456789abcdef0123456789abcdef", "evt_fedcba9876543210fedcba9876543210"
	payload := []byte(`{"event_id":"` + delivered + `","type":"verification.verified"}`)
	for _, e := range []store.OutboxEntry{
		{EventID: delivered, UserID: 7001, Kind: "verification.verified", Payload: payload},
		{EventID: erased, UserID: 7002, Kind: "verification.rejected", Payload: []byte(`{}`)},
	} {
		if err := st.Outbox().Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := st.Outbox().Claim(ctx, "test", time.Minute, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim: %d entries, %v", len(ds), err)
	}
	for _, d := range ds {
		if err := st.Outbox().Ack(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DeleteUser(ctx, 7002); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, nil, "webhook", "resend", "--config", cfgFile, delivered)
	if r.code != exitOK || !strings.Contains(r.stdout, "Event "+delivered+" (verification.verified, user 7001) queued again") {
		t.Fatalf("resend of a delivered event: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	ds, err = st.Outbox().Claim(ctx, "test", time.Minute, 10)
	if err != nil || len(ds) != 1 || ds[0].EventID != delivered || string(ds[0].Payload) != string(payload) {
		t.Fatalf("after resend the outbox hands out %+v (%v), want the event %s again with its payload", ds, err, delivered)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"erased user's event", []string{erased}, exitFailure, "no event " + erased + " is kept"},
		{"unknown event", []string{"evt_00000000000000000000000000000000"}, exitFailure, "older than delivery.keep_events (168h0m0s)"},
		{"not an event ID", []string{"evt-1"}, exitUsage, "is not an event ID: evt_ and 32 hex digits"},
		{"no event ID", nil, exitUsage, "name one event ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"webhook", "resend", "--config", cfgFile}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if ds, err := st.Outbox().Claim(ctx, "test", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Errorf("the refused resends queued %d entries (%v)", len(ds), err)
	}
}
