package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases is the view of named leases: a lease is held by one holder at a
// time until its time to live runs out, unless the holder renews it. The
// bot uses them to pick the one instance that receives Telegram's updates,
// and to keep two processes from running under one instance name.
//
// Keys: P lease:<name> (string: the holder, with the lease's TTL). Leases
// are judged by Redis's clock (its key expiry), not the store's.
type Leases struct{ s *Store }

// Leases returns the leases view.
func (s *Store) Leases() Leases { return Leases{s: s} }

// leaseNameRE is the alphabet of lease names and holders.
var leaseNameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// leaseRenewScript extends a lease its holder still holds.
//
// KEYS[1] lease. ARGV[1] holder, ARGV[2] TTL ms. Answers 1 when held.
var leaseRenewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// leaseReleaseScript ends a lease its holder still holds.
//
// KEYS[1] lease. ARGV[1] holder.
var leaseReleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

func (l Leases) check(name, holder string, ttl time.Duration) error {
	if l.s.optErr != nil {
		return l.s.optErr
	}
	if !leaseNameRE.MatchString(name) || !leaseNameRE.MatchString(holder) {
		return fmt.Errorf("%w: lease names and holders are 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	if ttl != 0 && ttl < time.Millisecond {
		return fmt.Errorf("%w: lease TTL %v must be at least 1ms", ErrInvalid, ttl)
	}
	return nil
}

// Acquire takes the lease name for holder for ttl, and reports whether
// holder holds it now: true when it was free, or already held by holder
// (whose lease is then renewed); false when another holder has it.
func (l Leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (_ bool, err error) {
	defer markUnavailable(&err)
	if err := l.check(name, holder, max(ttl, time.Millisecond)); err != nil {
		return false, fmt.Errorf("acquire lease: %w", err)
	}
	ok, err := l.s.rdb.SetNX(ctx, l.s.key("lease:"+name), holder, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	if ok {
		return true, nil
	}
	return l.Renew(ctx, name, holder, ttl)
}

// Renew extends holder's lease name to ttl from now, and reports whether
// holder still held it (false: it ran out, and maybe another holder took
// it).
func (l Leases) Renew(ctx context.Context, name, holder string, ttl time.Duration) (_ bool, err error) {
	defer markUnavailable(&err)
	if err := l.check(name, holder, max(ttl, time.Millisecond)); err != nil {
		return false, fmt.Errorf("renew lease: %w", err)
	}
	n, err := leaseRenewScript.Run(ctx, l.s.rdb, []string{l.s.key("lease:" + name)}, holder, ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return n == 1, nil
}

// Release ends holder's lease name at once, so that another holder can
// take it; a lease holder no longer holds is left alone.
func (l Leases) Release(ctx context.Context, name, holder string) (err error) {
	defer markUnavailable(&err)
	if err := l.check(name, holder, 0); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	if err := leaseReleaseScript.Run(ctx, l.s.rdb, []string{l.s.key("lease:" + name)}, holder).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// Holder returns who holds the lease name ("" when nobody does) and for
// how much longer.
func (l Leases) Holder(ctx context.Context, name string) (holder string, left time.Duration, err error) {
	defer markUnavailable(&err)
	if err := l.check(name, "x", 0); err != nil {
		return "", 0, fmt.Errorf("lease holder: %w", err)
	}
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	if _, err := l.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, l.s.key("lease:"+name))
		ttl = p.PTTL(ctx, l.s.key("lease:"+name))
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return "", 0, fmt.Errorf("lease holder %s: %w", name, err)
	}
	if errors.Is(get.Err(), redis.Nil) {
		return "", 0, nil
	}
	return get.Val(), max(ttl.Val(), 0), nil
}
