package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// testScanLinkKey is a fixed scan link key for tests.
var testScanLinkKey = []byte("scan link key for tests, 32 byte")

// sampleLink is a link record as package delivery writes it: the file's
// location and its credentials.
var sampleLink = []byte(`{"element":"passport","target":"front_side","file":{"ID":5512345678901234,"AccessHash":-8812345678901234,"DCID":2,"FileID":"DgADBAAD-front-file-id"},"credentials":{"file_hash":"c2hhMjU2IG9mIHRoZSBwYWRkZWQgc2Nhbg==","secret":"ZmlsZSBzZWNyZXQgb2YgdGhlIGZyb250IHNpZGU="}}`)

const (
	token1 = "tok1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	token2 = "tok2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestScanLinks(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithScanLinkKey(testScanLinkKey), WithClock(clock.Now))
	ctx := context.Background()
	links := s.ScanLinks()
	exp, err := links.Put(ctx, token1, sampleLink, time.Hour)
	if want := clock.Now().Add(time.Hour).UTC(); err != nil || !exp.Equal(want) {
		t.Fatalf("Put = %v, %v; want %v", exp, err, want)
	}
	if _, err := links.Put(ctx, token1, sampleLink, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put of a token in use = %v, want ErrInvalid", err)
	}

	// Sealed, under a hash of the token, with the TTL.
	keys := allKeys(t, c, s.Prefix())
	if len(keys) != 1 {
		t.Fatalf("keys %v, want the one record", keys)
	}
	if strings.Contains(keys[0], token1) {
		t.Errorf("key %s holds the token", keys[0])
	}
	v := dumpKey(t, c, keys[0])
	for _, clear := range []string{"5512345678901234", "DgADBAAD", "c2hhMjU2", "ZmlsZSBzZWNyZXQ", "file secret", "credentials", token1} {
		if strings.Contains(v, clear) {
			t.Errorf("the record holds %q in clear", clear)
		}
	}
	if ttl := c.PTTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("the record's TTL is %v, want within an hour", ttl)
	}

	// Once only.
	got, exp2, err := links.Take(ctx, token1)
	if err != nil || !bytes.Equal(got, sampleLink) {
		t.Fatalf("Take = %q, %v; want the record", got, err)
	}
	if !exp2.Equal(exp) {
		t.Errorf("expires %v, want %v", exp2, exp)
	}
	if _, _, err := links.Take(ctx, token1); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Take = %v, want ErrNotFound", err)
	}

	// Restored after a failed use: once more, until the same expiry, even
	// on a clock that moves between two readings (a millisecond each).
	ticking := New(c, WithPrefix(s.Prefix()), WithScanLinkKey(testScanLinkKey), WithClock(func() time.Time {
		clock.Advance(time.Millisecond)
		return clock.Now()
	})).ScanLinks()
	if err := ticking.Restore(ctx, token1, got, exp2); err != nil {
		t.Fatal(err)
	}
	if again, exp3, err := links.Take(ctx, token1); err != nil || !bytes.Equal(again, sampleLink) || !exp3.Equal(exp) {
		t.Fatalf("Take after Restore = %q, %v, %v", again, exp3, err)
	}
	clock.Advance(time.Hour)
	if err := links.Restore(ctx, token1, got, exp2); !errors.Is(err, ErrNotFound) {
		t.Errorf("Restore past the expiry = %v, want ErrNotFound", err)
	}
	if keys := allKeys(t, c, s.Prefix()); len(keys) != 0 {
		t.Errorf("keys left after Take: %v", keys)
	}
}

func TestScanLinksRefused(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithScanLinkKey(testScanLinkKey), WithClock(clock.Now))
	ctx := context.Background()
	otherKey := New(c, WithPrefix(s.Prefix()), WithScanLinkKey([]byte("another scan link key, 32 bytes!"))).ScanLinks()
	noKey := New(c, WithPrefix(s.Prefix())).ScanLinks()
	tests := []struct {
		name  string
		setup func(t *testing.T) // after token1 was put for an hour
		take  func() error
		want  error
	}{
		{name: "unknown token", take: func() error { _, _, err := s.ScanLinks().Take(ctx, token2); return err }, want: ErrNotFound},
		{name: "expired by the clock", setup: func(*testing.T) { clock.Advance(time.Hour) },
			take: func() error { _, _, err := s.ScanLinks().Take(ctx, token1); return err }, want: ErrNotFound},
		{name: "another key", take: func() error { _, _, err := otherKey.Take(ctx, token1); return err }, want: ErrNotFound},
		{name: "tampered", setup: func(t *testing.T) {
			key, _ := s.scanLinkKey(token1)
			b := []byte(c.Get(ctx, key).Val())
			b[len(b)-1] ^= 1
			c.Set(ctx, key, b, time.Hour)
		}, take: func() error { _, _, err := s.ScanLinks().Take(ctx, token1); return err }, want: ErrNotFound},
		{name: "moved to another token", setup: func(t *testing.T) {
			k1, _ := s.scanLinkKey(token1)
			k2, _ := s.scanLinkKey(token2)
			// GET, SET and DEL rather than RENAME: on a cluster the two
			// keys are in different slots.
			v, err := c.Get(ctx, k1).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, k2, v, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			c.Del(ctx, k1)
		}, take: func() error { _, _, err := s.ScanLinks().Take(ctx, token2); return err }, want: ErrNotFound},
		{name: "no key", take: func() error { _, _, err := noKey.Take(ctx, token1); return err }, want: ErrScanLinkKey},
		{name: "no key, put", take: func() error { _, err := noKey.Put(ctx, token2, sampleLink, time.Hour); return err }, want: ErrScanLinkKey},
		{name: "short token", take: func() error { _, _, err := s.ScanLinks().Take(ctx, "short"); return err }, want: ErrInvalid},
		{name: "zero TTL", take: func() error { _, err := s.ScanLinks().Put(ctx, token2, sampleLink, 0); return err }, want: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(newFakeClock().Now())
			k1, _ := s.scanLinkKey(token1)
			k2, _ := s.scanLinkKey(token2)
			for _, k := range []string{k1, k2} { // one by one: different slots on a cluster
				if err := c.Del(ctx, k).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.ScanLinks().Put(ctx, token1, sampleLink, time.Hour); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t)
			}
			err := tt.take()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), token1) || strings.Contains(err.Error(), token2) {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
}
