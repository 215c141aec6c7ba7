package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestSentMessages: the first sender of a key holds its lock, a second
// one does not (nor sends), the record then answers every later sender
// with the message's ID, sealed under a keyed hash of the key, for the
// keep time.
func TestSentMessages(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	sent := s.Sent()
	const key = "m-4f1c2a:verdict"

	first, err := sent.Claim(ctx, key, time.Minute)
	if err != nil || !first.Held || first.Found || first.Token == "" {
		t.Fatalf("first Claim = %+v, %v; want the lock", first, err)
	}
	second, err := sent.Claim(ctx, key, time.Minute)
	if err != nil || second.Held || second.Found {
		t.Fatalf("Claim while locked = %+v, %v; want neither lock nor record", second, err)
	}
	keys := allKeys(t, c, s.Prefix())
	if len(keys) != 1 || strings.Contains(keys[0], key) || strings.Contains(keys[0], "verdict") {
		t.Fatalf("keys %v, want one, not naming the idempotency key", keys)
	}
	if ttl := c.PTTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("the lock's TTL is %v, want within the lock time", ttl)
	}

	if err := sent.Record(ctx, key, 987654, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := sent.Claim(ctx, key, time.Minute)
		if err != nil || !got.Found || got.MsgID != 987654 || got.Held {
			t.Fatalf("Claim after Record = %+v, %v; want the message ID", got, err)
		}
	}
	if v := dumpKey(t, c, keys[0]); strings.Contains(v, "987654") {
		t.Error("the record holds the message ID in clear")
	}
	if ttl := c.PTTL(ctx, keys[0]).Val(); ttl <= time.Minute || ttl > 7*24*time.Hour {
		t.Errorf("the record's TTL is %v, want the keep time", ttl)
	}
	// Another key is another message.
	if other, err := sent.Claim(ctx, key+"2", time.Minute); err != nil || !other.Held {
		t.Errorf("Claim of another key = %+v, %v; want the lock", other, err)
	}
}

// TestSentRelease: a failed send gives the lock back, so that the next
// sender sends; a token that is not the holder's releases nothing.
func TestSentRelease(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	sent := s.Sent()
	held, err := sent.Claim(ctx, "k", time.Minute)
	if err != nil || !held.Held {
		t.Fatalf("Claim = %+v, %v", held, err)
	}
	if err := sent.Release(ctx, "k", "not-the-token"); err != nil {
		t.Fatal(err)
	}
	if c, err := sent.Claim(ctx, "k", time.Minute); err != nil || c.Held {
		t.Fatalf("Claim after another's Release = %+v, %v; want still locked", c, err)
	}
	if err := sent.Release(ctx, "k", held.Token); err != nil {
		t.Fatal(err)
	}
	if c, err := sent.Claim(ctx, "k", time.Minute); err != nil || !c.Held || c.Token == held.Token {
		t.Fatalf("Claim after Release = %+v, %v; want a new lock", c, err)
	}
	// A record is not released.
	if err := sent.Record(ctx, "r", 5, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := sent.Release(ctx, "r", held.Token); err != nil {
		t.Fatal(err)
	}
	if c, err := sent.Claim(ctx, "r", time.Minute); err != nil || !c.Found || c.MsgID != 5 {
		t.Fatalf("Claim of a record after a Release = %+v, %v", c, err)
	}
}

// TestSentConcurrent: of many senders of one key at once, one holds the
// lock.
func TestSentConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := 0
	for range 16 {
		wg.Go(func() {
			c, err := s.Sent().Claim(ctx, "same", time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if c.Held {
				mu.Lock()
				held++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if held != 1 {
		t.Errorf("%d senders hold the lock, want 1", held)
	}
}

// TestSentKeys: a record made under the queue key before a rotation is
// found after it (the key given as a previous one); a store with another
// queue key does not see it; without a queue key the view fails.
func TestSentKeys(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	if err := s.Sent().Record(ctx, "k", 42, time.Hour); err != nil {
		t.Fatal(err)
	}
	newKey := []byte("the queue key after a rotation..")
	rotated := New(c, WithPrefix(s.Prefix()), WithQueueKey(newKey, testQueueKey))
	if got, err := rotated.Sent().Claim(ctx, "k", time.Minute); err != nil || !got.Found || got.MsgID != 42 {
		t.Errorf("Claim after a rotation = %+v, %v; want the record", got, err)
	}
	other := New(c, WithPrefix(s.Prefix()), WithQueueKey(newKey))
	if got, err := other.Sent().Claim(ctx, "k", time.Minute); err != nil || got.Found {
		t.Errorf("Claim under another key = %+v, %v; want no record", got, err)
	}
	none := New(c, WithPrefix(s.Prefix()))
	if _, err := none.Sent().Claim(ctx, "k", time.Minute); !errors.Is(err, ErrQueueKey) {
		t.Errorf("Claim without a queue key: %v, want ErrQueueKey", err)
	}
}

// TestSentInvalid: bad arguments are refused with ErrInvalid; an
// unreachable Redis is ErrUnavailable.
func TestSentInvalid(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for name, err := range map[string]error{
		"empty key":   func() error { _, err := s.Sent().Claim(ctx, "", time.Minute); return err }(),
		"long key":    func() error { _, err := s.Sent().Claim(ctx, strings.Repeat("k", 1025), time.Minute); return err }(),
		"no lock":     func() error { _, err := s.Sent().Claim(ctx, "k", 0); return err }(),
		"message ID":  s.Sent().Record(ctx, "k", 0, time.Hour),
		"no keep":     s.Sent().Record(ctx, "k", 1, 0),
		"release key": s.Sent().Release(ctx, "", "t"),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	ds := New(down, WithQueueKey(testQueueKey))
	if _, err := ds.Sent().Claim(ctx, "k", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Claim with Redis down: %v, want ErrUnavailable", err)
	}
	if err := ds.Sent().Record(ctx, "k", 1, time.Hour); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Record with Redis down: %v, want ErrUnavailable", err)
	}
}
