package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The keys of a rotation: what was sealed under old opens with the ring
// [new, old], and not with [new] alone.
var (
	oldRingKey = bytes.Repeat([]byte{0x11}, 32)
	newRingKey = bytes.Repeat([]byte{0x22}, 32)
)

// A value of each kind sealed under the old key, opened by stores with
// other rings: the current key seals, any key of the ring opens, and a
// value no key of the ring opens fails with the kind's error.
func TestKeyRingRotation(t *testing.T) {
	ctx := context.Background()
	type kind struct {
		name string
		with func(key []byte, previous ...[]byte) Option
		// put seals a value under s's current key.
		put func(t *testing.T, s *Store)
		// get opens what put sealed; ok reports whether it came back.
		get  func(t *testing.T, s *Store) (ok bool, err error)
		fail error
	}
	const bot, payload = int64(42), "the sealed value"
	kinds := []kind{
		{name: "outbox", with: WithOutboxKey, fail: ErrOutboxDecrypt,
			put: func(t *testing.T, s *Store) {
				if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-rot", UserID: 7, Kind: "verified", Payload: []byte(payload)}); err != nil {
					t.Fatal(err)
				}
			},
			get: func(t *testing.T, s *Store) (bool, error) {
				ds, err := s.Outbox().Claim(ctx, "c", time.Millisecond, 10)
				return len(ds) == 1 && string(ds[0].Payload) == payload, err
			}},
		{name: "queue", with: WithQueueKey, fail: ErrQueueDecrypt,
			put: func(t *testing.T, s *Store) { appendOne(t, s.Queue(), "rot", 7, payload) },
			get: func(t *testing.T, s *Store) (bool, error) {
				es, err := s.Queue().Claim(ctx, "c", time.Millisecond, 10)
				if err == nil && len(es) == 0 {
					es, err = s.Queue().Read(ctx, "c", 10, 0, false)
				}
				return len(es) == 1 && string(es[0].Payload) == payload, err
			}},
		{name: "session", with: WithSessionKey, fail: ErrSessionDecrypt,
			put: func(t *testing.T, s *Store) {
				if err := s.Sessions().Session(bot, "eu-1").StoreSession(ctx, []byte(payload)); err != nil {
					t.Fatal(err)
				}
			},
			get: func(t *testing.T, s *Store) (bool, error) {
				data, err := s.Sessions().Session(bot, "eu-1").LoadSession(ctx)
				return string(data) == payload, err
			}},
	}
	rings := []struct {
		name     string
		key      []byte
		previous [][]byte
		opens    bool
	}{
		{name: "same key", key: oldRingKey, opens: true},
		{name: "new key, old as previous", key: newRingKey, previous: [][]byte{oldRingKey}, opens: true},
		{name: "new key, two previous", key: newRingKey, previous: [][]byte{bytes.Repeat([]byte{0x33}, 32), oldRingKey}, opens: true},
		{name: "new key alone", key: newRingKey, opens: false},
		{name: "new key, another previous", key: newRingKey, previous: [][]byte{bytes.Repeat([]byte{0x33}, 32)}, opens: false},
	}
	for _, k := range kinds {
		for _, r := range rings {
			t.Run(k.name+"/"+r.name, func(t *testing.T) {
				s, c := newTestStore(t, k.with(oldRingKey))
				k.put(t, s)
				time.Sleep(5 * time.Millisecond) // past the claims' idle time
				other := New(c, WithPrefix(s.Prefix()), WithOutboxKey(testKey), WithQueueKey(testQueueKey), k.with(r.key, r.previous...))
				ok, err := k.get(t, other)
				if r.opens {
					if err != nil || !ok {
						t.Fatalf("open under %s: ok=%v, %v", r.name, ok, err)
					}
					return
				}
				if !errors.Is(err, k.fail) {
					t.Fatalf("open under %s: ok=%v, %v; want %v", r.name, ok, err, k.fail)
				}
				for _, secret := range []string{payload, string(oldRingKey), string(newRingKey)} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q shows a key or the value", err)
					}
				}
			})
		}
	}
}

// After a rotation the current key seals: a store still on the old key
// alone (an instance not restarted yet) cannot open what the new ring
// sealed, and the error names the new key id.
func TestKeyRingSealsUnderCurrent(t *testing.T) {
	ctx := context.Background()
	s, c := newTestStore(t, WithOutboxKey(newRingKey, oldRingKey))
	if err := s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-new", UserID: 7, Kind: "verified", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	_, newKID, _ := newAEAD(newRingKey, "outbox", outboxKeyIDLabel, ErrOutboxKey)
	old := New(c, WithPrefix(s.Prefix()), WithOutboxKey(oldRingKey))
	_, err := old.Outbox().Claim(ctx, "c", time.Millisecond, 10)
	if !errors.Is(err, ErrOutboxDecrypt) || !strings.Contains(err.Error(), newKID) {
		t.Fatalf("old-key store claiming a new entry: %v; want ErrOutboxDecrypt naming key id %s", err, newKID)
	}
}

