package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The outbox delivers each user's events in the order they were enqueued,
// and keeps every event, sealed, for Resend.
//
// Order: Enqueue appends the entry's stream ID to the user's order list
// (P{outbox}:order:<uid>). Claim hands out an entry only while it heads
// that list; an entry behind another of the same user that is still in
// the stream (new, being delivered, or waiting for a retry) is paused for
// orderPause without counting an attempt, and handed out once the one
// before it was acknowledged or parked. Heads whose entries left the
// stream are dropped from the list as Claim meets them. Entries enqueued
// by a kycbot before this order (not in any list) go out as before.
//
// Kept events: Enqueue also keeps the sealed entry under
// P{outbox}:kept:<eh> for the event retention (WithEventRetention),
// listed in P{outbox}:kept-user:<uid> so that erasing the user erases
// them. Resend appends a kept event to the stream again.

// DefaultEventRetention is how long the outbox keeps an event for Resend
// when WithEventRetention does not say.
const DefaultEventRetention = 7 * 24 * time.Hour

// orderPause is how long an entry waiting behind an earlier one of the
// same user is paused before Claim looks at it again.
const orderPause = time.Second

// WithEventRetention keeps every event enqueued in the outbox, sealed as
// in the outbox, for d after it was enqueued (config
// delivery.keep_events), so that Outbox.Resend can deliver it again. 0
// keeps none (Resend then finds nothing); the default is
// DefaultEventRetention. A negative d is an error reported by every
// method.
func WithEventRetention(d time.Duration) Option {
	return func(s *Store) {
		if d < 0 {
			s.optErr = fmt.Errorf("%w: event retention %v is negative (0 keeps no events)", ErrInvalid, d)
			return
		}
		s.eventKeep = d
		s.eventKeepSet = true
	}
}

// eventRetention is the retention in force.
func (s *Store) eventRetention() time.Duration {
	if !s.eventKeepSet {
		return DefaultEventRetention
	}
	return s.eventKeep
}

func (s *Store) orderKey(userID int64) string {
	return s.outboxKey("order:" + strconv.FormatInt(userID, 10))
}

func (s *Store) keptKey(eventID string) string { return s.outboxKey("kept:" + hashHex(eventID)) }

func (s *Store) keptUserKey(userID int64) string {
	return s.outboxKey("kept-user:" + strconv.FormatInt(userID, 10))
}

// orderTTL bounds the life of an order list: longer than any entry waits
// (give_up_after is at most 30 days), refreshed by every Enqueue.
const orderTTL = 31 * 24 * time.Hour

// enqueueScript appends an outbox entry unless its event key names one
// already, appends its ID to the user's order list and keeps the entry.
//
// KEYS[1] stream, KEYS[2] event key, KEYS[3] order list, KEYS[4] kept
// hash, KEYS[5] kept-user set. ARGV[1] event key TTL ms, ARGV[2] order
// TTL ms, ARGV[3] kept TTL ms (0: keep none), ARGV[4] the kept hash's
// name in the kept-user set, ARGV[5...] entry fields and values.
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
redis.call('RPUSH', KEYS[3], id)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[4], unpack(fields))
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
  redis.call('SADD', KEYS[5], ARGV[4])
  redis.call('PEXPIRE', KEYS[5], ARGV[3])
end
return 1
`)

// headScript says which entries may be delivered now: those that head
// their user's order list (heads no longer in the stream are dropped
// first), or are in no list. It pauses the others (due zset) without
// counting an attempt (the 'r:' mark, which the next take consumes).
//
// KEYS[1] stream, KEYS[2] attempts hash, KEYS[3] due zset, KEYS[3+i] the
// order list of the i-th entry. ARGV[1] due ms, ARGV[2i], ARGV[2i+1] the
// i-th entry's stream ID and event ID. Answers a 1 (deliver) or 0
// (paused) per entry.
var headScript = redis.NewScript(`
local out = {}
for i = 1, #KEYS - 3 do
  local list, id, eid = KEYS[3 + i], ARGV[2 * i], ARGV[2 * i + 1]
  local go = 1
  while true do
    local h = redis.call('LINDEX', list, 0)
    if not h or h == id then break end
    if #redis.call('XRANGE', KEYS[1], h, h) == 0 then
      redis.call('LPOP', list)
    else
      if redis.call('LPOS', list, id) then
        redis.call('HSET', KEYS[2], 'r:' .. eid, '1')
        redis.call('ZADD', KEYS[3], ARGV[1], id)
        go = 0
      end
      break
    end
  end
  out[i] = go
