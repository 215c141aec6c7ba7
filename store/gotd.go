package store

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/gotd/td/telegram/updates"
	"github.com/redis/go-redis/v9"
)

// Sessions is the view of what gotd keeps for a bot: the sealed session
// of each instance (P gotd:sessions:<botID>, and the legacy P
// gotd:session:<botID> that DropLegacy deletes), the updates state of the
// bot user (P gotd:{s:<selfID>}:state and :channels) and the access
// hashes of channels and users (P gotd:{s:<selfID>}:chash and :uhash, P
// gotd:selves, and the markers of erased users P
// gotd:{s:<selfID>}:forget:<d>). Get it from Store.Sessions.
type Sessions struct{ s *Store }

// Sessions returns the view of gotd's sessions, updates state and access
// hashes.
func (s *Store) Sessions() Sessions { return Sessions{s} }

// StateStorage returns the gotd updates state storage (pts, qts, date, seq
// and channel pts per bot user), for updates.Config.Storage. It behaves
// as gotd's in-memory storage: SetPts, SetQts, SetDate, SetSeq, SetDateSeq
// and SetChannelPts fail with ErrStateNotFound before SetState, and
// SetState forgets the channels.
//
// Once it has seen a user's state in Redis (GetState found it, SetState
// wrote it), it writes that user's pts, qts, date and seq behind:
// the values set within StateFlushDelay go in one round trip, where each
// update the bot receives or sends moved one of them in a round trip of
// its own. A write that fails (Redis unavailable) is tried again after a
// second, then after pauses doubling up to 30 s, until it succeeds or the
// Redis client is closed. GetState and SetState write what is pending
// first; call Flush when the updates manager stops. A write lost with the
// process (a crash, SIGKILL) leaves Redis some updates behind: Telegram
// sends those again at the next start, and the queue drops the ones
// already queued (store.Queue's dedupe keys).
func (sv Sessions) StateStorage() *StateStorage { return &StateStorage{s: sv.s} }

// StateFlushDelay is how long StateStorage holds a state change before it
// writes it with the others made meanwhile.
const StateFlushDelay = 100 * time.Millisecond

// AccessHasher returns the gotd channel access hash storage, for
// updates.Config.AccessHasher.
func (sv Sessions) AccessHasher() updates.ChannelAccessHasher { return &accessHasher{s: sv.s} }

// UserAccessHasher returns the gotd user access hash storage, for
// updates.Config.UserAccessHasher. DeleteUser removes a user's hash. The
// Store keeps the hashes it read or wrote for a minute in memory: reading
// one again costs no round trip, and writing the one it holds is not sent
// (see hashcache.go for what that means for an erasure on another
// instance).
func (sv Sessions) UserAccessHasher() updates.UserAccessHasher { return &userAccessHasher{s: sv.s} }

// StateStorage is gotd's updates state on Redis (see Sessions.StateStorage).
type StateStorage struct {
	s *Store

	mu      sync.Mutex
	delay   time.Duration            // SetFlushDelay; 0 for StateFlushDelay
	known   map[int64]bool           // users whose state is in Redis (read or written here)
	pending map[int64]map[string]int // fields to write, by user
	timer   *time.Timer              // the write of pending, when scheduled
	retry   time.Duration            // the pause after the timer's last failed write; 0 after a success
}

var _ updates.StateStorage = (*StateStorage)(nil)