// A bad previous key is refused like a bad current one, saying which.
func TestKeyRingBadPreviousKey(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opt  Option
		use  func(s *Store) error
		want error
	}{
		{"outbox", WithOutboxKey(newRingKey, oldRingKey[:16]), func(s *Store) error {
			return s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev", UserID: 1, Kind: "verified", Payload: []byte("x")})
		}, ErrOutboxKey},
		{"queue", WithQueueKey(newRingKey, nil), func(s *Store) error {
			_, err := s.Queue().Append(ctx, QueueItem{Key: "k", UserID: 1, Payload: []byte("x"), Keep: time.Hour})
			return err
		}, ErrQueueKey},
		{"session", WithSessionKey(newRingKey, oldRingKey, oldRingKey[:31]), func(s *Store) error {
			return s.Sessions().Session(1, "a").StoreSession(ctx, []byte("x"))
		}, ErrSessionKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, tt.opt)
			err := tt.use(s)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "previous") {
				t.Fatalf("use with a bad previous key: %v; want %v saying which previous key", err, tt.want)
			}
		})
	}
}

// The queue's names follow a rotation too: an update appended under the
// old key is still a repeat under the new ring, and DeleteUser finds the
// user's entries sealed under either key.
func TestQueueRotationDedupeAndDelete(t *testing.T) {
	ctx := context.Background()
	s, c := newTestStore(t, WithQueueKey(oldRingKey))
	first := appendOne(t, s.Queue(), "msg-1", 7, "before")
	rotated := New(c, WithPrefix(s.Prefix()), WithOutboxKey(testKey), WithDocumentKey(testDocKey), WithQueueKey(newRingKey, oldRingKey), WithAuditKey(testAuditKey))
	again := appendOne(t, rotated.Queue(), "msg-1", 7, "before")
	if again.New || again.ID != first.ID {
		t.Fatalf("the same update appended after the rotation: %+v, want the repeat of %s", again, first.ID)
	}
	appendOne(t, rotated.Queue(), "msg-2", 7, "after")
	appendOne(t, rotated.Queue(), "msg-3", 8, "someone else")
	if _, err := rotated.DeleteUser(ctx, 7); err != nil {
		t.Fatal(err)
	}
	es, err := rotated.Queue().Read(ctx, "w", 10, 0, false)
	if err != nil || len(es) != 1 || string(es[0].Payload) != "someone else" {
		t.Fatalf("after DeleteUser: %d entries, %v; want only user 8's", len(es), err)
	}
}

// A queue entry of an older version (no key id) opens with whichever key
// of the ring sealed it.
func TestQueueEntryWithoutKeyID(t *testing.T) {
	ctx := context.Background()
	s, c := newTestStore(t, WithQueueKey(oldRingKey))
	appendOne(t, s.Queue(), "legacy", 7, "from before key ids")
	msgs, err := c.XRange(ctx, s.Queue().key("stream"), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("the stream: %v, %v", msgs, err)
	}
	vals := msgs[0].Values
	delete(vals, "kid")
	c.XDel(ctx, s.Queue().key("stream"), msgs[0].ID)
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.Queue().key("stream"), Values: vals}).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		previous [][]byte
		opens    bool
	}{
		{"new key alone", nil, false},
		{"old key as previous", [][]byte{oldRingKey}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rotated := New(c, WithPrefix(s.Prefix()), WithQueueKey(newRingKey, tt.previous...))
			time.Sleep(5 * time.Millisecond) // past the claim's idle time
			es, err := rotated.Queue().Claim(ctx, "w", time.Millisecond, 10)
			if err == nil && len(es) == 0 {
				es, err = rotated.Queue().Read(ctx, "w", 10, 0, false)
			}
			opened := err == nil && len(es) == 1 && string(es[0].Payload) == "from before key ids"
			if opened != tt.opens || (!tt.opens && !errors.Is(err, ErrQueueDecrypt)) {
				t.Fatalf("open: %d entries, %v; want opened %v", len(es), err, tt.opens)
			}
		})
	}
}

// FuzzKeyRingOpen: whatever a value and its key id hold, opening it with a
// ring never panics, and opens only what the ring sealed.
func FuzzKeyRingOpen(f *testing.F) {
	ring, err := newKeyRing(newRingKey, [][]byte{oldRingKey}, "queue", "kycbot queue key id\x00", ErrQueueKey)
	if err != nil {
		f.Fatal(err)
	}
	s := &Store{random: bytes.NewReader(bytes.Repeat([]byte{1}, 1<<16))}
	sealed, err := s.seal(ring.current().aead, []byte("plain"), []byte("aad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, ring.current().kid)
	f.Add(sealed, "")
	f.Add(sealed[:5], ring[1].kid)
	f.Add([]byte{}, "nope")
	f.Fuzz(func(t *testing.T, value []byte, kid string) {
		plain, err := ring.open(kid, value, []byte("aad"))
		if err == nil && (!bytes.Equal(value, sealed) || string(plain) != "plain") {
			t.Fatalf("opened a value the ring did not seal: %q", plain)
		}
	})
}
