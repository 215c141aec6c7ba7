package store

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var samplePayload = []byte(`{"first_name":"Johanna","last_name":"Sample-Person","document_no":"X1234567"}`)

func depth(t *testing.T, s *Store) (int64, int64) {
	t.Helper()
	p, k, err := s.Outbox().Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

func TestOutboxNeedsKey(t *testing.T) {
	c := needRedis(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	e := OutboxEntry{EventID: "ev-1", UserID: 1, Kind: "verified", Payload: samplePayload}
	for name, s := range map[string]*Store{
		"no key":    New(c, WithPrefix(prefix)),
		"short key": New(c, WithPrefix(prefix), WithOutboxKey(testKey[:16])),
	} {
		if err := s.Outbox().Enqueue(ctx, e); !errors.Is(err, ErrOutboxKey) {
			t.Errorf("%s: Enqueue error %v, want ErrOutboxKey", name, err)
		}
		if _, err := s.Outbox().Claim(ctx, "c1", time.Second, 1); !errors.Is(err, ErrOutboxKey) {
			t.Errorf("%s: Claim error %v, want ErrOutboxKey", name, err)
		}
	}
	if keys := allKeys(t, c, prefix); len(keys) != 0 {
		t.Fatalf("keys written without an outbox key: %v", keys)
	}
}

func TestOutboxEnqueueClaimAck(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()

	// Nothing to claim on a fresh Redis (creates the group).
	if ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("empty claim: %v %v", ds, err)
	}
	e := OutboxEntry{EventID: "ev-1", UserID: 42, Kind: "verified", Payload: samplePayload}
	if err := s.Outbox().Enqueue(ctx, e); err != nil {
		t.Fatal(err)
	}
	// The same event again (another instance) is a no-op.
	if err := s.Outbox().Enqueue(ctx, e); err != nil {
		t.Fatal(err)
	}
	if p, k := depth(t, s); p != 1 || k != 0 {
		t.Fatalf("depth %d/%d, want 1/0", p, k)
	}
	ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("claimed %d, want 1", len(ds))
	}
	d := ds[0]
	if d.EventID != e.EventID || d.UserID != e.UserID || d.Kind != e.Kind || !bytes.Equal(d.Payload, e.Payload) || d.Attempts != 0 || d.Consumer != "c1" {
		t.Fatalf("delivery %+v does not match %+v", d, e)
	}
	// Claimed entries are not handed out twice.
	if ds, err := s.Outbox().Claim(ctx, "c2", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("second claim: %v %v", ds, err)
	}
	if err := s.Outbox().Ack(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox().Ack(ctx, d.ID); err != nil {
		t.Fatalf("second ack: %v", err)
	}
	if p, k := depth(t, s); p != 0 || k != 0 {
		t.Fatalf("depth %d/%d after ack, want 0/0", p, k)
	}
	if err := s.Outbox().Ack(ctx, "not-an-id"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad ID: %v, want ErrInvalid", err)
	}
}

func TestOutboxClaimCount(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		// Users of their own: one user's events go out one at a time.
		if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: id, UserID: int64(i + 1), Kind: "verified", Payload: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, n := range []int{2, 2, 2} {
		ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got = append(got, string(d.Payload))
		}
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("claimed %v, want a..e in order", got)
	}
	for _, bad := range []int{0, -1, 1001} {
		if _, err := s.Outbox().Claim(ctx, "c1", time.Minute, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("count %d: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.Outbox().Claim(ctx, "c1", 0, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("minIdle 0: want ErrInvalid")
	}
}

// A consumer that claims and dies: after minIdle another consumer takes the
// entry over, and the abandoned attempt is counted.
func TestOutboxDeadConsumer(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const minIdle = 150 * time.Millisecond
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-dead", UserID: 7, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	dead := New(c, WithPrefix(s.Prefix()), WithOutboxKey(testKey))
	ds, err := dead.Outbox().Claim(ctx, "instance-a", minIdle, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("first claim: %v %v", ds, err)
	}
	// instance-a dies without acking.

	alive := New(c, WithPrefix(s.Prefix()), WithOutboxKey(testKey))
	if ds, err := alive.Outbox().Claim(ctx, "instance-b", minIdle, 1); err != nil || len(ds) != 0 {
		t.Fatalf("claim before minIdle: %v %v, want nothing", ds, err)
	}
	time.Sleep(minIdle + 50*time.Millisecond)
	ds, err = alive.Outbox().Claim(ctx, "instance-b", minIdle, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim after minIdle: %v %v, want the entry", ds, err)
	}
	d := ds[0]
	if d.Attempts != 1 || d.Consumer != "instance-b" || !bytes.Equal(d.Payload, samplePayload) {
		t.Fatalf("reclaimed delivery %+v, want attempts 1 for instance-b", d)
	}
	// instance-b dies as well; instance-c sees two abandoned attempts.
	time.Sleep(minIdle + 50*time.Millisecond)
	ds, err = s.Outbox().Claim(ctx, "instance-c", minIdle, 5)
	if err != nil || len(ds) != 1 || ds[0].Attempts != 2 {
		t.Fatalf("third claim: %+v %v, want attempts 2", ds, err)
	}
	if err := s.Outbox().Ack(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := depth(t, s); p != 0 {
		t.Fatalf("pending %d after ack", p)
	}
	// Acking removed the counters.
	if n, _ := c.HLen(ctx, s.outboxKey("attempts")).Result(); n != 0 {
		t.Fatalf("attempts hash has %d fields after ack", n)
	}
}

func TestOutboxRetryAndPark(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const minIdle = 150 * time.Millisecond
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-retry", UserID: 8, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Outbox().Claim(ctx, "c1", minIdle, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	for want := 1; want <= 2; want++ {
		time.Sleep(minIdle / 2)
		if err := s.Outbox().Retry(ctx, ds[0], errors.New("webhook: 503")); err != nil {
			t.Fatal(err)
		}
		// Retry restarts the wait: not due before minIdle after it.
		time.Sleep(minIdle / 2)
		if early, err := s.Outbox().Claim(ctx, "c2", minIdle, 1); err != nil || len(early) != 0 {
			t.Fatalf("claim right after retry: %v %v", early, err)
		}
		time.Sleep(minIdle)
		ds, err = s.Outbox().Claim(ctx, "c2", minIdle, 1)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim after retry: %v %v", ds, err)
		}
		if ds[0].Attempts != want {
			t.Fatalf("attempts %d after %d retries", ds[0].Attempts, want)
		}
	}
	// c1 no longer holds it.
	stale := ds[0]
	stale.Consumer = "c1"
	if err := s.Outbox().Retry(ctx, stale, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retry by a former holder: %v, want ErrNotFound", err)
	}

	if err := s.Outbox().Park(ctx, ds[0], "webhook 410: gone"); err != nil {
		t.Fatal(err)
	}
	if p, k := depth(t, s); p != 0 || k != 1 {
		t.Fatalf("depth %d/%d after park, want 0/1", p, k)
	}
	if err := s.Outbox().Park(ctx, ds[0], "again"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("park twice: %v, want ErrNotFound", err)
	}
	if err := s.Outbox().Park(ctx, ds[0], "john@example.com"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("park with data in the reason: %v, want ErrInvalid", err)
	}
	parked, err := c.XRange(ctx, s.outboxKey("parked"), "-", "+").Result()
	if err != nil || len(parked) != 1 {
		t.Fatalf("parked stream: %v %v", parked, err)
	}
	v := parked[0].Values
	if v["reason"] != "webhook 410: gone" || v["attempts"] != "3" || v["eid"] != "ev-retry" || v["from"] != ds[0].ID {
		t.Fatalf("parked entry %v", v)
	}
	if strings.Contains(v["p"].(string), "Johanna") {
		t.Fatal("parked payload is in clear")
	}
	if ds, err := s.Outbox().Claim(ctx, "c3", time.Millisecond, 10); err != nil || len(ds) != 0 {
		t.Fatalf("claim after park: %v %v", ds, err)
	}
}

// What Redis holds is not the payload.
func TestOutboxPayloadSealed(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-raw", UserID: 9, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.XRange(ctx, s.outboxKey("stream"), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("raw stream: %v %v", msgs, err)
	}
	raw, _ := msgs[0].Values["p"].(string)
	if len(raw) != 12+len(samplePayload)+16 {
		t.Fatalf("sealed payload is %d bytes, want nonce + %d + tag", len(raw), len(samplePayload))
	}
	if bytes.Contains([]byte(raw), samplePayload) || strings.Contains(raw, "Johanna") || strings.Contains(raw, "X1234567") {
		t.Fatal("the raw stream entry holds the payload in clear")
	}
	for _, k := range allKeys(t, c, s.Prefix()) {
		if d := dumpKey(t, c, k); strings.Contains(d, "Johanna") || strings.Contains(d, "X1234567") {
			t.Fatalf("key %s holds the payload in clear", k)
		}
	}
}

