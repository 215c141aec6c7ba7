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
	// (Retry) or were abandoned by a consumer that died: 0 the first time.
	Attempts int
	// Consumer is the consumer that claimed it.
	Consumer string
}

const outboxDedupeTTL = 7 * 24 * time.Hour

// enqueueScript appends an entry unless its event was enqueued already.
//
// KEYS[1] stream, KEYS[2] event key. ARGV[1] event key TTL ms, ARGV[2...]
// entry fields and values. Answers {1, id} or {0, existing id}.
var enqueueScript = redis.NewScript(`
local existing = redis.call('GET', KEYS[2])
if existing then return {0, existing} end
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

// reclaimScript takes over entries idle longer than the minimum from any
// consumer and counts the abandoned attempt, unless the holder had called
// Retry (which counted it already).
//
// KEYS[1] stream, KEYS[2] attempts hash. ARGV[1] group, ARGV[2] consumer,
// ARGV[3] min idle ms, ARGV[4] start, ARGV[5] count.
// Answers {next start, {{id, fields, attempts}, ...}}.
var reclaimScript = redis.NewScript(luaEventID + `
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {}
for _, e in ipairs(r[2]) do
  if e and e[2] then
    local eid = eventID(e[2])
    if redis.call('HDEL', KEYS[2], 'r:' .. eid) == 0 then
      redis.call('HINCRBY', KEYS[2], 'n:' .. eid, 1)
    end
    out[#out + 1] = {e[1], e[2], redis.call('HGET', KEYS[2], 'n:' .. eid) or '0'}
  end
end
return {r[1], out}
`)

// retryScript counts a failed attempt and restarts the entry's idle time,
// if the consumer still holds it.
//
// KEYS[1] stream, KEYS[2] attempts hash. ARGV[1] group, ARGV[2] id,
// ARGV[3] consumer.
var retryScript = redis.NewScript(luaEventID + `
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e == 0 then return 0 end
local eid = eventID(e[1][2])
redis.call('HINCRBY', KEYS[2], 'n:' .. eid, 1)
redis.call('HSET', KEYS[2], 'r:' .. eid, '1')
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1
`)

// ackScript removes a delivered entry and its attempt counters.
//
// KEYS[1] stream, KEYS[2] attempts hash. ARGV[1] group, ARGV[2] id.
var ackScript = redis.NewScript(luaEventID + `
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
// KEYS[1] stream, KEYS[2] parked stream, KEYS[3] attempts hash.
// ARGV[1] group, ARGV[2] id, ARGV[3] reason, ARGV[4] now ms.
var parkScript = redis.NewScript(luaEventID + `
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

// Enqueue appends e to the outbox. The payload is sealed with AES-256-GCM
// (random 12-byte nonce; the event ID, user ID and kind as associated
// data) with the WithOutboxKey key; without a key Enqueue fails with
// ErrOutboxKey. Enqueueing an event ID again is a no-op.
func (s *Store) Enqueue(ctx context.Context, e OutboxEntry) (err error) {
	defer markUnavailable(&err)
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
	nonce, err := s.randomBytes(s.outbox.NonceSize())
	if err != nil {
		return fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	sealed := s.outbox.Seal(nonce, nonce, e.Payload, outboxAAD(e.EventID, e.UserID, e.Kind))
	err = enqueueScript.Run(ctx, s.rdb,
		[]string{s.outboxKey("stream"), s.outboxKey("event:" + hashHex(e.EventID))},
		ms(outboxDedupeTTL),
		"eid", e.EventID,
		"uid", e.UserID,
		"kind", e.Kind,
		"kid", s.outboxKID,
		"p", sealed,
		"at", s.clock().UnixMilli(),
	).Err()
	if err != nil {
		return fmt.Errorf("enqueue event %s: %w", e.EventID, err)
	}
	return nil
}

// Claim hands consumer up to count deliveries: first entries that other
// (or this) consumers claimed more than minIdle ago and neither acked nor
// parked (a consumer that died, or Retry), then new entries. Each must end
// with Ack, Retry or Park. Several instances may claim concurrently: an
// entry goes to one consumer at a time.
//
// Entries whose payload does not decrypt (another outbox key, tampering)
// are not returned: Claim returns the others together with an error
// wrapping ErrOutboxDecrypt that names their stream IDs. They stay pending,
// so an instance with the right key reclaims them; Park removes them.
func (s *Store) Claim(ctx context.Context, consumer string, minIdle time.Duration, count int) (_ []Delivery, err error) {
	defer markUnavailable(&err)
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

type rawEntry struct {
	id       string
	fields   map[string]string
	attempts int
}

func (s *Store) claimRaw(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]rawEntry, error) {
	var out []rawEntry
	start := "0-0"
	for range 32 {
		res, err := reclaimScript.Run(ctx, s.rdb,
			[]string{s.outboxKey("stream"), s.outboxKey("attempts")},
			outboxGroup, consumer, ms(minIdle), start, count-len(out)).Slice()
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
	if kid := f["kid"]; kid != s.outboxKID {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s) was sealed under outbox key id %q but this store has key id %q: configure the same outbox key on every instance: %w",
			id, d.EventID, kid, s.outboxKID, ErrOutboxDecrypt)
	}
	sealed := []byte(f["p"])
	ns := s.outbox.NonceSize()
	if len(sealed) < ns+s.outbox.Overhead() {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s): sealed payload too short: %w", id, d.EventID, ErrOutboxDecrypt)
	}
	d.Payload, err = s.outbox.Open(nil, sealed[:ns], sealed[ns:], outboxAAD(d.EventID, d.UserID, d.Kind))
	if err != nil {
		return Delivery{}, fmt.Errorf("outbox entry %s (event %s): wrong outbox key or tampered entry (%v): %w", id, d.EventID, err, ErrOutboxDecrypt)
	}
	return d, nil
}

// Ack marks the delivery with stream ID id as done and removes it from
// the outbox. Acking twice is not an error.
func (s *Store) Ack(ctx context.Context, id string) (err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return s.optErr
	}
	if !streamIDRE.MatchString(id) {
		return fmt.Errorf("ack: %w: malformed stream ID", ErrInvalid)
	}
	if err := ackScript.Run(ctx, s.rdb, []string{s.outboxKey("stream"), s.outboxKey("attempts")}, outboxGroup, id).Err(); err != nil {
		return fmt.Errorf("ack %s: %w", id, err)
	}
	return nil
}

// Retry records that delivering d failed: its attempt is counted and it is
// handed out again (to any consumer) minIdle after now, the minIdle of the
// next Claim. cause is not stored, since error texts may carry data: log
// it.
// Retry answers ErrNotFound when d.Consumer no longer holds the entry (it
// was acked, parked, or reclaimed by another consumer meanwhile).
func (s *Store) Retry(ctx context.Context, d Delivery, cause error) (err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return s.optErr
	}
	if !streamIDRE.MatchString(d.ID) || !codeRE.MatchString(d.Consumer) {
		return fmt.Errorf("retry: %w: delivery needs the stream ID and consumer Claim set", ErrInvalid)
	}
	n, rerr := retryScript.Run(ctx, s.rdb, []string{s.outboxKey("stream"), s.outboxKey("attempts")},
		outboxGroup, d.ID, d.Consumer).Int()
	if rerr != nil {
		return fmt.Errorf("retry %s: %w", d.ID, rerr)
	}
	if n == 0 {
		return fmt.Errorf("retry %s: not held by %s any more: %w", d.ID, d.Consumer, ErrNotFound)
	}
	return nil
}

// Park moves the entry of d (only d.ID is needed) out of the outbox into
// the parked stream, with reason (a short code or phrase, no data: up to
// 200 characters of A-Z a-z 0-9 space _ . : / ( ) = , -), for an admin to
// look at. The payload stays sealed.
func (s *Store) Park(ctx context.Context, d Delivery, reason string) (err error) {
	defer markUnavailable(&err)
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
		[]string{s.outboxKey("stream"), s.outboxKey("parked"), s.outboxKey("attempts")},
		outboxGroup, d.ID, reason, s.clock().UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("park %s: %w", d.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("park %s: %w", d.ID, ErrNotFound)
	}
	return nil
}

// OutboxDepth returns how many entries wait in the outbox (new or being
// delivered) and how many are parked.
func (s *Store) OutboxDepth(ctx context.Context) (pending, parked int64, err error) {
	defer markUnavailable(&err)
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
