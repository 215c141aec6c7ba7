package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// OutboxEntry is a delivery to the business waiting to be made.
type OutboxEntry struct {
	// EventID identifies the event; enqueueing the same ID again within
	// outboxDedupeTTL (7 days) is a no-op, so that two instances handling
	// the same outcome deliver it once. 1 to 128 characters of
	// A-Z a-z 0-9 _ . : -.
	EventID string
	// UserID is the Telegram user the event is about.
	UserID int64
	// Kind says what happened, such as "verified" (same alphabet as
	// EventID).
	Kind string
	// Payload is what to deliver. It may hold personal data: it is sealed
	// with AES-256-GCM before it reaches Redis.
	Payload []byte
}

// Delivery is an outbox entry handed to a consumer by Claim.
type Delivery struct {
	// ID is the stream entry ID, for Ack.
	ID      string
	EventID string
	UserID  int64
	Kind    string
	// Payload is the decrypted payload.
	Payload []byte
	// Attempts counts the earlier deliveries of this entry that failed
	// (Retry), were cut short (Release) or were abandoned by a consumer
	// that died: 0 the first time.
	Attempts int
	// Consumer is the consumer that claimed it.
	Consumer string
	// Enqueued is when the entry was enqueued (the enqueuing store's
	// clock, to the millisecond): how long it has been waiting.
	Enqueued time.Time
}

const outboxDedupeTTL = 7 * 24 * time.Hour

// appendOnceScript appends an entry to a stream unless its key names one
// already (the outbox's event key, the queue's seen key), and remembers
// the entry's ID under the key.
//
// KEYS[1] stream, KEYS[2] key, KEYS[3...] the keys the same entry had
// under previous keys (the queue's, after a rotation: a repeat too, not
// written). ARGV[1] key TTL ms, ARGV[2...] entry
// fields and values. Answers {1, id} for a new entry, {0, existing id}.
var appendOnceScript = redis.NewScript(`
for i = 2, #KEYS do
  local existing = redis.call('GET', KEYS[i])
  if existing then return {0, existing} end
end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
return {1, id}
`)

// luaEventID finds the event ID in a flat list of entry fields.
const luaEventID = `
local function eventID(f)
  for i = 1, #f, 2 do if f[i] == 'eid' then return f[i + 1] end end
  return ''
end
`

// reclaimScript takes over entries from any consumer: on the first call
// of a Claim (start 0-0), those whose RetryAfter pause is over, whatever
// their idle time; then those idle longer than the minimum and not paused
// (a consumer that died, or Retry). It counts the abandoned attempt,
// unless the holder had called Retry (which counted it already). An entry
// that was deleted while pending is dropped from the pending list.
//
// KEYS[1] stream, KEYS[2] attempts hash, KEYS[3] due zset. ARGV[1] group,
// ARGV[2] consumer, ARGV[3] min idle ms, ARGV[4] start (inclusive, or
// "(id" exclusive), ARGV[5] count, ARGV[6] now ms, ARGV[7] how many
// pending entries to examine. Answers {next start or "0-0" when the
// pending list was examined to its end, {{id, fields, attempts}, ...}}.
var reclaimScript = redis.NewScript(luaEventID + `
local count = tonumber(ARGV[5])
local now = tonumber(ARGV[6])
local out = {}
local function take(id)
  local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  local e = c[1]
  if not e or not e[2] then
    redis.call('XACK', KEYS[1], ARGV[1], id)
    return
  end
  local eid = eventID(e[2])
  if redis.call('HDEL', KEYS[2], 'r:' .. eid) == 0 then
    redis.call('HINCRBY', KEYS[2], 'n:' .. eid, 1)
  end
  out[#out + 1] = {e[1], e[2], redis.call('HGET', KEYS[2], 'n:' .. eid) or '0'}
end
if ARGV[4] == '0-0' then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, count)) do
    redis.call('ZREM', KEYS[3], id)
    take(id)
  end
end
if #out >= count then return {ARGV[4], out} end
local p = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[4], '+', ARGV[7])
for i, pe in ipairs(p) do
  if #out >= count then return {'(' .. p[i - 1][1], out} end
  local id = pe[1]
  local due = redis.call('ZSCORE', KEYS[3], id)
  if not due or tonumber(due) <= now then
    if due then redis.call('ZREM', KEYS[3], id) end
    take(id)
  end
end
if #p < tonumber(ARGV[7]) then return {'0-0', out} end
return {'(' .. p[#p][1], out}
`)