// An instance with another key fails clearly and leaves the entry for one
// with the right key.
func TestOutboxWrongKey(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const minIdle = 100 * time.Millisecond
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-key", UserID: 10, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-key2", UserID: 12, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	wrong := New(c, WithPrefix(s.Prefix()), WithOutboxKey(bytes.Repeat([]byte{1}, 32)))
	ds, err := wrong.Outbox().Claim(ctx, "misconfigured", minIdle, 10)
	if !errors.Is(err, ErrOutboxDecrypt) {
		t.Fatalf("claim with the wrong key: %v, want ErrOutboxDecrypt", err)
	}
	if len(ds) != 0 {
		t.Fatalf("wrong key returned %d deliveries", len(ds))
	}
	for _, want := range []string{"outbox key id", "same outbox key on every instance", "2 entries left pending"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Johanna") {
		t.Fatal("error holds the payload")
	}
	time.Sleep(minIdle + 50*time.Millisecond)
	ds, err = s.Outbox().Claim(ctx, "good", minIdle, 10)
	if err != nil || len(ds) != 2 || !bytes.Equal(ds[0].Payload, samplePayload) {
		t.Fatalf("claim with the right key: %v %v", ds, err)
	}

	// Same key id but a tampered entry (another user ID): authentication
	// fails.
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-tamper", UserID: 11, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	msgs, _ := c.XRange(ctx, s.outboxKey("stream"), "-", "+").Result()
	last := msgs[len(msgs)-1]
	vals := last.Values
	vals["uid"] = "12"
	c.XDel(ctx, s.outboxKey("stream"), last.ID)
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.outboxKey("stream"), Values: vals}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Outbox().Claim(ctx, "good", minIdle, 10); !errors.Is(err, ErrOutboxDecrypt) || !strings.Contains(err.Error(), "tampered") {
		t.Fatalf("tampered entry: %v, want ErrOutboxDecrypt", err)
	}
}

