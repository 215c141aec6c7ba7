package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// queueGroup is the consumer group of the queue stream.
const queueGroup = "workers"

// Errors of the queue.
var (
	// ErrQueueKey: the queue key is missing or not 32 bytes (see
	// WithQueueKey). Queue entries are never stored in clear.
	ErrQueueKey = errors.New("store: queue key missing or invalid")
	// ErrQueueDecrypt: a queue entry does not decrypt with the configured
	// key (another key, or a tampered entry).
	ErrQueueDecrypt = errors.New("store: queue entry cannot be decrypted")
)

// queueKeys is what WithQueueKey derives from the queue key and the
// previous ones.
type queueKeys struct {
	ring    keyRing  // seals the payloads: the current key first
	digests [][]byte // HMAC-SHA256 keys of dedupe keys and user digests, in ring order
	digest  []byte   // the current one: digests[0]
}

// WithQueueKey sets the 32-byte key of the queue of updates (Queue): the
// payloads are sealed with AES-256-GCM under it, and the dedupe keys and
// user IDs that name entries are keyed hashes (HMAC-SHA256) under a key
// derived from it, so that nothing in the queue names a user without the
// key. Every instance sharing the Redis needs the same key. Without it the
// queue's methods fail with ErrQueueKey. The store keeps no reference to
// the caller's slice.
//
// previous are keys the queue was sealed under before (a rotation): new
// entries are sealed and named under key; an entry is opened with the key
// whose key id it records (or, for an entry from before key ids, each key
// in turn), a dedupe key appended under a previous key is still dropped
// when appended again, and DeleteUser finds the user's entries under
// every key. Keep a previous key until the queue holds nothing sealed
// under it (the longest QueueItem.Keep).
func WithQueueKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		ring, err := newKeyRing(key, previous, "queue", "kycbot queue key id\x00", ErrQueueKey)
		if err != nil {
			s.queue, s.queueErr = nil, err
			return
		}
		qk := &queueKeys{ring: ring}
		seen := map[string]bool{}
		for _, k := range append([][]byte{key}, previous...) {
			if seen[string(k)] {
				continue
			}
			seen[string(k)] = true
			m := hmac.New(sha256.New, k)
			m.Write([]byte("kycbot queue digest"))
			qk.digests = append(qk.digests, m.Sum(nil))
		}
		qk.digest = qk.digests[0]
		s.queue, s.queueErr = qk, nil
	}
}

// Queue is the view of the queue of kycbot updates: a Redis stream with a
// consumer group, shared by every instance. Whoever receives an update
// appends it once (Append drops the repeats of a dedupe key); any
// instance's workers take entries (Read, Claim), keep them while they work
// (Touch), and remove them once their outcome is recorded (Ack). An entry
// whose worker stops answering is taken over by another one (Claim, after
// an idle time); a worker that stops on purpose hands its entries over at
// once (Release).
//
// Keys: P{queue}:stream (the stream, group "workers"; entries hold k, the
// dedupe digest, u, the user digest, at, the append time in unix ms, and
// d, the sealed payload), P{queue}:seen:<k> (the stream ID an appended
// dedupe key got, for its keep time) and P{queue}:tries (stream ID ->
// times the entry was handed out again). All share the {queue} hash tag.
type Queue struct{ s *Store }

// Queue returns the queue view.
func (s *Store) Queue() Queue { return Queue{s: s} }

// QueueItem is an update to append.
type QueueItem struct {
	// Key names the update for deduplication, such as the Telegram
	// message it came in (the same key appended again within Keep is
	// dropped). Any string: only its keyed hash reaches Redis.
	Key string
	// UserID is the Telegram user the update is about (positive).
	UserID int64
	// Payload is the update. It may hold personal data: it is sealed.
	Payload []byte
	// Keep is how long the key is remembered to drop repeats (at least a
	// millisecond).
	Keep time.Duration
}