// retryScript counts a failed attempt and restarts the entry's idle time,
// if the consumer still holds it, and pauses it until a due time (or
// lifts a pause).
//
// KEYS[1] stream, KEYS[2] attempts hash, KEYS[3] due zset. ARGV[1] group,
// ARGV[2] id, ARGV[3] consumer, ARGV[4] due unix ms, or "" for none.
var retryScript = redis.NewScript(luaEventID + `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e == 0 then return 0 end
local eid = eventID(e[1][2])
redis.call('HINCRBY', KEYS[2], 'n:' .. eid, 1)
redis.call('HSET', KEYS[2], 'r:' .. eid, '1')
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
end
return 1
`)

// ackScript removes a delivered entry, its attempt counters and its
// pause.
//
// KEYS[1] stream, KEYS[2] attempts hash, KEYS[3] due zset. ARGV[1] group,
// ARGV[2] id.
var ackScript = redis.NewScript(luaEventID + `
redis.call('ZREM', KEYS[3], ARGV[2])
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e > 0 then
  local eid = eventID(e[1][2])
  redis.call('HDEL', KEYS[2], 'n:' .. eid, 'r:' .. eid)
end
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return n + redis.call('XDEL', KEYS[1], ARGV[2])
`)

// parkScript moves an entry to the parked stream.
//
// KEYS[1] stream, KEYS[2] parked stream, KEYS[3] attempts hash, KEYS[4]
// due zset. ARGV[1] group, ARGV[2] id, ARGV[3] reason, ARGV[4] now ms.
var parkScript = redis.NewScript(luaEventID + `
redis.call('ZREM', KEYS[4], ARGV[2])
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e == 0 then return 0 end
local f = e[1][2]
local eid = eventID(f)
local n = tonumber(redis.call('HGET', KEYS[3], 'n:' .. eid) or '0') + 1
local fields = {}
for i = 1, #f do fields[#fields + 1] = f[i] end
for _, v in ipairs({'reason', ARGV[3], 'attempts', tostring(n), 'parked_at', ARGV[4], 'from', ARGV[2]}) do
  fields[#fields + 1] = v
end
redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[3], 'n:' .. eid, 'r:' .. eid)
return 1
`)

var streamIDRE = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// outboxAAD binds a sealed payload to its entry.
func outboxAAD(eventID string, userID int64, kind string) []byte {
	return []byte("kycbot outbox v1\x00" + eventID + "\x00" + strconv.FormatInt(userID, 10) + "\x00" + kind)
}

// Outbox is the view of the deliveries to the business. It owns the
// outbox stream and its consumer group (P{outbox}:stream), the parked
// entries (P{outbox}:parked), the attempt counters (P{outbox}:attempts),
// the pauses (P{outbox}:due) and the event keys that make Enqueue
// idempotent (P{outbox}:event:<eh>). Get it from Store.Outbox.
type Outbox struct{ s *Store }

// Outbox returns the view of the deliveries to the business.
func (s *Store) Outbox() Outbox { return Outbox{s} }