// Concurrent consumers never get the same entry.
func TestOutboxConcurrentConsumers(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const n = 40
	for i := range n {
		if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), UserID: int64(i + 1), Kind: "verified", Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := New(c, WithPrefix(s.Prefix()), WithOutboxKey(testKey))
			for {
				ds, err := st.Outbox().Claim(ctx, "w"+string(rune('0'+w)), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				for _, d := range ds {
					mu.Lock()
					seen[d.EventID]++
					mu.Unlock()
					if err := st.Outbox().Ack(ctx, d.ID); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("delivered %d distinct events, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("event %s delivered %d times", id, k)
		}
	}
}

// Release hands an entry back at once: the next claim of any consumer
// takes it whatever its minIdle, with the cut-short attempt counted; a
// consumer that no longer holds it cannot release it.
func TestOutboxRelease(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-release", UserID: 8, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Outbox().Claim(ctx, "c1", time.Hour, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	held := ds[0]
	if early, err := s.Outbox().Claim(ctx, "c2", time.Hour, 1); err != nil || len(early) != 0 {
		t.Fatalf("claim while c1 holds it: %v %v", early, err)
	}
	if err := s.Outbox().Release(ctx, held); err != nil {
		t.Fatal(err)
	}
	ds, err = s.Outbox().Claim(ctx, "c2", time.Hour, 1)
	if err != nil || len(ds) != 1 || ds[0].EventID != "ev-release" || ds[0].Attempts != 1 || ds[0].Consumer != "c2" {
		t.Fatalf("claim after the release: %+v %v, want ev-release for c2 with 1 attempt", ds, err)
	}
	if err := s.Outbox().Release(ctx, held); !errors.Is(err, ErrNotFound) {
		t.Fatalf("release by a former holder: %v, want ErrNotFound", err)
	}
	if err := s.Outbox().Release(ctx, Delivery{ID: held.ID}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("release without a consumer: %v, want ErrInvalid", err)
	}
	// Released again by its holder, it is claimed once: the pause is
	// lifted as it is taken.
	if err := s.Outbox().Release(ctx, ds[0]); err != nil {
		t.Fatal(err)
	}
	if ds, err = s.Outbox().Claim(ctx, "c3", time.Hour, 1); err != nil || len(ds) != 1 || ds[0].Attempts != 2 {
		t.Fatalf("claim after the second release: %+v %v, want 2 attempts", ds, err)
	}
	if again, err := s.Outbox().Claim(ctx, "c4", time.Hour, 1); err != nil || len(again) != 0 {
		t.Fatalf("a second claim took the released entry again: %+v %v", again, err)
	}
}

// RetryAfter pauses one entry on its own schedule: shorter or longer than
// the minIdle of the claims, judged by the store's clock.
func TestOutboxRetryAfter(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	enq := clock.Now()
	for i, id := range []string{"ev-short", "ev-long"} {
		if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: id, UserID: int64(8 + i), Kind: "verified", Payload: samplePayload}); err != nil {
			t.Fatal(err)
		}
	}
	const minIdle = 50 * time.Millisecond
	ds, err := s.Outbox().Claim(ctx, "c1", minIdle, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	for _, d := range ds {
		if !d.Enqueued.Equal(enq) {
			t.Errorf("%s: Enqueued %v, want %v", d.EventID, d.Enqueued, enq)
		}
	}
	short, long := ds[0], ds[1]
	// A pause of a second, far beyond minIdle; a pause of an hour.
	if err := s.Outbox().RetryAfter(ctx, short, errors.New("webhook: 503"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox().RetryAfter(ctx, long, nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.ZCard(ctx, s.outboxKey("due")).Result(); n != 2 {
		t.Fatalf("due zset has %d members, want 2", n)
	}
	// Idle beyond minIdle, but paused: nothing to claim.
	time.Sleep(minIdle + 30*time.Millisecond)
	if early, err := s.Outbox().Claim(ctx, "c2", minIdle, 10); err != nil || len(early) != 0 {
		t.Fatalf("claim during the pauses: %v %v", early, err)
	}
	clock.Advance(time.Second)
	// The short pause is over: handed out even to a claim with a long
	// minIdle, attempt counted once.
	ds, err = s.Outbox().Claim(ctx, "c2", time.Hour, 10)
	if err != nil || len(ds) != 1 || ds[0].EventID != "ev-short" || ds[0].Attempts != 1 || ds[0].Consumer != "c2" {
		t.Fatalf("claim after the short pause: %+v %v", ds, err)
	}
	// Claimed, it is no longer paused: a consumer that dies with it leaves
	// it to the next claim after minIdle.
	time.Sleep(minIdle + 30*time.Millisecond)
	ds, err = s.Outbox().Claim(ctx, "c3", minIdle, 10)
	if err != nil || len(ds) != 1 || ds[0].EventID != "ev-short" || ds[0].Attempts != 2 {
		t.Fatalf("claim of the abandoned entry: %+v %v", ds, err)
	}
	if err := s.Outbox().Ack(ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	ds, err = s.Outbox().Claim(ctx, "c3", time.Hour, 10)
	if err != nil || len(ds) != 1 || ds[0].EventID != "ev-long" || ds[0].Attempts != 1 {
		t.Fatalf("claim after the long pause: %+v %v", ds, err)
	}
	// Retry without a pause lifts a pause.
	if err := s.Outbox().RetryAfter(ctx, ds[0], nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox().Retry(ctx, ds[0], nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.ZCard(ctx, s.outboxKey("due")).Result(); n != 0 {
		t.Fatalf("due zset has %d members after Retry, want 0", n)
	}
	time.Sleep(minIdle + 30*time.Millisecond)
	ds, err = s.Outbox().Claim(ctx, "c4", minIdle, 10)
	if err != nil || len(ds) != 1 || ds[0].Attempts != 3 {
		t.Fatalf("claim after Retry: %+v %v", ds, err)
	}
	// Park removes the pause with the entry.
	if err := s.Outbox().RetryAfter(ctx, ds[0], nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox().Park(ctx, ds[0], "http_500"); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.ZCard(ctx, s.outboxKey("due")).Result(); n != 0 {
		t.Fatalf("due zset has %d members after Park, want 0", n)
	}
	if n, _ := c.HLen(ctx, s.outboxKey("attempts")).Result(); n != 0 {
		t.Fatalf("attempts hash has %d fields after Park", n)
	}
	if p, k := depth(t, s); p != 0 || k != 1 {
		t.Fatalf("depth %d/%d, want 0/1", p, k)
	}
	stale := ds[0]
	stale.Consumer = "c1"
	if err := s.Outbox().RetryAfter(ctx, stale, nil, time.Second); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RetryAfter of a parked entry: %v, want ErrNotFound", err)
	}
}

// A paused entry removed behind the store's back (DeleteUser acks and
// deletes it) leaves a due member that the next claim after the pause
// drops.
func TestOutboxRetryAfterDeletedEntry(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-gone", UserID: 9, Kind: "verified", Payload: samplePayload}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if err := s.Outbox().RetryAfter(ctx, ds[0], nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteUser(ctx, 9); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if got, err := s.Outbox().Claim(ctx, "c2", time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim: %v %v, want nothing", got, err)
	}
	if n, _ := c.ZCard(ctx, s.outboxKey("due")).Result(); n != 0 {
		t.Fatalf("due zset has %d members, want 0", n)
	}
}

// Many paused entries ahead in the pending list do not hide an abandoned
// one behind them (Claim pages through the pending list), nor new ones.
func TestOutboxClaimPastPaused(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	const paused = 2*reclaimScan + 50
	for i := range paused + 1 {
		if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-" + strconv.Itoa(i), UserID: int64(i + 1), Kind: "verified", Payload: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 1000)
	if err != nil || len(ds) != paused+1 {
		t.Fatalf("claim: %d %v", len(ds), err)
	}
	for _, d := range ds[:paused] {
		if err := s.Outbox().RetryAfter(ctx, d, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// The last one's consumer dies.
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-new", UserID: 100000, Kind: "verified", Payload: []byte{2}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	got, err := s.Outbox().Claim(ctx, "c2", 10*time.Millisecond, 5)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim: %+v %v, want the abandoned and the new entry", got, err)
	}
	if got[0].EventID != "ev-"+strconv.Itoa(paused) || got[0].Attempts != 1 || got[1].EventID != "ev-new" || got[1].Attempts != 0 {
		t.Fatalf("claimed %s (%d attempts) and %s (%d attempts)", got[0].EventID, got[0].Attempts, got[1].EventID, got[1].Attempts)
	}
}