// setStateFieldsScript updates fields of an existing state hash.
// KEYS[1] state hash. ARGV field/value pairs. Answers 0 without a state.
var setStateFieldsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// setChannelPtsScript sets a channel's pts if the user's state exists.
// KEYS[1] state hash, KEYS[2] channels hash. ARGV[1] channel, ARGV[2] pts.
var setChannelPtsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`)

// GetState implements updates.StateStorage.
func (st *StateStorage) GetState(ctx context.Context, userID int64) (_ updates.State, _ bool, err error) {
	defer markUnavailable(&err)
	if st.s.optErr != nil {
		return updates.State{}, false, st.s.optErr
	}
	if err := st.flushUser(ctx, userID); err != nil {
		return updates.State{}, false, fmt.Errorf("get updates state of %d: %w", userID, err)
	}
	f, err := st.s.rdb.HGetAll(ctx, st.s.selfKey(userID, "state")).Result()
	if err != nil {
		return updates.State{}, false, fmt.Errorf("get updates state of %d: %w", userID, err)
	}
	if len(f) == 0 {
		st.setKnown(userID, false)
		return updates.State{}, false, nil
	}
	var state updates.State
	for name, dst := range map[string]*int{"pts": &state.Pts, "qts": &state.Qts, "date": &state.Date, "seq": &state.Seq} {
		v, err := strconv.Atoi(f[name])
		if err != nil {
			return updates.State{}, false, fmt.Errorf("get updates state of %d: corrupt field %s: %w", userID, name, err)
		}
		*dst = v
	}
	st.setKnown(userID, true)
	return state, true, nil
}

// SetState implements updates.StateStorage: what was pending for the user
// is dropped, the new state replaces it.
func (st *StateStorage) SetState(ctx context.Context, userID int64, state updates.State) (err error) {
	defer markUnavailable(&err)
	if st.s.optErr != nil {
		return st.s.optErr
	}
	st.mu.Lock()
	delete(st.pending, userID)
	st.mu.Unlock()
	key := st.s.selfKey(userID, "state")
	if _, err := st.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "pts", state.Pts, "qts", state.Qts, "date", state.Date, "seq", state.Seq)
		p.Del(ctx, st.s.selfKey(userID, "channels"))
		return nil
	}); err != nil {
		return fmt.Errorf("set updates state of %d: %w", userID, err)
	}
	st.setKnown(userID, true)
	return nil
}

func (st *StateStorage) setKnown(userID int64, known bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.known == nil {
		st.known = map[int64]bool{}
	}
	st.known[userID] = known
}

// setFields sets fields of the user's state: behind, when the state is
// known to be in Redis; else at once, failing with ErrStateNotFound
// without a state, as gotd's memory storage does.
func (st *StateStorage) setFields(ctx context.Context, what string, userID int64, fields map[string]int) (err error) {
	defer markUnavailable(&err)
	if st.s.optErr != nil {
		return st.s.optErr
	}
	st.mu.Lock()
	if st.known[userID] {
		st.holdLocked(userID, fields)
		if st.timer == nil {
			st.timer = time.AfterFunc(cmp.Or(st.delay, StateFlushDelay), st.flushLater)
		}
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	if err := st.write(ctx, userID, fields); err != nil {
		return fmt.Errorf("set %s of %d: %w", what, userID, err)
	}
	st.setKnown(userID, true)
	return nil
}

// write sets fields of the user's state in Redis, if the state is there.
func (st *StateStorage) write(ctx context.Context, userID int64, fields map[string]int) error {
	args := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		args = append(args, k, v)
	}
	n, err := setStateFieldsScript.Run(ctx, st.s.rdb, []string{st.s.selfKey(userID, "state")}, args...).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		st.setKnown(userID, false)
		return ErrStateNotFound
	}
	return nil
}

// SetFlushDelay sets how long a state change is held back (default
// StateFlushDelay; 0 restores it) for the changes made from now on.
func (st *StateStorage) SetFlushDelay(d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.delay = max(d, 0)
}

// The pause before the timer's write is tried again after it failed:
// stateRetryMin, doubling after each failure up to stateRetryMax.
const (
	stateRetryMin = time.Second
	stateRetryMax = 30 * time.Second
)

// flushLater writes what is pending, from the timer. What fails is tried
// again after a pause (stateRetryMin, doubling up to stateRetryMax; GetState,
// SetState or Flush may write it first), unless the Redis client was
// closed.
func (st *StateStorage) flushLater() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := st.Flush(ctx)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err == nil || errors.Is(err, redis.ErrClosed) {
		st.retry = 0
		return
	}
	if len(st.pending) == 0 || st.timer != nil {
		return // written meanwhile, or a write already scheduled
	}
	st.retry = min(max(2*st.retry, stateRetryMin), stateRetryMax)
	st.timer = time.AfterFunc(st.retry, st.flushLater)
}

// Flush writes the state changes held back (see Sessions.StateStorage)
// now. Call it when the updates manager stops.
func (st *StateStorage) Flush(ctx context.Context) (err error) {
	defer markUnavailable(&err)
	st.mu.Lock()
	users := make([]int64, 0, len(st.pending))
	for u := range st.pending {
		users = append(users, u)
	}
	st.mu.Unlock()
	var errs []error
	for _, u := range users {
		errs = append(errs, st.flushUser(ctx, u))
	}
	return errors.Join(errs...)
}

// flushUser writes the user's pending fields; on failure they stay
// pending, under any newer value set meanwhile.
func (st *StateStorage) flushUser(ctx context.Context, userID int64) error {
	st.mu.Lock()
	fields := st.pending[userID]
	delete(st.pending, userID)
	if len(st.pending) == 0 && st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	st.mu.Unlock()
	if len(fields) == 0 {
		return nil
	}
	err := st.write(ctx, userID, fields)
	if err == nil || errors.Is(err, ErrStateNotFound) {
		return nil // a state deleted meanwhile: gotd sets a new one
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	newer := st.pending[userID]
	delete(st.pending, userID)
	st.holdLocked(userID, fields)
	st.holdLocked(userID, newer)
	return fmt.Errorf("write the updates state of %d: %w", userID, err)
}

// holdLocked adds fields to what is pending for the user, over the values
// held before. st.mu is held.
func (st *StateStorage) holdLocked(userID int64, fields map[string]int) {
	if len(fields) == 0 {
		return
	}
	if st.pending == nil {
		st.pending = map[int64]map[string]int{}
	}
	p := st.pending[userID]
	if p == nil {
		p = make(map[string]int, len(fields))
		st.pending[userID] = p
	}
	maps.Copy(p, fields)
}

// SetPts implements updates.StateStorage (written behind, see
// Sessions.StateStorage).
func (st *StateStorage) SetPts(ctx context.Context, userID int64, pts int) error {
	return st.setFields(ctx, "pts", userID, map[string]int{"pts": pts})
}

// SetQts implements updates.StateStorage (written behind).
func (st *StateStorage) SetQts(ctx context.Context, userID int64, qts int) error {
	return st.setFields(ctx, "qts", userID, map[string]int{"qts": qts})
}

// SetDate implements updates.StateStorage (written behind).
func (st *StateStorage) SetDate(ctx context.Context, userID int64, date int) error {
	return st.setFields(ctx, "date", userID, map[string]int{"date": date})
}

// SetSeq implements updates.StateStorage (written behind).
func (st *StateStorage) SetSeq(ctx context.Context, userID int64, seq int) error {
	return st.setFields(ctx, "seq", userID, map[string]int{"seq": seq})
}

// SetDateSeq implements updates.StateStorage (written behind).
func (st *StateStorage) SetDateSeq(ctx context.Context, userID int64, date, seq int) error {
	return st.setFields(ctx, "date and seq", userID, map[string]int{"date": date, "seq": seq})
}

// GetChannelPts implements updates.StateStorage.
func (st *StateStorage) GetChannelPts(ctx context.Context, userID, channelID int64) (_ int, _ bool, err error) {
	defer markUnavailable(&err)
	if st.s.optErr != nil {
		return 0, false, st.s.optErr
	}
	v, err := st.s.rdb.HGet(ctx, st.s.selfKey(userID, "channels"), strconv.FormatInt(channelID, 10)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get pts of channel %d of %d: %w", channelID, userID, err)
	}
	pts, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, fmt.Errorf("get pts of channel %d of %d: corrupt: %w", channelID, userID, err)
	}
	return pts, true, nil
}

// SetChannelPts implements updates.StateStorage (written at once).
func (st *StateStorage) SetChannelPts(ctx context.Context, userID, channelID int64, pts int) (err error) {
	defer markUnavailable(&err)
	if st.s.optErr != nil {
		return st.s.optErr
	}
	n, err := setChannelPtsScript.Run(ctx, st.s.rdb,
		[]string{st.s.selfKey(userID, "state"), st.s.selfKey(userID, "channels")},
		strconv.FormatInt(channelID, 10), pts).Int()
	if err != nil {
		return fmt.Errorf("set pts of channel %d of %d: %w", channelID, userID, err)
	}
	if n == 0 {
		return fmt.Errorf("set pts of channel %d of %d: %w", channelID, userID, ErrStateNotFound)
	}
	return nil
}

// ForEachChannels implements updates.StateStorage.
func (st *StateStorage) ForEachChannels(ctx context.Context, userID int64, f func(ctx context.Context, channelID int64, pts int) error) error {
	if st.s.optErr != nil {
		return st.s.optErr
	}
	var (
		exists   *redis.IntCmd
		channels *redis.MapStringStringCmd
	)
	if _, err := st.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, st.s.selfKey(userID, "state"))
		channels = p.HGetAll(ctx, st.s.selfKey(userID, "channels"))
		return nil
	}); err != nil {
		err = fmt.Errorf("list channels of %d: %w", userID, err)
		markUnavailable(&err) // not deferred: f's errors are returned as they are
		return err
	}
	if exists.Val() == 0 {
		return fmt.Errorf("list channels of %d: %w", userID, ErrStateNotFound)
	}
	for k, v := range channels.Val() {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return fmt.Errorf("list channels of %d: corrupt channel ID: %w", userID, err)
		}
		pts, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("list channels of %d: corrupt pts of channel %d: %w", userID, id, err)
		}
		if err := f(ctx, id, pts); err != nil {
			return err
		}
	}
	return nil
}

type accessHasher struct{ s *Store }

var _ updates.ChannelAccessHasher = (*accessHasher)(nil)

func (h *accessHasher) SetChannelAccessHash(ctx context.Context, userID, channelID, accessHash int64) (err error) {
	defer markUnavailable(&err)
	if h.s.optErr != nil {
		return h.s.optErr
	}
	if err := h.s.rdb.HSet(ctx, h.s.selfKey(userID, "chash"), strconv.FormatInt(channelID, 10), accessHash).Err(); err != nil {
		return fmt.Errorf("set access hash of channel %d of %d: %w", channelID, userID, err)
	}
	return nil
}

func (h *accessHasher) GetChannelAccessHash(ctx context.Context, userID, channelID int64) (_ int64, _ bool, err error) {
	defer markUnavailable(&err)
	if h.s.optErr != nil {
		return 0, false, h.s.optErr
	}
	return getHash(ctx, h.s.rdb, h.s.selfKey(userID, "chash"), channelID, "channel")
}

type userAccessHasher struct{ s *Store }

var _ updates.UserAccessHasher = (*userAccessHasher)(nil)

// ForgetWindow is how long after DeleteUser the bots keep from storing
// the user's access hash again. The message telling the user about the
// erasure (and any other update about them in that time, on every
// instance) carries the user, and gotd's updates manager would otherwise
// store the hash at once. Within the window a message from the user is
// still answered (the answer uses the update's own entities); what the
// bot sends the user later, outside an update, waits for their next
// message after the window.
const ForgetWindow = 10 * time.Minute

// setUserHashScript stores an access hash unless the user was erased
// within ForgetWindow. KEYS: uhash, forget marker. ARGV: user ID, hash.
var setUserHashScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// forgetKey is the marker DeleteUser leaves, for ForgetWindow, under the
// bot selfID: named by a digest of the user ID, not the ID itself, so that
// nothing in Redis names the user once they are erased. With a queue key
// (WithQueueKey; package bot always sets one) the digest is keyed
// (HMAC-SHA256), so that trying user IDs against it needs the key; without
// one it is a plain SHA-256, which only hides the ID from a casual look.
func (s *Store) forgetKey(selfID, userID int64) string {
	return s.forgetKeys(selfID, userID)[0]
}

// forgetKeys is forgetKey under each key of the queue's ring, the current
// first: DeleteUser leaves all of them, so that an instance still on a
// previous key during a rotation sees the marker too.
func (s *Store) forgetKeys(selfID, userID int64) []string {
	msg := []byte(s.prefix + "forget:" + strconv.FormatInt(userID, 10))
	if s.queue == nil {
		d := sha256.Sum256(msg)
		return []string{s.selfKey(selfID, "forget:"+hex.EncodeToString(d[:16]))}
	}
	out := make([]string, len(s.queue.digests))
	for i, k := range s.queue.digests {
		m := hmac.New(sha256.New, k)
		m.Write(msg)
		out[i] = s.selfKey(selfID, "forget:"+hex.EncodeToString(m.Sum(nil)[:16]))
	}
	return out
}

func (h *userAccessHasher) SetUserAccessHash(ctx context.Context, userID, targetUserID, accessHash int64) (err error) {
	defer markUnavailable(&err)
	if h.s.optErr != nil {
		return h.s.optErr
	}
	now := h.s.now()
	if held, ok := h.s.hashes.get(userID, targetUserID, now); ok && held == accessHash {
		return nil // stored lately (see hashcache.go)
	}
	// The set of self IDs lets DeleteUser find every hash of a user.
	var set *redis.Cmd
	if _, err := h.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = setUserHashScript.Eval(ctx, p, []string{h.s.selfKey(userID, "uhash"), h.s.forgetKey(userID, targetUserID)},
			strconv.FormatInt(targetUserID, 10), accessHash)
		p.SAdd(ctx, h.s.key("gotd:selves"), strconv.FormatInt(userID, 10))
		return nil
	}); err != nil {
		return fmt.Errorf("set access hash of user %d of %d: %w", targetUserID, userID, err)
	}
	if stored, _ := set.Int(); stored == 1 { // 0: the user was erased lately
		h.s.hashes.put(userID, targetUserID, accessHash, now)
	}
	return nil
}

func (h *userAccessHasher) GetUserAccessHash(ctx context.Context, userID, targetUserID int64) (_ int64, _ bool, err error) {
	defer markUnavailable(&err)
	if h.s.optErr != nil {
		return 0, false, h.s.optErr
	}
	now := h.s.now()
	if held, ok := h.s.hashes.get(userID, targetUserID, now); ok {
		return held, true, nil
	}
	hash, found, err := getHash(ctx, h.s.rdb, h.s.selfKey(userID, "uhash"), targetUserID, "user")
	if found {
		h.s.hashes.put(userID, targetUserID, hash, now)
	}
	return hash, found, err
}

func getHash(ctx context.Context, rdb redis.UniversalClient, key string, id int64, what string) (int64, bool, error) {
	v, err := rdb.HGet(ctx, key, strconv.FormatInt(id, 10)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get access hash of %s %d: %w", what, id, err)
	}
	hash, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("get access hash of %s %d: corrupt: %w", what, id, err)
	}
	return hash, true, nil
}