// Enqueue appends e to the outbox. The payload is sealed with AES-256-GCM
// (random 12-byte nonce; the event ID, user ID and kind as associated
// data) with the WithOutboxKey key; without a key Enqueue fails with
// ErrOutboxKey. Enqueueing an event ID again is a no-op. The entry is
// delivered after the user's entries enqueued before it (Claim), and kept,
// sealed, for the event retention (WithEventRetention, Resend).
func (o Outbox) Enqueue(ctx context.Context, e OutboxEntry) (err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return s.optErr
	}
	if s.outbox == nil {
		return fmt.Errorf("enqueue: %w", s.outboxErr)
	}
	if !codeRE.MatchString(e.EventID) {
		return fmt.Errorf("enqueue: %w: event ID must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	if !codeRE.MatchString(e.Kind) {
		return fmt.Errorf("enqueue event %s: %w: kind must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", e.EventID, ErrInvalid)
	}
	if err := checkUser(e.UserID); err != nil {
		return fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	sealed, err := s.seal(s.outbox.current().aead, e.Payload, outboxAAD(e.EventID, e.UserID, e.Kind))
	if err != nil {
		return fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	err = enqueueScript.Run(ctx, s.rdb,
		[]string{s.outboxKey("stream"), s.outboxKey("event:" + hashHex(e.EventID)), s.orderKey(e.UserID),
			s.keptKey(e.EventID), s.keptUserKey(e.UserID)},
		ms(outboxDedupeTTL), ms(orderTTL), ms(s.eventRetention()), hashHex(e.EventID),
		"eid", e.EventID,
		"uid", e.UserID,
		"kind", e.Kind,
		"kid", s.outbox.current().kid,
		"p", sealed,
		"at", s.clock().UnixMilli(),
	).Err()
	if err != nil {
		return fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	return nil
}

// Claim hands consumer up to count deliveries, each user's in the order
// they were enqueued (an entry behind one of the same user still in the
// outbox waits for it, paused without counting an attempt): first entries whose
// RetryAfter pause is over (whatever minIdle), then entries that other
// (or this) consumers claimed more than minIdle ago and neither acked nor
// parked (a consumer that died, or Retry) unless they are paused, then
// new entries. Each must end with Ack, Retry (RetryAfter) or Park.
// Several instances may claim concurrently: an entry goes to one consumer
// at a time. Pauses are judged by the store's clock (WithClock), idle
// times by Redis's.
//
// Entries whose payload does not decrypt (another outbox key, tampering)
// are not returned: Claim returns the others together with an error
// wrapping ErrOutboxDecrypt that names their stream IDs. They stay pending,
// so an instance with the right key reclaims them; Park removes them.
func (o Outbox) Claim(ctx context.Context, consumer string, minIdle time.Duration, count int) (_ []Delivery, err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return nil, s.optErr
	}
	if s.outbox == nil {
		return nil, fmt.Errorf("claim: %w", s.outboxErr)
	}
	if !codeRE.MatchString(consumer) {
		return nil, fmt.Errorf("claim: %w: consumer must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	if minIdle < time.Millisecond {
		return nil, fmt.Errorf("claim: %w: minIdle %v must be at least 1ms, or live deliveries would be stolen", ErrInvalid, minIdle)
	}
	if count < 1 || count > 1000 {
		return nil, fmt.Errorf("claim: %w: count %d must be between 1 and 1000", ErrInvalid, count)
	}
	var raw []rawEntry
	err = s.withGroup(ctx, func() error {
		var err error
		raw, err = s.claimRaw(ctx, consumer, minIdle, count)
		if err != nil {
			return err
		}
		raw, err = s.inOrder(ctx, raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim for %s: %w", consumer, err)
	}
	out := make([]Delivery, 0, len(raw))
	var bad []string
	var firstErr error
	for _, r := range raw {
		d, err := s.openEntry(r.id, r.fields)
		if err != nil {
			bad = append(bad, r.id)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		d.Attempts = r.attempts
		d.Consumer = consumer
		out = append(out, d)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("claim for %s: %d entries left pending (%s): %w", consumer, len(bad), strings.Join(bad, ", "), firstErr)
	}
	return out, nil
}

// reclaimScan is how many pending entries one call of reclaimScript
// examines; Claim makes at most 32 calls.
const reclaimScan = 200

type rawEntry struct {
	id       string
	fields   map[string]string
	attempts int
}

func (s *Store) claimRaw(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]rawEntry, error) {
	var out []rawEntry
	start := "0-0"
	now := s.clock().UnixMilli()
	for range 32 {
		res, err := reclaimScript.Run(ctx, s.rdb,
			[]string{s.outboxKey("stream"), s.outboxKey("attempts"), s.outboxKey("due")},
			outboxGroup, consumer, ms(minIdle), start, count-len(out), now, reclaimScan).Slice()
		if err != nil {
			return nil, fmt.Errorf("reclaim: %w", err)
		}
		start, _ = res[0].(string)
		entries, _ := res[1].([]any)
		for _, e := range entries {
			t, _ := e.([]any)
			if len(t) != 3 {
				continue
			}
			id, _ := t[0].(string)
			n, _ := strconv.Atoi(fmt.Sprint(t[2]))
			out = append(out, rawEntry{id: id, fields: flatToMap(t[1]), attempts: n})
		}
		if len(out) >= count || start == "0-0" || start == "" {
			break
		}
	}
	if len(out) >= count {
		return out, nil
	}
	streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    outboxGroup,
		Consumer: consumer,
		Streams:  []string{s.outboxKey("stream"), ">"},
		Count:    int64(count - len(out)),
		Block:    -1,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read new: %w", err)
	}
	for _, st := range streams {
		for _, m := range st.Messages {
			f := make(map[string]string, len(m.Values))
			for k, v := range m.Values {
				f[k], _ = v.(string)
			}
			out = append(out, rawEntry{id: m.ID, fields: f})
		}
	}
	return out, nil
}

func flatToMap(v any) map[string]string {
	flat, _ := v.([]any)
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		val, _ := flat[i+1].(string)
		m[k] = val
	}
	return m
}

// withGroup runs f, creating the consumer group first if Redis says it
// does not exist (a fresh or flushed Redis).
func (s *Store) withGroup(ctx context.Context, f func() error) error {
	err := f()
	if err == nil || !strings.Contains(err.Error(), "NOGROUP") {
		return err
	}
	if err := s.rdb.XGroupCreateMkStream(ctx, s.outboxKey("stream"), outboxGroup, "0").Err(); err != nil &&
		!strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	return f()
}

// openEntry decodes and decrypts a stream entry.
func (s *Store) openEntry(id string, f map[string]string) (Delivery, error) {
	uid, err := strconv.ParseInt(f["uid"], 10, 64)
	if err != nil {
		return Delivery{}, fmt.Errorf("outbox entry %s: corrupt user ID: %w", id, ErrOutboxDecrypt)
	}
	d := Delivery{ID: id, EventID: f["eid"], UserID: uid, Kind: f["kind"]}
	if at, err := strconv.ParseInt(f["at"], 10, 64); err == nil {
		d.Enqueued = time.UnixMilli(at).UTC()
	}
	kid := f["kid"]
	if !s.outbox.has(kid) {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s) was sealed under outbox key id %q but this store has key ids %s: configure the same outbox key on every instance, and a rotated one as a previous key: %w",
			id, d.EventID, kid, s.outbox.kids(), ErrOutboxDecrypt)
	}
	d.Payload, err = s.outbox.open(kid, []byte(f["p"]), outboxAAD(d.EventID, d.UserID, d.Kind))
	if errors.Is(err, errSealedShort) {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s): sealed payload too short: %w", id, d.EventID, ErrOutboxDecrypt)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s): wrong outbox key or tampered entry (%v): %w", id, d.EventID, err, ErrOutboxDecrypt)
	}
	return d, nil
}