// QueueEntry is an entry handed to a worker by Read or Claim.
type QueueEntry struct {
	// ID is the stream ID: stable for the life of the entry, it names it
	// in Touch, Release and Ack.
	ID string
	// Key names the update the entry holds: a digest of its QueueItem.Key
	// (hex), the same for every entry of that update. It is the
	// idempotency key for what handling the entry does: an update can be
	// appended again under another stream ID when a Redis failover lost
	// the first entry after a worker had read it (or after its key's keep
	// time), and its effects must not happen twice.
	Key string
	// Payload is the opened payload.
	Payload []byte
	// Appended is when the entry was appended (the appending store's
	// clock, to the millisecond).
	Appended time.Time
	// Again is true when the entry was handed out before (to this worker
	// before a restart, or to another one that stopped answering).
	Again bool
}

// queueHeldScript restarts the idle time of the entries the consumer still
// holds (mode "touch"), or makes them claimable at once by setting their
// idle time (mode "release"). It answers how many it held.
//
// KEYS[1] stream. ARGV[1] group, ARGV[2] consumer, ARGV[3] mode,
// ARGV[4] idle ms for release, ARGV[5...] stream IDs.
var queueHeldScript = redis.NewScript(`
local n = 0
for i = 5, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p > 0 and p[1][2] == ARGV[2] then
    if ARGV[3] == 'release' then
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[4], 'JUSTID')
    else
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    end
    n = n + 1
  end
end
return n
`)

