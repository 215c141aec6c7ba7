package store

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testQueueKey = []byte("queue key for the tests: 32 byte")

func newQueueStore(t *testing.T) *Store {
	t.Helper()
	s, _ := newTestStore(t, WithQueueKey(testQueueKey))
	return s
}

func appendOne(t *testing.T, q Queue, key string, user int64, payload string) Appended {
	t.Helper()
	got, err := q.Append(context.Background(), QueueItem{Key: key, UserID: user, Payload: []byte(payload), Keep: time.Hour})
	if err != nil {
		t.Fatalf("append %s: %v", key, err)
	}
	if len(got) != 1 {
		t.Fatalf("append %s: %d results", key, len(got))
	}
	return got[0]
}

func TestQueueAppendOnceAndSealed(t *testing.T) {
	s := newQueueStore(t)
	ctx := context.Background()
	q := s.Queue()
	// A user ID long enough that a random key prefix, a hash in a key or
	// sealed bytes never hold its digits by chance (1001 once matched the
	// hex of a test's random prefix).
	const user = 7000123456789
	uid := strconv.FormatInt(user, 10)
	first := appendOne(t, q, "m:"+uid+":7", user, "secret passport data of Ada")
	if !first.New || first.ID == "" {
		t.Fatalf("first append: %+v", first)
	}
	again, err := q.Append(ctx,
		QueueItem{Key: "m:" + uid + ":7", UserID: user, Payload: []byte("other"), Keep: time.Hour},
		QueueItem{Key: "m:" + uid + ":8", UserID: user, Payload: []byte("next"), Keep: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].New || again[0].ID != first.ID {
		t.Errorf("repeat of a key: %+v, want the first entry %s, not new", again[0], first.ID)
	}
	if !again[1].New || again[1].ID == first.ID {
		t.Errorf("second key: %+v, want a new entry", again[1])
	}

	// Nothing in Redis names the user or holds the payload in clear.
	keys, err := s.Client().Keys(ctx, s.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(strings.TrimPrefix(k, s.Prefix()), uid) {
			t.Errorf("key %q names the user or the message", k)
		}
	}
	msgs, err := s.Client().XRange(ctx, q.key("stream"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for f, v := range m.Values {
			sv, _ := v.(string)
			if strings.Contains(sv, "Ada") || strings.Contains(sv, uid) {
				t.Errorf("field %s of entry %s holds data in clear", f, m.ID)
			}
		}
	}

	got, err := q.Read(ctx, "w1", 10, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Payload) != "secret passport data of Ada" || string(got[1].Payload) != "next" {
		t.Fatalf("read: %+v", got)
	}
	if got[0].Again || got[0].Appended.IsZero() {
		t.Errorf("first read of an entry: %+v", got[0])
	}
}

func TestQueueTakeOver(t *testing.T) {
	s := newQueueStore(t)
	ctx := context.Background()
	q := s.Queue()
	a := appendOne(t, q, "a", 1, "A")
	b := appendOne(t, q, "b", 2, "B")
	c := appendOne(t, q, "c", 3, "C")
	if got, err := q.Read(ctx, "dead", 10, 0, false); err != nil || len(got) != 3 {
		t.Fatalf("read: %v, %v", got, err)
	}

	// Held entries are not claimed before minIdle.
	if got, err := q.Claim(ctx, "alive", time.Hour, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim of fresh entries: %v, %v", got, err)
	}
	// A process of the same name finds what it held.
	pend, err := q.Read(ctx, "dead", 10, 0, true)
	if err != nil || len(pend) != 3 || !pend[0].Again {
		t.Fatalf("pending of the same consumer: %+v, %v", pend, err)
	}

	time.Sleep(60 * time.Millisecond)
	// a is touched: still held; b is released: claimable whatever minIdle.
	if n, err := q.Touch(ctx, "dead", a.ID); err != nil || n != 1 {
		t.Fatalf("touch: %d, %v", n, err)
	}
	if n, err := q.Release(ctx, "dead", b.ID); err != nil || n != 1 {
		t.Fatalf("release: %d, %v", n, err)
	}
	got, err := q.Claim(ctx, "alive", time.Hour, 10)
	if err != nil || len(got) != 1 || got[0].ID != b.ID || !got[0].Again || string(got[0].Payload) != "B" {
		t.Fatalf("claim after release: %+v, %v", got, err)
	}
	got, err = q.Claim(ctx, "alive", 50*time.Millisecond, 10)
	if err != nil || len(got) != 1 || got[0].ID != c.ID {
		t.Fatalf("claim of the idle entry: %+v, %v", got, err)
	}
	// The dead consumer no longer holds what was claimed: its touch does
	// not take it back.
	if n, err := q.Touch(ctx, "dead", b.ID, c.ID); err != nil || n != 0 {
		t.Fatalf("touch of entries claimed away: %d, %v", n, err)
	}
	if n, err := q.Tried(ctx, c.ID); err != nil || n != 1 {
		t.Fatalf("tried: %d, %v", n, err)
	}
	if n, err := q.Tried(ctx, c.ID); err != nil || n != 2 {
		t.Fatalf("tried again: %d, %v", n, err)
	}

	entries, processing, err := q.Depth(ctx)
	if err != nil || entries != 3 || processing != 3 {
		t.Fatalf("depth: %d, %d, %v", entries, processing, err)
	}
	for _, id := range []string{a.ID, b.ID, c.ID} {
		if err := q.Ack(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Ack(ctx, a.ID); err != nil {
		t.Errorf("second ack: %v", err)
	}
	entries, processing, err = q.Depth(ctx)
	if err != nil || entries != 0 || processing != 0 {
		t.Fatalf("depth after acks: %d, %d, %v", entries, processing, err)
	}
	if n, err := s.Client().HLen(ctx, q.key("tries")).Result(); err != nil || n != 0 {
		t.Errorf("tries left after ack: %d, %v", n, err)
	}
}

func TestQueueReadBlocks(t *testing.T) {
	s := newQueueStore(t)
	ctx := context.Background()
	q := s.Queue()
	done := make(chan []QueueEntry, 1)
	go func() {
		got, err := q.Read(ctx, "w", 5, 5*time.Second, false)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(200 * time.Millisecond)
	appendOne(t, q, "k", 5, "late")
	select {
	case got := <-done:
		if len(got) != 1 || string(got[0].Payload) != "late" {
			t.Fatalf("blocked read: %+v", got)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("a blocked read did not return the entry appended meanwhile")
	}
}

func TestQueueKeys(t *testing.T) {
	c := needRedis(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	for name, s := range map[string]*Store{
		"no key":    New(c, WithPrefix(prefix)),
		"short key": New(c, WithPrefix(prefix), WithQueueKey(testQueueKey[:16])),
	} {
		if _, err := s.Queue().Append(ctx, QueueItem{Key: "k", UserID: 1, Payload: []byte("x"), Keep: time.Hour}); !errors.Is(err, ErrQueueKey) {
			t.Errorf("%s: append: %v, want ErrQueueKey", name, err)
		}
		if _, err := s.Queue().Read(ctx, "w", 1, 0, false); !errors.Is(err, ErrQueueKey) {
			t.Errorf("%s: read: %v, want ErrQueueKey", name, err)
		}
	}

	right := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey))
	appendOne(t, right.Queue(), "k", 1, "x")
	wrong := New(c, WithPrefix(prefix), WithQueueKey(bytes.Repeat([]byte{7}, 32)))
	got, err := wrong.Queue().Read(ctx, "w", 5, 0, false)
	if !errors.Is(err, ErrQueueDecrypt) || len(got) != 0 {
		t.Fatalf("read under another key: %v, %v; want ErrQueueDecrypt", got, err)
	}
	if strings.Contains(err.Error(), "\"x\"") {
		t.Errorf("error shows the payload: %v", err)
	}
	// The entry stays pending for an instance with the right key.
	time.Sleep(20 * time.Millisecond)
	back, err := right.Queue().Claim(ctx, "w2", 10*time.Millisecond, 5)
	if err != nil || len(back) != 1 || string(back[0].Payload) != "x" {
		t.Fatalf("claim with the right key: %+v, %v", back, err)
	}
}

func TestQueueBadArguments(t *testing.T) {
	s := newQueueStore(t)
	ctx := context.Background()
	q := s.Queue()
	for name, f := range map[string]func() error{
		"user":     func() error { _, err := q.Append(ctx, QueueItem{Key: "k", UserID: 0, Keep: time.Hour}); return err },
		"keep":     func() error { _, err := q.Append(ctx, QueueItem{Key: "k", UserID: 1}); return err },
		"consumer": func() error { _, err := q.Read(ctx, "bad consumer!", 1, 0, false); return err },
		"count":    func() error { _, err := q.Read(ctx, "w", 0, 0, false); return err },
		"minIdle":  func() error { _, err := q.Claim(ctx, "w", 0, 1); return err },
		"id":       func() error { return q.Ack(ctx, "nope") },
		"touch":    func() error { _, err := q.Touch(ctx, "w", "1-x"); return err },
	} {
		if err := f(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestQueueDeleteUser(t *testing.T) {
	s := newQueueStore(t)
	ctx := context.Background()
	q := s.Queue()
	appendOne(t, q, "a", 41, "of 41")
	keep := appendOne(t, q, "b", 42, "of 42")
	appendOne(t, q, "c", 41, "of 41 again")
	if _, err := q.Read(ctx, "w", 1, 0, false); err != nil {
		t.Fatal(err)
	}
	n, err := q.deleteUserEntries(ctx, 41)
	if err != nil || n != 2 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	msgs, err := s.Client().XRange(ctx, q.key("stream"), "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].ID != keep.ID {
		t.Fatalf("left: %+v, %v", msgs, err)
	}
	// The deleted entry that was being read is gone from the pending
	// list too.
	if _, processing, err := q.Depth(ctx); err != nil || processing != 0 {
		t.Fatalf("processing after delete: %d, %v", processing, err)
	}
}

func TestLeases(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	l := s.Leases()
	if ok, err := l.Acquire(ctx, "receiver:1", "a", 300*time.Millisecond); err != nil || !ok {
		t.Fatalf("acquire free lease: %v, %v", ok, err)
	}
	if ok, err := l.Acquire(ctx, "receiver:1", "b", time.Second); err != nil || ok {
		t.Fatalf("acquire a held lease: %v, %v", ok, err)
	}
	if ok, err := l.Acquire(ctx, "receiver:1", "a", 300*time.Millisecond); err != nil || !ok {
		t.Fatalf("acquire by the holder: %v, %v", ok, err)
	}
	if ok, err := l.Renew(ctx, "receiver:1", "b", time.Second); err != nil || ok {
		t.Fatalf("renew by another: %v, %v", ok, err)
	}
	if h, left, err := l.Holder(ctx, "receiver:1"); err != nil || h != "a" || left <= 0 || left > 300*time.Millisecond {
		t.Fatalf("holder: %q %v %v", h, left, err)
	}
	time.Sleep(400 * time.Millisecond)
	if ok, err := l.Renew(ctx, "receiver:1", "a", time.Second); err != nil || ok {
		t.Fatalf("renew of a lease that ran out: %v, %v", ok, err)
	}
	if ok, err := l.Acquire(ctx, "receiver:1", "b", time.Second); err != nil || !ok {
		t.Fatalf("acquire after it ran out: %v, %v", ok, err)
	}
	if err := l.Release(ctx, "receiver:1", "a"); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := l.Holder(ctx, "receiver:1"); h != "b" {
		t.Fatalf("a release by a non-holder ended the lease: holder %q", h)
	}
	if err := l.Release(ctx, "receiver:1", "b"); err != nil {
		t.Fatal(err)
	}
	if h, _, err := l.Holder(ctx, "receiver:1"); err != nil || h != "" {
		t.Fatalf("holder after release: %q, %v", h, err)
	}
	if _, err := l.Acquire(ctx, "bad name!", "a", time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
}
