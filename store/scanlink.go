package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrScanLinkKey: the scan link key is missing or not 32 bytes (see
// WithScanLinkKey). Scan links are never stored in clear.
var ErrScanLinkKey = errors.New("store: scan link key missing or invalid")

// MinScanLinkTokenLen is the shortest token ScanLinks accepts: a link's
// token is its only protection, so it must be unguessable (32 random
// bytes in base64url are 43 characters).
const MinScanLinkTokenLen = 32

// WithScanLinkKey sets the 32-byte AES-256-GCM key that seals the records
// of the one-time scan links (Store.ScanLinks) at rest: each holds what
// fetches and decrypts one scan of a user (its location at Telegram and
// its file credentials). Every instance sharing the Redis needs the same
// key. Records are sealed under key and opened with key or any of
// previous (the keys before a rotation of the Passport key). Without it
// ScanLinks.Put and Take fail with ErrScanLinkKey. The store keeps no
// reference to the caller's slices.
func WithScanLinkKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.scanLink, s.scanLinkErr = newKeyRing(key, previous, "scan link", "kycbot scan link key id\x00", ErrScanLinkKey)
	}
}

// ScanLinks keeps the records behind the one-time links from which the
// business fetches scans (package bot/delivery mints them, package web
// serves them). A record is an opaque value, sealed with AES-256-GCM
// under the WithScanLinkKey key, stored under the SHA-256 of its link's
// token (never the token itself, which is a bearer secret), with a TTL;
// taking it deletes it, so a link works once.
type ScanLinks struct{ s *Store }

// ScanLinks returns the view of the scan links.
func (s *Store) ScanLinks() ScanLinks { return ScanLinks{s} }

// scanLinkKey names the record of a token: P scan:<SHA-256 of the token, hex>.
func (s *Store) scanLinkKey(token string) (key string, aad []byte) {
	sum := sha256.Sum256([]byte(token))
	h := hex.EncodeToString(sum[:])
	return s.key("scan:" + h), []byte("kycbot scan link\x00" + h)
}

func (l ScanLinks) check(token string) error {
	if l.s.optErr != nil {
		return l.s.optErr
	}
	if len(token) < MinScanLinkTokenLen || len(token) > 256 {
		return fmt.Errorf("%w: a scan link token must be %d to 256 characters", ErrInvalid, MinScanLinkTokenLen)
	}
	if l.s.scanLink == nil {
		return l.s.scanLinkErr
	}
	return nil
}

// Put records value, sealed, under token for ttl, and returns when it
// expires (the store's clock plus ttl, to the millisecond). A token
// already recorded is an error (tokens are random: it means the caller
// reused one). One round trip.
func (l ScanLinks) Put(ctx context.Context, token string, value []byte, ttl time.Duration) (_ time.Time, err error) {
	defer markUnavailable(&err)
	if err := l.check(token); err != nil {
		return time.Time{}, fmt.Errorf("put scan link: %w", err)
	}
	if ttl <= 0 {
		return time.Time{}, fmt.Errorf("put scan link: %w: the TTL must be positive, got %v", ErrInvalid, ttl)
	}
	exp := l.s.clock().Add(ttl)
	if err := l.put(ctx, token, value, exp, ttl); err != nil {
		return time.Time{}, fmt.Errorf("put scan link: %w", err)
	}
	return exp, nil
}

// put records value under token, sealed with its expiry exp, for Redis to
// drop after ttl.
func (l ScanLinks) put(ctx context.Context, token string, value []byte, exp time.Time, ttl time.Duration) error {
	key, aad := l.s.scanLinkKey(token)
	plain := append([]byte(strconv.FormatInt(exp.UnixMilli(), 10)+"\x00"), value...)
	sealed, err := l.s.seal(l.s.scanLink.current().aead, plain, aad)
	if err != nil {
		return err
	}
	ok, err := l.s.rdb.SetNX(ctx, key, sealed, ttl).Result()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the token is already in use", ErrInvalid)
	}
	return nil
}

// Take returns the value recorded under token and deletes it (GETDEL, one
// round trip), with when it was to expire: the second Take of a token
// fails. It fails with ErrNotFound when the token is unknown, expired (by
// Redis's TTL or by the store's clock), already taken, or its record does
// not open (another key, or tampered), and with ErrInvalid for a token
// that cannot be one. Errors never hold the token.
func (l ScanLinks) Take(ctx context.Context, token string) (_ []byte, expires time.Time, err error) {
	defer markUnavailable(&err)
	if err := l.check(token); err != nil {
		return nil, time.Time{}, fmt.Errorf("take scan link: %w", err)
	}
	key, aad := l.s.scanLinkKey(token)
	sealed, err := l.s.rdb.GetDel(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, fmt.Errorf("take scan link: %w", ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("take scan link: %w", err)
	}
	plain, err := l.s.scanLink.open("", sealed, aad)
	if err != nil {
		// Another key or a tampered value: as good as no link.
		return nil, time.Time{}, fmt.Errorf("take scan link: the record does not open (%v): %w", err, ErrNotFound)
	}
	ms, value, ok := bytes.Cut(plain, []byte{0})
	exp, perr := strconv.ParseInt(string(ms), 10, 64)
	if !ok || perr != nil {
		return nil, time.Time{}, fmt.Errorf("take scan link: malformed record: %w", ErrNotFound)
	}
	expires = time.UnixMilli(exp).UTC()
	if !l.s.clock().Before(expires) {
		return nil, time.Time{}, fmt.Errorf("take scan link: expired: %w", ErrNotFound)
	}
	return value, expires, nil
}

// Restore puts back a record Take returned, with the expiry Take gave,
// for a link whose use failed before anything was served: it works again
// until then. A record already past its expiry (by the store's clock)
// fails with ErrNotFound.
func (l ScanLinks) Restore(ctx context.Context, token string, value []byte, expires time.Time) (err error) {
	defer markUnavailable(&err)
	if err := l.check(token); err != nil {
		return fmt.Errorf("restore scan link: %w", err)
	}
	ttl := expires.Sub(l.s.clock())
	if ttl <= 0 {
		return fmt.Errorf("restore scan link: expired: %w", ErrNotFound)
	}
	// The record keeps expires itself: a ttl from it would end up later
	// by the time that passed since the clock was read.
	if err := l.put(ctx, token, value, expires, ttl); err != nil {
		return fmt.Errorf("restore scan link: %w", err)
	}
	return nil
}
