package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// cancelScript voids the user's live request: its nonce becomes the
// "cancelled" tombstone and the request record goes, so that the request
// page answers not found and a submission with the nonce is refused. It
// is a compare-and-set on the request's nonce hash, as issueScript, so
// that the nonce key can be declared in KEYS.
//
// KEYS[1] request hash, KEYS[2] its nonce state. ARGV[1] expected nonce
// hash, ARGV[2] now ms. Answers "ok", "none" (no live request) or "retry"
// (the request changed meanwhile).
var cancelScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'nh', 'exp')
if not f[1] then return 'none' end
if f[1] ~= ARGV[1] then return 'retry' end
if (tonumber(f[2]) or 0) <= tonumber(ARGV[2]) then return 'none' end
if redis.call('GET', KEYS[2]) == 'live' then
  redis.call('SET', KEYS[2], 'cancelled', 'KEEPTTL')
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
	reqKey := s.userKey(userID, "request")
	for range 16 {
		nh, err := s.rdb.HGet(ctx, reqKey, "nh").Result()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("cancel request of user %d: %w", userID, err)
		}
		res, err := cancelScript.Run(ctx, s.rdb, []string{reqKey, s.userKey(userID, "nonce:"+nh)},
			nh, s.clock().UnixMilli()).Text()
		if err != nil {
			return false, fmt.Errorf("cancel request of user %d: %w", userID, err)
		}
		switch res {
		case "ok":
			return true, nil
		case "none":
			return false, nil
		case "retry":
			continue
		default:
			return false, fmt.Errorf("cancel request of user %d: unexpected script answer %q", userID, res)
		}
	}
	return false, fmt.Errorf("cancel request of user %d: %w", userID, ErrContention)
}
