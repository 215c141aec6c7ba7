package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// markScript adds a message to the user's dedupe set unless it is there
// and not expired. The set is a sorted set scored by expiry (ms on the
// store's clock), so that one key per user holds every mark and
// DeleteUser finds them all. A mark made with an owner (MarkedBy) has a
// second member, "<msgID>@<owner>", of the same score: the owner marking
// again is answered 1 again.
//
// KEYS[1] updates zset. ARGV[1] member, ARGV[2] now ms, ARGV[3] TTL ms,
// ARGV[4] owner ("" for none).
var markScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = ARGV[1] .. '@' .. ARGV[4]
if redis.call('ZADD', KEYS[1], 'NX', now + ttl, ARGV[1]) == 0 then
  if ARGV[4] ~= '' and redis.call('ZSCORE', KEYS[1], held) then return 1 end
  return 0
end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[1], now + ttl, held) end
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

// forgetScript removes a mark its owner holds, and nothing else.
//
// KEYS[1] updates zset. ARGV[1] member, ARGV[2] owner.
var forgetScript = redis.NewScript(`
local held = ARGV[1] .. '@' .. ARGV[2]
if redis.call('ZSCORE', KEYS[1], held) then
  redis.call('ZREM', KEYS[1], ARGV[1], held)
end
return 0
`)

// MarkOption modifies MarkUpdate and ForgetUpdate.
type MarkOption func(*markOptions)

type markOptions struct{ owner string }

// MarkedBy names the holder of a mark, such as one processing of an
// update that may be retried: MarkUpdate by the owner of a mark that is
// there reports first=true again (to the owner only), so that a retry is
// not taken for a duplicate of itself when an earlier MarkUpdate whose
// answer was lost did run, or when ForgetUpdate could not run. ForgetUpdate
// with it removes the mark only if owner holds it. owner is 1 to 128
// characters of A-Z a-z 0-9 _ . : -; give the same owner to every call
// about one mark.
func MarkedBy(owner string) MarkOption {
	return func(o *markOptions) { o.owner = owner }
}

// markOwner returns the owner opts name ("" for none), checked.
func markOwner(opts []MarkOption) (string, error) {
	var o markOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.owner != "" && !codeRE.MatchString(o.owner) {
		return "", fmt.Errorf("%w: the owner of a mark must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	return o.owner, nil
}

// MarkUpdate records that the message msgID of userID is being processed.
// It reports first=true to exactly one caller (across instances) until ttl
// has passed or ForgetUpdate is called: the others skip the update. With
// MarkedBy, the owner of the mark is told first=true again.
func (s *Store) MarkUpdate(ctx context.Context, userID int64, msgID int, ttl time.Duration, opts ...MarkOption) (first bool, err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return false, s.optErr
	}
	if err := checkUser(userID); err != nil {
		return false, fmt.Errorf("mark update: %w", err)
	}
	if err := checkTTL(ttl); err != nil {
		return false, fmt.Errorf("mark update: %w", err)
	}
	owner, err := markOwner(opts)
	if err != nil {
		return false, fmt.Errorf("mark update: %w", err)
	}
	n, err := markScript.Run(ctx, s.rdb, []string{s.userKey(userID, "updates")},
		strconv.Itoa(msgID), s.clock().UnixMilli(), ms(ttl), owner).Int()
	if err != nil {
		return false, fmt.Errorf("mark update %d of user %d: %w", msgID, userID, err)
	}
	return n == 1, nil
}

// ForgetUpdate removes the mark of MarkUpdate, so that a submission whose
// processing failed can be processed again when Telegram (or the user)
// sends it again. Forgetting an unknown mark is not an error. With
// MarkedBy, a mark that another owner (or none) holds stays.
func (s *Store) ForgetUpdate(ctx context.Context, userID int64, msgID int, opts ...MarkOption) (err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return s.optErr
	}
	owner, err := markOwner(opts)
	if err != nil {
		return fmt.Errorf("forget update: %w", err)
	}
	key, member := s.userKey(userID, "updates"), strconv.Itoa(msgID)
	if owner == "" {
		err = s.rdb.ZRem(ctx, key, member).Err()
	} else {
		err = forgetScript.Run(ctx, s.rdb, []string{key}, member, owner).Err()
	}
	if err != nil {
		return fmt.Errorf("forget update %d of user %d: %w", msgID, userID, err)
	}
	return nil
}
