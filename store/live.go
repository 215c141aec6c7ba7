package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// cancelScript voids the user's live request: its nonce becomes the
// "cancelled" tombstone and the request record goes, so that the request
// page answers not found and a submission with the nonce is refused.
//
// KEYS[1] request hash, KEYS[2] nonces hash. ARGV[1] now ms. Answers "ok"
// or "none" (no live request).
var cancelScript = redis.NewScript(luaNonce + `
local f = redis.call('HMGET', KEYS[1], 'nh', 'exp')
if not f[1] then return 'none' end
if (tonumber(f[2]) or 0) <= tonumber(ARGV[1]) then return 'none' end
local v = redis.call('HGET', KEYS[2], f[1])
if v then
  local _, st, head = nonce(v)
  if st == 'live' then redis.call('HSET', KEYS[2], f[1], head .. 'cancelled') end
end
redis.call('DEL', KEYS[1])
return 'ok'
`)

// Live returns the live request of userID, if any: issued, not yet
// used, superseded, cancelled or expired (by the store's clock). It
// changes nothing.
func (rq Requests) Live(ctx context.Context, userID int64) (_ Request, ok bool, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if s.optErr != nil {
		return Request{}, false, s.optErr
	}
	if err := checkUser(userID); err != nil {
		return Request{}, false, fmt.Errorf("live request: %w", err)
	}
	fields, err := s.rdb.HGetAll(ctx, s.userKey(userID, "request")).Result()
	if err != nil {
		return Request{}, false, fmt.Errorf("live request of user %d: %w", userID, err)
	}
	if len(fields) == 0 {
		return Request{}, false, nil
	}
	r, err := parseRequest(fields)
	if err != nil {
		return Request{}, false, fmt.Errorf("live request of user %d: %w", userID, err)
	}
	if !s.clock().Before(r.ExpiresAt) {
		return Request{}, false, nil
	}
	return r, true, nil
}

// Cancel voids the live request of userID and reports whether
// there was one. Its ID stops working for Get (ErrNotFound) and its
// nonce then fails Consume with ErrNonceCancelled. An expired request
// is not live: Cancel answers false and leaves it to Consume
// to report as expired.
func (rq Requests) Cancel(ctx context.Context, userID int64) (_ bool, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if s.optErr != nil {
		return false, s.optErr
	}
	if err := checkUser(userID); err != nil {
		return false, fmt.Errorf("cancel request: %w", err)
	}
	res, err := cancelScript.Run(ctx, s.rdb, []string{s.userKey(userID, "request"), s.userKey(userID, "nonces")},
		s.clock().UnixMilli()).Text()
	if err != nil {
		return false, fmt.Errorf("cancel request of user %d: %w", userID, err)
	}
	switch res {
	case "ok":
		return true, nil
	case "none":
		return false, nil
	default:
		return false, fmt.Errorf("cancel request of user %d: unexpected script answer %q", userID, res)
	}
}
