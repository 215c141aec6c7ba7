package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/tests/testkit"
)

// failsFast runs op against an unreachable Redis and checks that it
// fails within a second or so with an error saying Redis is unreachable.
// The 5 s context only guards against a hang: the call must not return
// because of it.
func failsFast(t *testing.T, name string, secret string, op func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := op(ctx)
	elapsed := time.Since(start)
	t.Logf("%s failed after %v: %v", name, elapsed.Round(time.Millisecond), err)
	switch {
	case err == nil:
		t.Errorf("%s succeeded with Redis down", name)
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		t.Errorf("%s hung until the caller's deadline (%v): %v", name, elapsed, err)
	case elapsed > 2*time.Second:
		t.Errorf("%s took %v to fail, want well under 2s", name, elapsed)
	case !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "redis unreachable"):
		t.Errorf("%s error %q does not say Redis is unreachable (ErrUnavailable)", name, err)
	}
	if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("%s error holds a secret: %q", name, err)
	}
}

// TestResilienceRedisRestart runs the store against a redis-server of its
// own, with the bot's client settings (Open): while the server hangs or
// is stopped, operations fail fast with ErrUnavailable; once it is back
// (with its append-only file), the same client and store recover by
// themselves, and the outbox has lost nothing.
func TestResilienceRedisRestart(t *testing.T) {
	srv := testkit.StartServer(t)
	ctx := context.Background()
	client, err := Open(ctx, Config{Addrs: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	s := New(client, WithPrefix("kycbot-resilience:"), WithOutboxKey(testKey))

	// 20 deliveries: 5 claimed, 3 of them acked; and a live request.
	var all []string
	for i := range 20 {
		id := "ev-" + strconv.Itoa(i)
		all = append(all, id)
		if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: id, UserID: int64(100 + i), Kind: "verified", Payload: samplePayload}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.Outbox().Claim(ctx, "c1", time.Minute, 5)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	acked := map[string]bool{}
	for _, d := range claimed[:3] {
		if err := s.Outbox().Ack(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		acked[d.EventID] = true
	}
	pre, err := s.Requests().Issue(ctx, RequestParams{UserID: 77, ChatID: 77, Level: "basic"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// A hung server (SIGSTOP: connections are accepted, nothing answers)
	// costs a timeout, not a hang.
	srv.Signal(t, syscall.SIGSTOP)
	failsFast(t, "IssueRequest (server hung)", "", func(ctx context.Context) error {
		_, err := s.Requests().Issue(ctx, RequestParams{UserID: 78, ChatID: 78, Level: "basic"}, time.Hour)
		return err
	})
	srv.Signal(t, syscall.SIGCONT)

	// A stopped server.
	srv.Stop(t)
	failsFast(t, "IssueRequest", "", func(ctx context.Context) error {
		_, err := s.Requests().Issue(ctx, RequestParams{UserID: 78, ChatID: 78, Level: "basic"}, time.Hour)
		return err
	})
	failsFast(t, "ConsumeNonce", pre.Nonce, func(ctx context.Context) error {
		_, err := s.Requests().Consume(ctx, pre.Nonce, 77)
		return err
	})
	failsFast(t, "Enqueue", "", func(ctx context.Context) error {
		return s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-down", UserID: 1, Kind: "verified", Payload: samplePayload})
	})
	failsFast(t, "Claim", "", func(ctx context.Context) error {
		_, err := s.Outbox().Claim(ctx, "c2", time.Millisecond, 100)
		return err
	})

	// Back, from the append-only file; the same client and store.
	srv.Start(t)
	start := time.Now()
	var pending int64
	for {
		if pending, _, err = s.Outbox().Depth(ctx); err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the store did not recover within 5s of the restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the restart", time.Since(start).Round(time.Millisecond))
	if pending != 17 {
		t.Errorf("%d entries in the outbox after the restart, want 17 (20 - 3 acked)", pending)
	}
	got, err := s.Outbox().Claim(ctx, "c2", time.Millisecond, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids, want []string
	reclaimed := 0
	for _, d := range got {
		ids = append(ids, d.EventID)
		if d.Attempts > 0 {
			reclaimed++
		}
		if err := s.Outbox().Ack(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range all {
		if !acked[id] {
			want = append(want, id)
		}
	}
	sort.Strings(ids)
	sort.Strings(want)
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("claimed after the restart %v, want every un-acked entry %v", ids, want)
	}
	if reclaimed != 2 {
		t.Errorf("%d entries came back as abandoned, want the 2 claimed and not acked", reclaimed)
	}

	// Everything works again, and the request issued before survived.
	if r, err := s.Requests().Consume(ctx, pre.Nonce, 77); err != nil || r.ID != pre.ID {
		t.Errorf("consume the request issued before the restart: %v", err)
	}
	if _, err := s.Requests().Issue(ctx, RequestParams{UserID: 79, ChatID: 79, Level: "basic"}, time.Hour); err != nil {
		t.Error(err)
	}
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-after", UserID: 1, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	if ds, err := s.Outbox().Claim(ctx, "c2", time.Minute, 100); err != nil || len(ds) != 1 || ds[0].EventID != "ev-after" {
		t.Errorf("claim after the restart: %v, %v; want ev-after only", ds, err)
	}
}

func TestUnreachableErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for err, want := range map[error]bool{
		refused:                               true,
		os.ErrDeadlineExceeded:                true, // an i/o timeout
		io.EOF:                                true,
		redis.ErrPoolTimeout:                  true,
		errors.New("ERR unknown command"):     false,
		redis.Nil:                             false,
		context.DeadlineExceeded:              false, // the caller's own deadline
		context.Canceled:                      false,
		fmt.Errorf("wrapped: %w", refused):    true,
		fmt.Errorf("%w: x", ErrDocumentTaken): false,
	} {
		got := err
		markUnavailable(&got)
		if errors.Is(got, ErrUnavailable) != want {
			t.Errorf("%v: marked unavailable %t, want %t", err, !want, want)
		}
		if !errors.Is(got, err) {
			t.Errorf("%v: the marked error lost the original", err)
		}
	}
}
