package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrReviewDecided: Reviews.Put of a review that was decided already
// (Reviews.Delete leaves a mark until the TTL): the submission was handled
// again after its decision.
var ErrReviewDecided = errors.New("store: review decided already")

// putReviewScript keeps a sealed review unless the review is there
// already (a submission processed again: 0) or was decided (an empty
// mark: 2); 1 when kept. The hash's TTL is renewed.
//
// KEYS[1] the user's reviews hash. ARGV[1] review ID, ARGV[2] sealed
// record, ARGV[3] TTL ms.
var putReviewScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
local r = 1
if v == '' then r = 2 elseif v then r = 0 else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return r
`)

// markDecidedScript replaces a review with the empty mark of a decided
// one, in a hash that exists (a gone hash stays gone: no key without a
// TTL).
//
// KEYS[1] the user's reviews hash. ARGV[1] review ID.
var markDecidedScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], '') end
return 1
`)

// ErrReviewKey: the review key is missing or not 32 bytes (see
// WithReviewKey). Submissions kept for review are never stored in clear.
var ErrReviewKey = errors.New("store: review key missing or invalid")

// WithReviewKey sets the 32-byte AES-256-GCM key that seals the
// submissions kept for manual review (Store.Reviews). Every instance
// sharing the Redis needs the same key. Records are sealed under key and
// opened with key or any of previous (the keys before a rotation of the
// Passport key). Without it Reviews.Put and Get fail with ErrReviewKey.
func WithReviewKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.review, s.reviewErr = newKeyRing(key, previous, "review", "kycbot review key id\x00", ErrReviewKey)
	}
}

// Reviews keeps the submissions waiting for an admin's decision (manual
// review): each an opaque value (the bot's: the submission as Telegram
// sent it and the request it answered), sealed with AES-256-GCM under the
// WithReviewKey key, in the user's slot (P{u:<uid>}:reviews, a hash of
// review ID to sealed record), until the decision deletes it, or its TTL,
// or DeleteUser. It also keeps the one-time marks of the review links
// (P rlink:<hash>), so that a link works once, and the reviews waiting for
// a decision (P {reviews}:waiting, a sorted set of "<user>:<id>" by the
// time since when each waits or was last reminded of: Waiting, Remind),
// so that the admins are reminded of those left undecided.
type Reviews struct{ s *Store }

// Reviews returns the view of the submissions kept for review.
func (s *Store) Reviews() Reviews { return Reviews{s} }

// reviewIDRE is the alphabet of review IDs.
var reviewIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func (r Reviews) check(userID int64, id string) error {
	if r.s.optErr != nil {
		return r.s.optErr
	}
	if err := checkUser(userID); err != nil {
		return err
	}
	if !reviewIDRE.MatchString(id) {
		return fmt.Errorf("%w: a review ID is 8 to 64 characters of A-Z a-z 0-9 _ -", ErrInvalid)
	}
	if r.s.review == nil {
		return r.s.reviewErr
	}
	return nil
}

func reviewAAD(userID int64, id string) []byte {
	return []byte("kycbot review\x00" + strconv.FormatInt(userID, 10) + "\x00" + id)
}

// Put keeps value, sealed, as the review id of userID for ttl (the
// user's reviews live as long as the longest; each also records its own
// expiry, by the store's clock). A review kept already stays as it is;
// one decided already (Delete) fails with ErrReviewDecided. It is
// added to the waiting reviews (Waiting). Two round trips.
func (r Reviews) Put(ctx context.Context, userID int64, id string, value []byte, ttl time.Duration) (err error) {
	defer markUnavailable(&err)
	if err := r.check(userID, id); err != nil {
		return fmt.Errorf("put review: %w", err)
	}
	if ttl <= 0 {
		return fmt.Errorf("put review: %w: the TTL must be positive, got %v", ErrInvalid, ttl)
	}
	exp := r.s.clock().Add(ttl)
	plain := append([]byte(strconv.FormatInt(exp.UnixMilli(), 10)+"\x00"), value...)
	sealed, err := r.s.seal(r.s.review.current().aead, plain, reviewAAD(userID, id))
	if err != nil {
		return fmt.Errorf("put review: %w", err)
	}
	res, err := putReviewScript.Run(ctx, r.s.rdb, []string{r.s.userKey(userID, "reviews")}, id, sealed, ms(ttl)).Int()
	if err != nil {
		return fmt.Errorf("put review %s of user %d: %w", id, userID, err)
	}
	if res == 2 {
		return fmt.Errorf("put review %s of user %d: %w", id, userID, ErrReviewDecided)
	}
	// Waiting since now (a review kept already keeps its time).
	if err := r.s.rdb.ZAddNX(ctx, r.pendingKey(), redis.Z{Score: float64(r.s.clock().UnixMilli()), Member: pendingMember(userID, id)}).Err(); err != nil {
		return fmt.Errorf("put review %s of user %d: the list of waiting reviews: %w", id, userID, err)
	}
	return nil
}