end
return out
`)

// inOrder keeps the entries of raw that head their user's order list and
// pauses the others (headScript), in one round trip.
func (s *Store) inOrder(ctx context.Context, raw []rawEntry) ([]rawEntry, error) {
	if len(raw) == 0 {
		return raw, nil
	}
	keys := []string{s.outboxKey("stream"), s.outboxKey("attempts"), s.outboxKey("due")}
	args := []any{s.clock().Add(orderPause).UnixMilli()}
	for _, r := range raw {
		// A corrupt user ID names an order list of its own (none): the
		// entry goes on, and openEntry reports it.
		uid, _ := strconv.ParseInt(r.fields["uid"], 10, 64)
		keys = append(keys, s.orderKey(uid))
		args = append(args, r.id, r.fields["eid"])
	}
	res, err := headScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("order of the entries: %w", err)
	}
	out := raw[:0]
	for i, r := range raw {
		if i < len(res) && res[i] == 1 {
			out = append(out, r)
		}
	}
	return out, nil
}

// resendScript appends a kept event to the stream again, once per source
// key when one is given.
//
// KEYS[1] stream, KEYS[2] kept hash, KEYS[3] order list, KEYS[4] source
// key (or the kept hash again: none). ARGV[1] now ms, ARGV[2] source key
// TTL ms, ARGV[3] order TTL ms. Answers {1, id} for a new entry, {0, id}
// for a source seen already, {-1} when the event is not kept.
var resendScript = redis.NewScript(`
if KEYS[4] ~= KEYS[2] then
  local seen = redis.call('GET', KEYS[4])
  if seen then return {0, seen} end
end
local flat = redis.call('HGETALL', KEYS[2])
if #flat == 0 then return {-1} end
local fields = {}
for i = 1, #flat, 2 do
  if flat[i] ~= 'at' then
    fields[#fields + 1] = flat[i]
    fields[#fields + 1] = flat[i + 1]
  end
end
fields[#fields + 1] = 'at'
fields[#fields + 1] = ARGV[1]
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('RPUSH', KEYS[3], id)
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if KEYS[4] ~= KEYS[2] then redis.call('SET', KEYS[4], id, 'PX', ARGV[2]) end
return {1, id}
`)

// Kept is an event the outbox keeps for Resend: what names it, never its
// payload.
type Kept struct {
	EventID string
	UserID  int64
	Kind    string
	// Enqueued is when the event was first enqueued.
	Enqueued time.Time
}

// Resend appends the kept event eventID (WithEventRetention) to the
// outbox again, as it was enqueued, sealed: it is delivered once more,
// with the same event ID, after the user's events enqueued before it, and
// its give-up time runs from now. src, when not empty, names the request
// (an admin's command, say): the same src resends once, and answers the
// same. It answers ErrNotFound when the event is not kept (unknown, older
// than the retention, or its user erased).
func (o Outbox) Resend(ctx context.Context, eventID, src string) (_ Kept, err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return Kept{}, s.optErr
	}
	if !codeRE.MatchString(eventID) {
		return Kept{}, fmt.Errorf("resend: %w: event ID must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	kept := s.keptKey(eventID)
	f, err := s.rdb.HGetAll(ctx, kept).Result()
	if err != nil {
		return Kept{}, fmt.Errorf("resend %s: %w", eventID, err)
	}
	if len(f) == 0 || f["eid"] != eventID {
		return Kept{}, fmt.Errorf("resend %s: %w: no such event is kept (unknown, older than the retention, or its user was erased)", eventID, ErrNotFound)
	}
	uid, err := strconv.ParseInt(f["uid"], 10, 64)
	if err != nil {
		return Kept{}, fmt.Errorf("resend %s: corrupt user ID: %w", eventID, ErrOutboxDecrypt)
	}
	k := Kept{EventID: eventID, UserID: uid, Kind: f["kind"]}
	if at, err := strconv.ParseInt(f["at"], 10, 64); err == nil {
		k.Enqueued = time.UnixMilli(at).UTC()
	}
	source := kept
	if src != "" {
		source = s.outboxKey("resend:" + hashHex(src))
	}
	res, err := resendScript.Run(ctx, s.rdb, []string{s.outboxKey("stream"), kept, s.orderKey(uid), source},
		s.clock().UnixMilli(), ms(outboxDedupeTTL), ms(orderTTL)).Slice()
	if err != nil {
		return Kept{}, fmt.Errorf("resend %s: %w", eventID, err)
	}
	if n, _ := res[0].(int64); n == -1 {
		return Kept{}, fmt.Errorf("resend %s: %w: the event left the retention meanwhile", eventID, ErrNotFound)
	}
	return k, nil
}

// dropKept erases the kept events of a user and the user's order list.
func (s *Store) dropKept(ctx context.Context, userID int64) (int, error) {
	set := s.keptUserKey(userID)
	names, err := s.rdb.SMembers(ctx, set).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("read the kept events: %w", err)
	}
	keys := []string{set, s.orderKey(userID)}
	for _, n := range names {
		keys = append(keys, s.outboxKey("kept:"+n))
	}
	// All share the {outbox} hash tag: one DEL, in one slot.
	n, err := s.rdb.Del(ctx, keys...).Result()
	if err != nil {
		return 0, fmt.Errorf("delete the kept events: %w", err)
	}
	return int(n), nil
}
