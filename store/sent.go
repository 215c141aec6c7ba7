package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentMessages remembers, by idempotency key (handlers.Message.Key), the
// messages a transport without Telegram's random_id (the Bot API) has
// sent, so that a message sent again (an update handled a second time
// after a crash, by any instance) is not sent twice. A record holds the
// message's ID in its chat, sealed under the queue key (WithQueueKey),
// under a keyed hash of the idempotency key; while one sender sends, it
// holds a short lock on the key, so that a concurrent sender of the same
// key waits for its record instead of sending too.
//
// Keys: P{sent}:<d>, where <d> is the keyed digest of the idempotency
// key: "L" and the lock holder's token while a sender holds the lock, then
// "R" and the sealed record. Get it from Store.Sent.
type SentMessages struct{ s *Store }

// Sent returns the view of the sent messages.
func (s *Store) Sent() SentMessages { return SentMessages{s} }

// SentClaim is what Claim found for a key.
type SentClaim struct {
	// Found: the message was sent before; MsgID is its ID.
	Found bool
	MsgID int
	// Held: the caller holds the key's lock and sends the message, then
	// calls Record (or Release when the send failed). Token names the
	// holder.
	Held  bool
	Token string
	// Neither Found nor Held: another sender holds the lock; ask again
	// after a pause.
}

// sentClaimScript looks for a record of the key under each digest (the
// current key's first), and takes the lock when there is neither a record
// nor a lock. It answers {"R", sealed}, {"L", ""} (locked by another) or
// {"H", ""} (held now).
//
// KEYS[1] the key under the current digest, KEYS[2...] under previous
// ones. ARGV[1] lock value, ARGV[2] lock time in ms.
var sentClaimScript = redis.NewScript(`
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, 1) == 'R' then
    return {'R', string.sub(v, 2)}
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'H', ''}
end
return {'L', ''}
`)

// sentReleaseScript deletes the key while the caller's lock holds it.
//
// KEYS[1] the key. ARGV[1] lock value.
var sentReleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (v SentMessages) ready(key string) error {
	if v.s.optErr != nil {
		return v.s.optErr
	}
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w: a message's idempotency key must be 1 to 1024 bytes", ErrInvalid)
	}
	if v.s.queue == nil {
		return v.s.queueErr
	}
	return nil
}

// redisKeys returns the Redis keys of an idempotency key under the
// current digest and the previous ones, and its digest under the current
// key (the associated data of the record).
func (v SentMessages) redisKeys(key string) ([]string, string) {
	q := Queue{s: v.s}
	ds := q.digests("sent", key)
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = v.s.prefix + "{sent}:" + d
	}
	return keys, ds[0]
}

func sentAAD(d string) []byte { return []byte("kycbot sent message v1\x00" + d) }

// Claim returns the record of key when the message was sent before
// (under the current queue key or a previous one), or else takes the
// key's lock for lock (the longest the send may take) when nobody holds
// it. One round trip.
func (v SentMessages) Claim(ctx context.Context, key string, lock time.Duration) (_ SentClaim, err error) {
	defer markUnavailable(&err)
	if err := v.ready(key); err != nil {
		return SentClaim{}, fmt.Errorf("claim a sent message: %w", err)
	}
	if err := checkTTL(lock); err != nil {
		return SentClaim{}, fmt.Errorf("claim a sent message: lock: %w", err)
	}
	tok, err := v.s.randomBytes(12)
	if err != nil {
		return SentClaim{}, fmt.Errorf("claim a sent message: %w", err)
	}
	token := fmt.Sprintf("%x", tok)
	keys, _ := v.redisKeys(key)
	res, err := sentClaimScript.Run(ctx, v.s.rdb, keys, "L"+token, ms(lock)).StringSlice()
	if err != nil {
		return SentClaim{}, fmt.Errorf("claim a sent message: %w", err)
	}
	if len(res) != 2 {
		return SentClaim{}, fmt.Errorf("claim a sent message: unexpected answer of %d values", len(res))
	}
	switch res[0] {
	case "H":
		return SentClaim{Held: true, Token: token}, nil
	case "L":
		return SentClaim{}, nil
	}
	id, err := v.open(key, []byte(res[1]))
	if err != nil {
		return SentClaim{}, fmt.Errorf("claim a sent message: %w", err)
	}
	return SentClaim{Found: true, MsgID: id}, nil
}

// open opens a record of key, sealed under any key of the ring.
func (v SentMessages) open(key string, sealed []byte) (int, error) {
	for _, d := range (Queue{s: v.s}).digests("sent", key) {
		plain, err := v.s.queue.ring.open("", sealed, sentAAD(d))
		if err != nil {
			continue
		}
		id, err := strconv.Atoi(string(plain))
		if err != nil || id <= 0 {
			return 0, errors.New("malformed record")
		}
		return id, nil
	}
	return 0, errors.New("the record does not open (another queue key, or tampered)")
}

// Record records that the message of key was sent as msgID, for keep
// (a week is plenty: an update is retried within minutes), replacing the
// lock Claim gave. One round trip; with WithReplicas it returns once the
// replicas have the record (a failover then keeps it).
func (v SentMessages) Record(ctx context.Context, key string, msgID int, keep time.Duration) (err error) {
	defer markUnavailable(&err)
	if err := v.ready(key); err != nil {
		return fmt.Errorf("record a sent message: %w", err)
	}
	if msgID <= 0 {
		return fmt.Errorf("record a sent message: %w: message ID %d", ErrInvalid, msgID)
	}
	if err := checkTTL(keep); err != nil {
		return fmt.Errorf("record a sent message: keep: %w", err)
	}
	keys, d := v.redisKeys(key)
	sealed, err := v.s.seal(v.s.queue.ring.current().aead, []byte(strconv.Itoa(msgID)), sentAAD(d))
	if err != nil {
		return fmt.Errorf("record a sent message: %w", err)
	}
	if err := v.s.durable(ctx, func(p redis.Pipeliner) { p.Set(ctx, keys[0], append([]byte("R"), sealed...), keep) }); err != nil {
		return fmt.Errorf("record a sent message: %w", err)
	}
	return nil
}

// Release gives up the lock Claim gave (token), after a send that failed:
// the next sender of the key sends. A lock another sender holds now is
// left alone.
func (v SentMessages) Release(ctx context.Context, key, token string) (err error) {
	defer markUnavailable(&err)
	if err := v.ready(key); err != nil {
		return fmt.Errorf("release a sent message's lock: %w", err)
	}
	keys, _ := v.redisKeys(key)
	if err := sentReleaseScript.Run(ctx, v.s.rdb, keys[:1], "L"+token).Err(); err != nil {
		return fmt.Errorf("release a sent message's lock: %w", err)
	}
	return nil
}