// Ack marks the delivery with stream ID id as done and removes it from
// the outbox. Acking twice is not an error.
func (o Outbox) Ack(ctx context.Context, id string) (err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return s.optErr
	}
	if !streamIDRE.MatchString(id) {
		return fmt.Errorf("ack: %w: malformed stream ID", ErrInvalid)
	}
	if err := ackScript.Run(ctx, s.rdb, []string{s.outboxKey("stream"), s.outboxKey("attempts"), s.outboxKey("due")}, outboxGroup, id).Err(); err != nil {
		return fmt.Errorf("ack %s: %w", id, err)
	}
	return nil
}

// Retry records that delivering d failed: its attempt is counted and it is
// handed out again (to any consumer) minIdle after now, the minIdle of the
// next Claim. It is RetryAfter with no pause.
func (o Outbox) Retry(ctx context.Context, d Delivery, cause error) error {
	return o.RetryAfter(ctx, d, cause, 0)
}

// RetryAfter records that delivering d failed and pauses the entry for
// after: its attempt is counted, and Claim hands it out again (to any
// consumer) once after has passed by the store's clock, whatever the
// minIdle of that Claim, so that each entry can back off on its own
// schedule. An after of 0 or less is Retry: no pause, the entry is due
// minIdle after now. cause is not stored, since error texts may carry
// data: log it.
//
// RetryAfter answers ErrNotFound when d.Consumer no longer holds the entry
// (it was acked, parked, or reclaimed by another consumer meanwhile).
func (o Outbox) RetryAfter(ctx context.Context, d Delivery, cause error, after time.Duration) error {
	var due time.Time
	if after > 0 {
		due = o.s.clock().Add(after)
	}
	return o.pause(ctx, "retry", d, due)
}

