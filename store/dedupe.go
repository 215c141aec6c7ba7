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
// DeleteUser finds them all.
//
// KEYS[1] updates zset. ARGV[1] member, ARGV[2] now ms, ARGV[3] TTL ms.
var markScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local added = redis.call('ZADD', KEYS[1], 'NX', now + ttl, ARGV[1])
if added == 1 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return added
`)

// MarkUpdate records that the message msgID of userID is being processed.
// It reports first=true to exactly one caller (across instances) until ttl
// has passed or ForgetUpdate is called: the others skip the update.
func (s *Store) MarkUpdate(ctx context.Context, userID int64, msgID int, ttl time.Duration) (first bool, err error) {
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
	n, err := markScript.Run(ctx, s.rdb, []string{s.userKey(userID, "updates")},
		strconv.Itoa(msgID), s.clock().UnixMilli(), ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("mark update %d of user %d: %w", msgID, userID, err)
	}
	return n == 1, nil
}

// ForgetUpdate removes the mark of MarkUpdate, so that a submission whose
// processing failed can be processed again when Telegram (or the user)
// sends it again. Forgetting an unknown mark is not an error.
func (s *Store) ForgetUpdate(ctx context.Context, userID int64, msgID int) (err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return s.optErr
	}
	if err := s.rdb.ZRem(ctx, s.userKey(userID, "updates"), strconv.Itoa(msgID)).Err(); err != nil {
		return fmt.Errorf("forget update %d of user %d: %w", msgID, userID, err)
	}
	return nil
}