// queueAckScript removes an entry and its count of tries.
//
// KEYS[1] stream, KEYS[2] tries hash. ARGV[1] group, ARGV[2] stream ID.
var queueAckScript = redis.NewScript(`
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

func (q Queue) key(name string) string { return q.s.prefix + "{queue}:" + name }

// ready checks the store's options and the queue key.
func (q Queue) ready() error {
	if q.s.optErr != nil {
		return q.s.optErr
	}
	if q.s.queue == nil {
		return q.s.queueErr
	}
	return nil
}

// digest is the keyed hash (hex, 16 bytes) that names a dedupe key or a
// user in the queue, under the current key.
func (q Queue) digest(kind, v string) string { return queueDigest(q.s.queue.digest, kind, v) }

// digests is what digest would have been under each key of the ring, the
// current first.
func (q Queue) digests(kind, v string) []string {
	out := make([]string, len(q.s.queue.digests))
	for i, k := range q.s.queue.digests {
		out[i] = queueDigest(k, kind, v)
	}
	return out
}

func queueDigest(key []byte, kind, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func queueAAD(k string) []byte { return []byte("kycbot queue v1\x00" + k) }

// Appended is the outcome of appending one item.
type Appended struct {
	// ID is the stream ID of the entry (the earlier one for a repeat).
	ID string
	// New is false when the key was appended before (within its keep
	// time): nothing was added.
	New bool
}

// Append appends items to the queue in one round trip, each unless its key
// was appended within its keep time, and returns what became of each. It
// is safe to call again with the same items after an error (ErrUnavailable
// when Redis could not be reached): what was appended is not appended
// twice. With WithReplicas it returns once the replicas have the items.
func (q Queue) Append(ctx context.Context, items ...QueueItem) (_ []Appended, err error) {
	defer markUnavailable(&err)
	if err := q.ready(); err != nil {
		return nil, fmt.Errorf("queue append: %w", err)
	}
	type run struct {
		keys []string
		args []any
	}
	runs := make([]run, len(items))
	now := q.s.clock().UnixMilli()
	for i, it := range items {
		if err := checkUser(it.UserID); err != nil {
			return nil, fmt.Errorf("queue append: %w", err)
		}
		if err := checkTTL(it.Keep); err != nil {
			return nil, fmt.Errorf("queue append: keep: %w", err)
		}
		ks := q.digests("key", it.Key)
		k := ks[0]
		cur := q.s.queue.ring.current()
		sealed, err := q.s.seal(cur.aead, it.Payload, queueAAD(k))
		if err != nil {
			return nil, fmt.Errorf("queue append: %w", err)
		}
		keys := []string{q.key("stream"), q.key("seen:" + k)}
		for _, old := range ks[1:] {
			// The same update appended under a previous key is a repeat too.
			keys = append(keys, q.key("seen:"+old))
		}
		runs[i] = run{
			keys: keys,
			args: []any{ms(it.Keep), "k", k, "u", q.digest("user", strconv.FormatInt(it.UserID, 10)), "at", now, "kid", cur.kid, "d", sealed},
		}
	}
	if len(runs) == 0 {
		return nil, nil
	}
	exec := func() ([]*redis.Cmd, error) {
		cmds := make([]*redis.Cmd, len(runs))
		err := q.s.durable(ctx, func(p redis.Pipeliner) {
			for i, r := range runs {
				cmds[i] = appendOnceScript.EvalSha(ctx, p, r.keys, r.args...)
			}
		})
		return cmds, err
	}
	cmds, err := exec()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// A fresh or restarted Redis: load the script, then run the
		// pipeline again (appending is idempotent by key).
		if err := appendOnceScript.Load(ctx, q.s.rdb).Err(); err != nil {
			return nil, fmt.Errorf("queue append: load script: %w", err)
		}
		cmds, err = exec()
	}
	if err != nil {
		return nil, fmt.Errorf("queue append: %w", err)
	}
	out := make([]Appended, len(cmds))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil || len(res) != 2 {
			return nil, fmt.Errorf("queue append: unexpected answer (%v)", err)
		}
		n, _ := res[0].(int64)
		id, _ := res[1].(string)
		out[i] = Appended{ID: id, New: n == 1}
	}
	return out, nil
}

// withGroup runs f, creating the consumer group first if Redis says it
// does not exist (a fresh or flushed Redis).
func (q Queue) withGroup(ctx context.Context, f func() error) error {
	err := f()
	if err == nil || !strings.Contains(err.Error(), "NOGROUP") {
		return err
	}
	if err := q.s.rdb.XGroupCreateMkStream(ctx, q.key("stream"), queueGroup, "0").Err(); err != nil &&
		!strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	return f()
}

func checkConsumer(consumer string) error {
	if !codeRE.MatchString(consumer) {
		return fmt.Errorf("%w: consumer must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
	}
	return nil
}

// Read hands consumer up to count entries. With pending set it returns the
// entries the consumer was handed before and has not acked (those of a
// process of the same name that stopped: call it once when a worker
// starts), marked Again; otherwise entries never handed out, waiting up to
// block for one to arrive (0: do not wait). Entries that do not open
// (another queue key, tampering) are not returned: Read returns the others
// with an error wrapping ErrQueueDecrypt that names them, and they stay
// pending, for an instance with the right key.
func (q Queue) Read(ctx context.Context, consumer string, count int, block time.Duration, pending bool) (_ []QueueEntry, err error) {
	defer markUnavailable(&err)
	if err := q.ready(); err != nil {
		return nil, fmt.Errorf("queue read: %w", err)
	}
	if err := checkConsumer(consumer); err != nil {
		return nil, fmt.Errorf("queue read: %w", err)
	}
	if count < 1 || count > 1000 {
		return nil, fmt.Errorf("queue read: %w: count %d must be between 1 and 1000", ErrInvalid, count)
	}
	args := &redis.XReadGroupArgs{Group: queueGroup, Consumer: consumer, Streams: []string{q.key("stream"), ">"}, Count: int64(count), Block: -1}
	if pending {
		args.Streams[1] = "0"
	} else if block > 0 {
		args.Block = block
	}
	var streams []redis.XStream
	err = q.withGroup(ctx, func() error {
		var err error
		streams, err = q.s.rdb.XReadGroup(ctx, args).Result()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue read for %s: %w", consumer, err)
	}
	var msgs []redis.XMessage
	for _, st := range streams {
		msgs = append(msgs, st.Messages...)
	}
	return q.open(ctx, "read for "+consumer, msgs, pending)
}

// Claim takes over up to count entries that their consumer has held
// without a Touch for longer than minIdle (a worker that stopped
// answering, or one that called Release), for consumer; they are marked
// Again. Entries deleted meanwhile are dropped from the pending list.
func (q Queue) Claim(ctx context.Context, consumer string, minIdle time.Duration, count int) (_ []QueueEntry, err error) {
	defer markUnavailable(&err)
	if err := q.ready(); err != nil {
		return nil, fmt.Errorf("queue claim: %w", err)
	}
	if err := checkConsumer(consumer); err != nil {
		return nil, fmt.Errorf("queue claim: %w", err)
	}
	if minIdle < time.Millisecond {
		return nil, fmt.Errorf("queue claim: %w: minIdle %v must be at least 1ms, or live entries would be stolen", ErrInvalid, minIdle)
	}
	if count < 1 || count > 1000 {
		return nil, fmt.Errorf("queue claim: %w: count %d must be between 1 and 1000", ErrInvalid, count)
	}
	var msgs []redis.XMessage
	err = q.withGroup(ctx, func() error {
		start := "0-0"
		for range 32 {
			got, next, err := q.s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: q.key("stream"), Group: queueGroup, Consumer: consumer, MinIdle: minIdle, Start: start, Count: int64(count - len(msgs)),
			}).Result()
			if err != nil {
				return err
			}
			msgs = append(msgs, got...)
			if len(msgs) >= count || next == "0-0" || next == "" {
				return nil
			}
			start = next
		}
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue claim for %s: %w", consumer, err)
	}
	return q.open(ctx, "claim for "+consumer, msgs, true)
}

// open decodes and decrypts stream entries; entries deleted while pending
// (no values) are acknowledged away.
func (q Queue) open(ctx context.Context, what string, msgs []redis.XMessage, again bool) ([]QueueEntry, error) {
	out := make([]QueueEntry, 0, len(msgs))
	var bad []string
	var firstErr error
	for _, m := range msgs {
		if len(m.Values) == 0 {
			_ = q.s.rdb.XAck(ctx, q.key("stream"), queueGroup, m.ID).Err()
			continue
		}
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		k := str("k")
		kid := str("kid")
		payload, err := q.s.queue.ring.open(kid, []byte(str("d")), queueAAD(k))
		if err != nil {
			bad = append(bad, m.ID)
			if firstErr == nil {
				if errors.Is(err, errUnknownKID) {
					firstErr = fmt.Errorf("sealed under queue key id %q but this store has key ids %s: %w", kid, q.s.queue.ring.kids(), ErrQueueDecrypt)
				} else {
					firstErr = fmt.Errorf("wrong queue key or tampered entry (%v): %w", err, ErrQueueDecrypt)
				}
			}
			continue
		}
		e := QueueEntry{ID: m.ID, Key: k, Payload: payload, Again: again}
		if at, err := strconv.ParseInt(str("at"), 10, 64); err == nil {
			e.Appended = time.UnixMilli(at).UTC()
		}
		out = append(out, e)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("queue %s: %d entries left pending (%s): configure the same queue key on every instance: %w",
			what, len(bad), strings.Join(bad, ", "), firstErr)
	}
	return out, nil
}

func checkStreamIDs(ids []string) error {
	for _, id := range ids {
		if !streamIDRE.MatchString(id) {
			return fmt.Errorf("%w: malformed stream ID", ErrInvalid)
		}
	}
	return nil
}

// Touch restarts the idle time of the entries consumer still holds, so
// that Claim does not hand them to another worker while consumer works on
// them; it returns how many of ids consumer still held (an entry another
// worker claimed meanwhile is not taken back).
func (q Queue) Touch(ctx context.Context, consumer string, ids ...string) (held int, err error) {
	return q.held(ctx, "touch", consumer, 0, ids)
}

// releaseIdle is the idle time Release gives an entry: past any Claim's
// minIdle.
const releaseIdle = 365 * 24 * time.Hour

// Release hands the entries consumer holds over to the next Claim of any
// worker at once, whatever its minIdle: for a worker that stops before it
// finished them. It returns how many of ids consumer still held.
func (q Queue) Release(ctx context.Context, consumer string, ids ...string) (held int, err error) {
	return q.held(ctx, "release", consumer, releaseIdle, ids)
}

func (q Queue) held(ctx context.Context, mode, consumer string, idle time.Duration, ids []string) (_ int, err error) {
	defer markUnavailable(&err)
	if q.s.optErr != nil {
		return 0, q.s.optErr
	}
	if err := checkConsumer(consumer); err != nil {
		return 0, fmt.Errorf("queue %s: %w", mode, err)
	}
	if err := checkStreamIDs(ids); err != nil {
		return 0, fmt.Errorf("queue %s: %w", mode, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{queueGroup, consumer, mode, ms(idle)}
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := queueHeldScript.Run(ctx, q.s.rdb, []string{q.key("stream")}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("queue %s for %s: %w", mode, consumer, err)
	}
	return n, nil
}

// Tried counts one more time the entry id was handed out again (Again)
// and returns the count: a worker gives up on an entry that keeps coming
// back (one that makes every worker fail or crash).
func (q Queue) Tried(ctx context.Context, id string) (_ int, err error) {
	defer markUnavailable(&err)
	if q.s.optErr != nil {
		return 0, q.s.optErr
	}
	if err := checkStreamIDs([]string{id}); err != nil {
		return 0, fmt.Errorf("queue tried: %w", err)
	}
	n, err := q.s.rdb.HIncrBy(ctx, q.key("tries"), id, 1).Result()
	if err != nil {
		return 0, fmt.Errorf("queue tried %s: %w", id, err)
	}
	return int(n), nil
}

// Ack removes the entry id from the queue: its processing is over.
// Acking twice is not an error.
func (q Queue) Ack(ctx context.Context, id string) (err error) {
	defer markUnavailable(&err)
	if q.s.optErr != nil {
		return q.s.optErr
	}
	if err := checkStreamIDs([]string{id}); err != nil {
		return fmt.Errorf("queue ack: %w", err)
	}
	if err := queueAckScript.Run(ctx, q.s.rdb, []string{q.key("stream"), q.key("tries")}, queueGroup, id).Err(); err != nil {
		return fmt.Errorf("queue ack %s: %w", id, err)
	}
	return nil
}

// Depth returns how many entries are in the queue (waiting or being
// processed) and how many of them are being processed (handed out, not
// acked).
func (q Queue) Depth(ctx context.Context) (entries, processing int64, err error) {
	defer markUnavailable(&err)
	if q.s.optErr != nil {
		return 0, 0, q.s.optErr
	}
	n, err := q.s.rdb.XLen(ctx, q.key("stream")).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("queue depth: %w", err)
	}
	if n == 0 {
		return 0, 0, nil
	}
	p, err := q.s.rdb.XPending(ctx, q.key("stream"), queueGroup).Result()
	if err != nil && !strings.Contains(err.Error(), "NOGROUP") {
		return 0, 0, fmt.Errorf("queue depth: %w", err)
	}
	if p != nil {
		processing = p.Count
	}
	return n, processing, nil
}

// deleteUserEntries removes the user's entries from the queue (for
// DeleteUser) and returns how many went.
func (q Queue) deleteUserEntries(ctx context.Context, userID int64) (int, error) {
	if q.s.queue == nil {
		return 0, nil // no queue key: nothing can have been queued
	}
	us := q.digests("user", strconv.FormatInt(userID, 10))
	msgs, err := q.s.rdb.XRange(ctx, q.key("stream"), "-", "+").Result()
	if err != nil {
		return 0, fmt.Errorf("queue: %w", err)
	}
	n := 0
	for _, m := range msgs {
		if v, _ := m.Values["u"].(string); !slices.Contains(us, v) {
			continue
		}
		if err := queueAckScript.Run(ctx, q.s.rdb, []string{q.key("stream"), q.key("tries")}, queueGroup, m.ID).Err(); err != nil {
			return n, fmt.Errorf("queue: %w", err)
		}
		n++
	}
	return n, nil
}