// pause runs retryScript for RetryAfter and Release (op names it in
// errors): d's attempt is counted and the entry is due at due, or minIdle
// after now when due is zero.
func (o Outbox) pause(ctx context.Context, op string, d Delivery, due time.Time) (err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return s.optErr
	}
	if !streamIDRE.MatchString(d.ID) || !codeRE.MatchString(d.Consumer) {
		return fmt.Errorf("%s: %w: delivery needs the stream ID and consumer Claim set", op, ErrInvalid)
	}
	at := ""
	if !due.IsZero() {
		at = strconv.FormatInt(due.UnixMilli(), 10)
	}
	n, err := retryScript.Run(ctx, s.rdb, []string{s.outboxKey("stream"), s.outboxKey("attempts"), s.outboxKey("due")},
		outboxGroup, d.ID, d.Consumer, at).Int()
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, d.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: not held by %s any more: %w", op, d.ID, d.Consumer, ErrNotFound)
	}
	return nil
}

// Release hands d back undelivered, for a consumer that stops before it
// knows the outcome of its attempt (the request was cut short): the
// attempt is counted, since the receiver may have had it, and the entry is
// due at once by the store's clock, so that the next Claim of any
// consumer takes it without waiting for its minIdle. A consumer that dies
// without calling Release leaves the entry to be taken over minIdle
// later.
//
// Release answers ErrNotFound when d.Consumer no longer holds the entry.
func (o Outbox) Release(ctx context.Context, d Delivery) error {
	return o.pause(ctx, "release", d, o.s.clock())
}

// Park moves the entry of d (only d.ID is needed) out of the outbox into
// the parked stream, with reason (a short code or phrase, no data: up to
// 200 characters of A-Z a-z 0-9 space _ . : / ( ) = , -), for an admin to
// look at. The payload stays sealed.
func (o Outbox) Park(ctx context.Context, d Delivery, reason string) (err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return s.optErr
	}
	if !streamIDRE.MatchString(d.ID) {
		return fmt.Errorf("park: %w: malformed stream ID", ErrInvalid)
	}
	if !reasonRE.MatchString(reason) {
		return fmt.Errorf("park %s: %w: reason must be 1 to 200 characters of A-Z a-z 0-9 space _ . : / ( ) = , -", d.ID, ErrInvalid)
	}
	n, err := parkScript.Run(ctx, s.rdb,
		[]string{s.outboxKey("stream"), s.outboxKey("parked"), s.outboxKey("attempts"), s.outboxKey("due")},
		outboxGroup, d.ID, reason, s.clock().UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("park %s: %w", d.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("park %s: %w", d.ID, ErrNotFound)
	}
	return nil
}

// Depth returns how many entries wait in the outbox (new or being
// delivered) and how many are parked.
func (o Outbox) Depth(ctx context.Context) (pending, parked int64, err error) {
	defer markUnavailable(&err)
	s := o.s
	if s.optErr != nil {
		return 0, 0, s.optErr
	}
	var a, b *redis.IntCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		a = p.XLen(ctx, s.outboxKey("stream"))
		b = p.XLen(ctx, s.outboxKey("parked"))
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("outbox depth: %w", err)
	}
	return a.Val(), b.Val(), nil
}
