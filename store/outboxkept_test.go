package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestOutboxOrderPerUser: a user's events go out one at a time, in the
// order they were enqueued, whatever the consumers; other users' events
// are not held up; waiting costs no attempt.
func TestOutboxOrderPerUser(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	for _, e := range []OutboxEntry{
		{EventID: "u1-verified", UserID: 1, Kind: "verified"},
		{EventID: "u2-verified", UserID: 2, Kind: "verified"},
		{EventID: "u1-revoked", UserID: 1, Kind: "revoked"},
		{EventID: "u1-erased", UserID: 1, Kind: "erased"},
	} {
		e.Payload = samplePayload
		if err := s.Outbox().Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ds []Delivery) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.EventID)
		}
		return strings.Join(out, ",")
	}
	steps := []struct {
		name  string
		claim string
		want  string
	}{
		{"the heads of each user", "c1", "u1-verified,u2-verified"},
		{"nothing while the head is out", "c2", ""},
		{"the head fails: the next waits for its retry", "c2", ""},
		{"the head is acked: the next one", "c2", "u1-revoked"},
		{"the head is parked: the next one", "c1", "u1-erased"},
	}
	var held []Delivery
	for i, st := range steps {
		switch i {
		case 2:
			if err := s.Outbox().RetryAfter(ctx, held[0], nil, time.Minute); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * orderPause)
		case 3:
			clock.Advance(time.Hour)
			ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 10)
			if err != nil || ids(ds) != "u1-verified" || ds[0].Attempts != 1 {
				t.Fatalf("the retry: %s %v", ids(ds), err)
			}
			if err := s.Outbox().Ack(ctx, ds[0].ID); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * orderPause)
		case 4:
			if err := s.Outbox().Park(ctx, held[0], "http_500"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * orderPause)
		}
		ds, err := s.Outbox().Claim(ctx, st.claim, time.Minute, 10)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := ids(ds); got != st.want {
			t.Fatalf("%s: claimed %q, want %q", st.name, got, st.want)
		}
		if len(ds) > 0 {
			held = ds
		}
		for _, d := range ds {
			if d.Attempts != 0 {
				t.Errorf("%s: %s has %d attempts; waiting is not an attempt", st.name, d.EventID, d.Attempts)
			}
		}
	}
}

// TestOutboxResend: a kept event goes out again, sealed as it was, once
// per source; an unknown event, one past the retention and one of an
// erased user are not found.
func TestOutboxResend(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now), WithEventRetention(time.Hour))
	ctx := context.Background()
	for _, e := range []OutboxEntry{
		{EventID: "evt-a", UserID: 31, Kind: "verification.verified", Payload: samplePayload},
		{EventID: "evt-b", UserID: 32, Kind: "verification.verified", Payload: samplePayload},
	} {
		if err := s.Outbox().Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim: %d %v", len(ds), err)
	}
	for _, d := range ds {
		if err := s.Outbox().Ack(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteUser(ctx, 32); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, src string
		want          error
		queued        int
	}{
		{"kept", "evt-a", "admin-update-1", nil, 1},
		{"the same request again", "evt-a", "admin-update-1", nil, 1},
		{"another request", "evt-a", "admin-update-2", nil, 2},
		{"unknown", "evt-x", "", ErrNotFound, 2},
		{"the user was erased", "evt-b", "", ErrNotFound, 2},
		{"malformed", "evt a", "", ErrInvalid, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := s.Outbox().Resend(ctx, tt.id, tt.src)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Resend: %v, want %v", err, tt.want)
			}
			if err == nil && (k.UserID != 31 || k.Kind != "verification.verified") {
				t.Errorf("Resend = %+v", k)
			}
			if n, _ := c.XLen(ctx, s.outboxKey("stream")).Result(); int(n) != tt.queued {
				t.Errorf("%d entries queued, want %d", n, tt.queued)
			}
		})
	}
	clock.Advance(2 * orderPause)
	ds, err = s.Outbox().Claim(ctx, "c1", time.Minute, 10)
	if err != nil || len(ds) != 1 || ds[0].EventID != "evt-a" || string(ds[0].Payload) != string(samplePayload) {
		t.Fatalf("the resent event, one at a time: %v %v", ds, err)
	}
	// Past the retention, nothing is kept (Redis's TTL).
	if ttl, _ := c.PTTL(ctx, s.keptKey("evt-a")).Result(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("kept event TTL %v, want up to the 1h retention", ttl)
	}
	off, _ := newTestStore(t, WithEventRetention(0))
	if err := off.Outbox().Enqueue(ctx, OutboxEntry{EventID: "evt-c", UserID: 33, Kind: "k", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	if _, err := off.Outbox().Resend(ctx, "evt-c", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("retention 0: Resend %v, want ErrNotFound", err)
	}
}