// Get returns the value kept as the review id of userID. It fails with
// ErrNotFound when there is none (decided, expired, erased) or it does
// not open. One round trip.
func (r Reviews) Get(ctx context.Context, userID int64, id string) (_ []byte, err error) {
	defer markUnavailable(&err)
	if err := r.check(userID, id); err != nil {
		return nil, fmt.Errorf("get review: %w", err)
	}
	sealed, err := r.s.rdb.HGet(ctx, r.s.userKey(userID, "reviews"), id).Bytes()
	if errors.Is(err, redis.Nil) || (err == nil && len(sealed) == 0) {
		return nil, fmt.Errorf("get review %s of user %d: %w", id, userID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get review %s of user %d: %w", id, userID, err)
	}
	plain, err := r.s.review.open("", sealed, reviewAAD(userID, id))
	if err != nil {
		return nil, fmt.Errorf("get review %s of user %d: the record does not open (%v): %w", id, userID, err, ErrNotFound)
	}
	ms, value, ok := bytes.Cut(plain, []byte{0})
	exp, perr := strconv.ParseInt(string(ms), 10, 64)
	if !ok || perr != nil {
		return nil, fmt.Errorf("get review %s of user %d: malformed record: %w", id, userID, ErrNotFound)
	}
	if !r.s.clock().Before(time.UnixMilli(exp)) {
		return nil, fmt.Errorf("get review %s of user %d: expired: %w", id, userID, ErrNotFound)
	}
	return value, nil
}

// Delete erases the review id of userID after the decision, leaving an
// empty mark (until the hash's TTL) that keeps Put from keeping it again.
// Deleting one that is gone is fine. One round trip.
func (r Reviews) Delete(ctx context.Context, userID int64, id string) (err error) {
	defer markUnavailable(&err)
	if err := r.check(userID, id); err != nil {
		return fmt.Errorf("delete review: %w", err)
	}
	if err := markDecidedScript.Run(ctx, r.s.rdb, []string{r.s.userKey(userID, "reviews")}, id).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("delete review %s of user %d: %w", id, userID, err)
	}
	return r.Forget(ctx, Waiting{UserID: userID, ID: id})
}

// Waiting is a review kept and not decided: the user, the review, and
// since when it waits (its last reminder, once reminded).
type Waiting struct {
	UserID int64
	ID     string
	Since  time.Time
}

// pendingKey is the sorted set of the reviews waiting for a decision:
// member "<user>:<id>", score the Unix time in ms since when it waits (or
// was last reminded of).
func (r Reviews) pendingKey() string { return r.s.key("{reviews}:waiting") }

func pendingMember(userID int64, id string) string { return strconv.FormatInt(userID, 10) + ":" + id }

// remindScript moves a waiting review's time to now if it is still at or
// before due: 1 when moved (this caller reminds), 0 when another did or it
// is gone.
//
// KEYS[1] the waiting set. ARGV[1] member, ARGV[2] due ms, ARGV[3] now ms.
var remindScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`)

// Waiting returns up to n reviews that have waited since before (or were
// last reminded of before) before, the oldest first. One round trip.
func (r Reviews) Waiting(ctx context.Context, before time.Time, n int) (_ []Waiting, err error) {
	defer markUnavailable(&err)
	if r.s.optErr != nil {
		return nil, r.s.optErr
	}
	zs, err := r.s.rdb.ZRangeByScoreWithScores(ctx, r.pendingKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: int64(n)}).Result()
	if err != nil {
		return nil, fmt.Errorf("waiting reviews: %w", err)
	}
	out := make([]Waiting, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		u, id, _ := strings.Cut(m, ":")
		uid, perr := strconv.ParseInt(u, 10, 64)
		if perr != nil || !reviewIDRE.MatchString(id) {
			continue
		}
		out = append(out, Waiting{UserID: uid, ID: id, Since: time.UnixMilli(int64(z.Score))})
	}
	return out, nil
}

// Remind claims the reminder of a waiting review that waited since before
// due: true for the one caller, of all instances, that moves its time to
// now (and so reminds the admins); false when another did, or the review
// is gone. One round trip.
func (r Reviews) Remind(ctx context.Context, w Waiting, due time.Time) (first bool, err error) {
	defer markUnavailable(&err)
	if r.s.optErr != nil {
		return false, r.s.optErr
	}
	n, err := remindScript.Run(ctx, r.s.rdb, []string{r.pendingKey()}, pendingMember(w.UserID, w.ID),
		due.UnixMilli(), r.s.clock().UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("remind of review %s of user %d: %w", w.ID, w.UserID, err)
	}
	return n == 1, nil
}

// Forget takes a review off the waiting ones (decided, or gone). One
// round trip.
func (r Reviews) Forget(ctx context.Context, w Waiting) (err error) {
	defer markUnavailable(&err)
	if r.s.optErr != nil {
		return r.s.optErr
	}
	if err := r.s.rdb.ZRem(ctx, r.pendingKey(), pendingMember(w.UserID, w.ID)).Err(); err != nil {
		return fmt.Errorf("forget review %s of user %d: %w", w.ID, w.UserID, err)
	}
	return nil
}

// UseLink marks the link named by token as used, until until (after
// which the link has expired anyway): it reports true the first time,
// false for a link used before. Only the SHA-256 of the token is kept.
// One round trip.
func (r Reviews) UseLink(ctx context.Context, token string, until time.Time) (first bool, err error) {
	defer markUnavailable(&err)
	if r.s.optErr != nil {
		return false, r.s.optErr
	}
	if len(token) < 16 || len(token) > 1024 {
		return false, fmt.Errorf("use review link: %w: a token is 16 to 1024 characters", ErrInvalid)
	}
	ttl := until.Sub(r.s.clock())
	if ttl <= 0 {
		return false, nil
	}
	sum := sha256.Sum256([]byte(token))
	ok, err := r.s.rdb.SetNX(ctx, r.s.key("rlink:"+hex.EncodeToString(sum[:])), "1", ttl+time.Second).Result()
	if err != nil {
		return false, fmt.Errorf("use review link: %w", err)
	}
	return ok, nil
}
