package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Verification states.
const (
	StateNone       = "none"
	StatePending    = "pending"
	StateNeedsFixes = "needs_fixes"
	StateVerified   = "verified"
	StateRejected   = "rejected"
	// StateReview: the submission passed the rules and waits for an
	// admin's decision (manual review).
	StateReview = "review"
	// StateRevoked: an admin revoked the verification (/kyc_revoke).
	StateRevoked = "revoked"
	// StateExpired: the verification outlived its validity (the
	// document's expiry, or the level's re-verification period), or its
	// case was left undecided past the review's retention (the status then
	// carries CodeReviewExpired).
	StateExpired = "expired"
)

// CodeReviewExpired is the code of an expired status whose case was left
// undecided under manual review until its submission was erased.
const CodeReviewExpired = "review_expired"

// states lists the states Statuses.Set accepts (every state but StateNone,
// which is the absence of a status).
var states = [...]string{StatePending, StateNeedsFixes, StateVerified, StateRejected, StateReview, StateRevoked, StateExpired}

// Status is where a user stands at one level. It holds no personal data:
// IDs, a level name, a state, the business's ref and problem codes.
type Status struct {
	UserID int64
	Level  string
	// State is one of StateNone, StatePending, StateNeedsFixes,
	// StateVerified, StateRejected, StateReview, StateRevoked,
	// StateExpired.
	State string
	// Ref is the business's reference the request came with.
	Ref string
	// Codes are problem codes (such as "document_expired"), never values.
	Codes []string
	// ValidUntil is when a verification stops being valid (the earliest
	// of the document's expiry and the level's re-verification period);
	// zero when it has no end or the state is not StateVerified.
	// Millisecond precision, UTC.
	ValidUntil time.Time
	// CreatedAt is when the user first got a status at this level, and
	// UpdatedAt when it last changed (store clock, millisecond precision,
	// UTC). Both are zero for StateNone.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// statusRecord is the JSON of a status in the user's status hash. The
// creation time lives in a field of its own so that the script never
// re-encodes JSON.
type statusRecord struct {
	State   string   `json:"state"`
	Ref     string   `json:"ref,omitempty"`
	Codes   []string `json:"codes,omitempty"`
	Updated int64    `json:"updated"`
	Until   int64    `json:"until,omitempty"`
}

// Lua helpers of the status scripts, on the status hash KEYS[1]. Its
// fields are "<level>" (the record), "<level>#created", "#t" (time of the
// last Statuses.Set, from which the Redis TTL runs), "#v" (a version that
// grows with every change, so that the stats can tell an older change
// from a newer one), "#r" (set while the hash is written with a
// retention: the stats then count the user through the held hash) and
// "#l" (the statuses the stats had counted without the held hash when
// the retention began for this hash).
//
// states() lists the statuses as "<level>|<state>" pairs, sorted and
// comma-separated: the fields of the stats totals they count in.
// expire() deletes the hash when the store's clock says it expired (now
// and keep in ms). legacy() says what the stats count for the user when
// they hold nothing for them: the statuses before this change if the
// hash was written without a retention, what they were when the
// retention began, or nothing for a new hash; mark() records the
// retention. bump() raises the version: by one, or to now (ms) for a new
// hash, which is above any version of an older hash of the user since
// that one lived at least the retention.
const luaStatusHelpers = `
local function states()
  local flat = redis.call('HGETALL', KEYS[1])
  local out = {}
  for i = 1, #flat, 2 do
    if not string.find(flat[i], '#', 1, true) then
      out[#out + 1] = flat[i] .. '|' .. (cjson.decode(flat[i + 1])['state'] or '')
    end
  end
  table.sort(out)
  return table.concat(out, ',')
end
local function expire(now, keep)
  local t = redis.call('HGET', KEYS[1], '#t')
  if keep > 0 and t and tonumber(t) + keep <= now then redis.call('DEL', KEYS[1]) end
end
local function legacy(before)
  if redis.call('HEXISTS', KEYS[1], '#r') == 1 then return redis.call('HGET', KEYS[1], '#l') or '' end
  if redis.call('EXISTS', KEYS[1]) == 1 then return before end
  return ''
end
local function mark(keep, counted)
  if keep == 0 then
    redis.call('HDEL', KEYS[1], '#r', '#l')
  elseif redis.call('HEXISTS', KEYS[1], '#r') == 0 then
    redis.call('HSET', KEYS[1], '#r', '1', '#l', counted)
  end
end
local function bump(now)
  if redis.call('HEXISTS', KEYS[1], '#v') == 1 then return redis.call('HINCRBY', KEYS[1], '#v', 1) end
  redis.call('HSET', KEYS[1], '#v', now)
  return now
end
`

// setStatusScript writes a status. It answers {before, after, version,
// legacy}: the user's statuses before and after (as states() lists them),
// the hash's new version, and what legacy() says.
//
// KEYS[1] status hash. ARGV[1] level, ARGV[2] record JSON, ARGV[3] now ms,
// ARGV[4] retention ms (0 for forever).
var setStatusScript = redis.NewScript(luaStatusHelpers + `
local now = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
expire(now, keep)
local before = states()
local old = legacy(before)
local v = bump(now)
redis.call('HSETNX', KEYS[1], ARGV[1] .. '#created', ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], '#t', ARGV[3])
mark(keep, old)
if keep > 0 then redis.call('PEXPIRE', KEYS[1], keep) else redis.call('PERSIST', KEYS[1]) end
return {before, states(), v, old}
`)

// resetStatusScript removes a status. It answers as setStatusScript, with
// version 0 when there was nothing to remove.
//
// KEYS[1] status hash. ARGV[1] level, ARGV[2] now ms, ARGV[3] retention
// ms (0 for forever).
var resetStatusScript = redis.NewScript(luaStatusHelpers + `
local now = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
expire(now, keep)
local before = states()
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {before, before, 0, ''} end
local old = legacy(before)
local v = bump(now)
redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. '#created')
mark(keep, old)
local after = states()
if keep == 0 and after == '' then redis.call('DEL', KEYS[1]) end
return {before, after, v, old}
`)

// sweepBatch is how many expired users a stats script takes out of the
// totals at most.
const sweepBatch = 100

// statsScript keeps the stats right. It first takes out of the totals
// the users whose statuses expired (by the store's clock). Then, unless
// ARGV[1] is empty, it counts a change of one user's statuses, as a
// status script answered it: today's counter of the level's new state
// goes up if the level was in another state before, and the totals move
// from what was counted for the user to their statuses after.
//
// Without a retention, what was counted is the statuses before the
// change, so the totals move by the change: such moves add up in any
// order, as instances running concurrently may apply them. With a
// retention, the held hash holds what is counted for each user, with the
// version of the status hash it comes from, so that an older change
// applied after a newer one is skipped (it is kept when the user has no
// status left, for that reason); and the expiry set says when to take it
// out of the totals. For a user without a held entry, what is counted is
// what the status script's legacy() said.
//
// KEYS[1] totals, KEYS[2] today's counters, KEYS[3] held hash, KEYS[4]
// expiry zset. ARGV[1] user ID, ARGV[2] level, ARGV[3] new state ("" for
// none), ARGV[4] now ms, ARGV[5] retention ms (0 for forever), ARGV[6]
// daily counters TTL s, ARGV[7] statuses before, ARGV[8] statuses after,
// ARGV[9] version (0 for no change), ARGV[10] legacy (see
// luaStatusHelpers). Answers how many expired users it swept.
var statsScript = redis.NewScript(`
local now = tonumber(ARGV[4])
local function set(s)
  local t = {}
  for p in string.gmatch(s, '[^,]+') do t[p] = true end
  return t
end
local function move(from, to)
  local old, new = set(from), set(to)
  for p in pairs(old) do
    if not new[p] then redis.call('HINCRBY', KEYS[1], p, -1) end
  end
  for p in pairs(new) do
    if not old[p] then redis.call('HINCRBY', KEYS[1], p, 1) end
  end
end
local function held(u)
  local h = redis.call('HGET', KEYS[3], u)
  if not h then return nil, nil end
  local i = string.find(h, ';', 1, true)
  return tonumber(string.sub(h, 1, i - 1)), string.sub(h, i + 1)
end
local swept = 0
for _, u in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, ` + strconv.Itoa(sweepBatch) + `)) do
  local _, counted = held(u)
  if counted then move(counted, '') end
  redis.call('HDEL', KEYS[3], u)
  redis.call('ZREM', KEYS[4], u)
  swept = swept + 1
end
if ARGV[1] == '' then return swept end
local uid, after = ARGV[1], ARGV[8]
if ARGV[3] ~= '' and not set(ARGV[7])[ARGV[2] .. '|' .. ARGV[3]] then
  redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. ARGV[3], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
local keep, v = tonumber(ARGV[5]), tonumber(ARGV[9])
local hv, counted = held(uid)
if keep == 0 then
  move(counted or ARGV[7], after)
  if hv then
    redis.call('HDEL', KEYS[3], uid)
    redis.call('ZREM', KEYS[4], uid)
  end
  return swept
end
if v == 0 or (hv and hv >= v) then return swept end
move(counted or ARGV[10], after)
-- Kept even when empty: the version must outlive the statuses, or an
-- older change applied late would count again.
redis.call('HSET', KEYS[3], uid, string.format('%d', v) .. ';' .. after)
redis.call('ZADD', KEYS[4], now + keep, uid)
return swept
`)

func validState(state string) bool {
	for _, s := range states {
		if s == state {
			return true
		}
	}
	return false
}

// Statuses is the view of verification statuses and the admin counters.
// It owns each user's statuses (P{u:<uid>}:status) and the stats
// (P{stats}:total, P{stats}:day:<YYYY-MM-DD>, P{stats}:held,
// P{stats}:expiry). Get it from Store.Statuses.
type Statuses struct{ s *Store }

// Statuses returns the view of verification statuses and their counters.
func (s *Store) Statuses() Statuses { return Statuses{s} }

// Set records st (UserID, Level, State, Ref, Codes, ValidUntil; the times are
// set by the store). A change of state is counted in the stats: the
// user moves from the old state's total to the new one's, and today's
// counter of the new state goes up. With WithStatusRetention, every
// Set keeps all the user's statuses for the retention from now.
func (sv Statuses) Set(ctx context.Context, st Status) (err error) {
	defer markUnavailable(&err)
	s := sv.s
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkStatus(st); err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	now := s.clock()
	r := statusRecord{State: st.State, Ref: st.Ref, Codes: st.Codes, Updated: now.UnixMilli()}
	if !st.ValidUntil.IsZero() {
		r.Until = st.ValidUntil.UnixMilli()
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	ch, err := runStatusScript(ctx, s, setStatusScript, st.UserID, st.Level, rec, now.UnixMilli(), ms(s.statusKeep))
	if err != nil {
		return fmt.Errorf("set status of user %d at %s: %w", st.UserID, st.Level, err)
	}
	if err := s.recount(ctx, st.UserID, st.Level, st.State, ch, now); err != nil {
		return fmt.Errorf("set status of user %d at %s: %w", st.UserID, st.Level, err)
	}
	return nil
}

func checkStatus(st Status) error {
	if err := checkUser(st.UserID); err != nil {
		return err
	}
	if err := checkLevel(st.Level); err != nil {
		return err
	}
	if !validState(st.State) {
		return fmt.Errorf("%w: state must be one of %s (use Statuses.Reset for none)", ErrInvalid, strings.Join(states[:], ", "))
	}
	if err := checkRef(st.Ref); err != nil {
		return err
	}
	return checkCodes("codes", st.Codes)
}

// statusChange is what a status script answers: the user's statuses
// before and after as "<level>|<state>" lists, the status hash's new
// version (0 when nothing changed), and what the stats count for the user
// when they hold nothing for them (see luaStatusHelpers).
type statusChange struct {
	before, after, legacy string
	version               int64
}

func runStatusScript(ctx context.Context, s *Store, script *redis.Script, userID int64, args ...any) (statusChange, error) {
	res, err := script.Run(ctx, s.rdb, []string{s.userKey(userID, "status")}, args...).Slice()
	if err != nil {
		return statusChange{}, err
	}
	var ch statusChange
	var ok [4]bool
	if len(res) == 4 {
		ch.before, ok[0] = res[0].(string)
		ch.after, ok[1] = res[1].(string)
		ch.version, ok[2] = res[2].(int64)
		ch.legacy, ok[3] = res[3].(string)
	}
	if ok != [4]bool{true, true, true, true} {
		return statusChange{}, fmt.Errorf("unexpected status script answer %v", res)
	}
	return ch, nil
}

// recount updates the stats after a status script changed the statuses
// of userID, level moving into state to ("" for none). The status script
// and this update touch different cluster slots, so they are two steps:
// a crash between them leaves the counters off until the user's next
// status change, never the statuses.
func (s *Store) recount(ctx context.Context, userID int64, level, to string, ch statusChange, now time.Time) error {
	if ch.before == ch.after && s.statusKeep == 0 {
		return nil
	}
	err := statsScript.Run(ctx, s.rdb, s.statsKeys(now),
		userID, level, to, now.UnixMilli(), ms(s.statusKeep), int64(statsDayTTL/time.Second),
		ch.before, ch.after, ch.version, ch.legacy).Err()
	if err != nil {
		return fmt.Errorf("count transition: %w", err)
	}
	return nil
}

// sweepStats takes the users whose statuses expired out of the totals.
func (s *Store) sweepStats(ctx context.Context, now time.Time) error {
	for range 1000 {
		n, err := statsScript.Run(ctx, s.rdb, s.statsKeys(now),
			"", "", "", now.UnixMilli(), 0, 0, "", "", 0, "").Int()
		if err != nil {
			return fmt.Errorf("sweep expired statuses: %w", err)
		}
		if n < sweepBatch {
			return nil
		}
	}
	return nil
}

func (s *Store) statsKeys(now time.Time) []string {
	return []string{
		s.statsKey("total"),
		s.statsKey("day:" + now.UTC().Format(time.DateOnly)),
		s.statsKey("held"),
		s.statsKey("expiry"),
	}
}

// statusExpired reports whether a status hash whose last Statuses.Set was
// at touched (unix ms, "" when unknown) has outlived the retention.
func (s *Store) statusExpired(touched string, now time.Time) bool {
	if s.statusKeep == 0 {
		return false
	}
	t, err := strconv.ParseInt(touched, 10, 64)
	return err == nil && t+ms(s.statusKeep) <= now.UnixMilli()
}

// statsDayTTL is how long daily counters are kept.
const statsDayTTL = 400 * 24 * time.Hour

// Get returns the status of userID at level: State StateNone when
// there is none.
func (sv Statuses) Get(ctx context.Context, userID int64, level string) (_ Status, err error) {
	defer markUnavailable(&err)
	s := sv.s
	if s.optErr != nil {
		return Status{}, s.optErr
	}
	if err := checkLevel(level); err != nil {
		return Status{}, fmt.Errorf("get status: %w", err)
	}
	vals, err := s.rdb.HMGet(ctx, s.userKey(userID, "status"), level, level+"#created", "#t").Result()
	if err != nil {
		return Status{}, fmt.Errorf("get status of user %d at %s: %w", userID, level, err)
	}
	rec, _ := vals[0].(string)
	created, _ := vals[1].(string)
	touched, _ := vals[2].(string)
	if rec == "" || s.statusExpired(touched, s.clock()) {
		return Status{UserID: userID, Level: level, State: StateNone}, nil
	}
	st, err := parseStatus(userID, level, rec, created)
	if err != nil {
		return Status{}, fmt.Errorf("get status of user %d at %s: %w", userID, level, err)
	}
	return st, nil
}

// List returns every status of userID, sorted by level.
func (sv Statuses) List(ctx context.Context, userID int64) (_ []Status, err error) {
	defer markUnavailable(&err)
	s := sv.s
	if s.optErr != nil {
		return nil, s.optErr
	}
	all, err := s.rdb.HGetAll(ctx, s.userKey(userID, "status")).Result()
	if err != nil {
		return nil, fmt.Errorf("list statuses of user %d: %w", userID, err)
	}
	if s.statusExpired(all["#t"], s.clock()) {
		return nil, nil
	}
	var out []Status
	for level, rec := range all {
		if strings.Contains(level, "#") {
			continue
		}
		st, err := parseStatus(userID, level, rec, all[level+"#created"])
		if err != nil {
			return nil, fmt.Errorf("list statuses of user %d: %w", userID, err)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Level < out[j].Level })
	return out, nil
}

func parseStatus(userID int64, level, rec, created string) (Status, error) {
	var r statusRecord
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return Status{}, fmt.Errorf("corrupt status record: %w", err)
	}
	c, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return Status{}, fmt.Errorf("corrupt status creation time: %w", err)
	}
	st := Status{
		UserID:    userID,
		Level:     level,
		State:     r.State,
		Ref:       r.Ref,
		Codes:     r.Codes,
		CreatedAt: time.UnixMilli(c).UTC(),
		UpdatedAt: time.UnixMilli(r.Updated).UTC(),
	}
	if r.Until != 0 {
		st.ValidUntil = time.UnixMilli(r.Until).UTC()
	}
	return st, nil
}

// Reset removes the status of userID at level (back to StateNone),
// so that the user can start over. Resetting a missing status is not an
// error.
func (sv Statuses) Reset(ctx context.Context, userID int64, level string) (err error) {
	defer markUnavailable(&err)
	s := sv.s
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkLevel(level); err != nil {
		return fmt.Errorf("reset status: %w", err)
	}
	now := s.clock()
	ch, err := runStatusScript(ctx, s, resetStatusScript, userID, level, now.UnixMilli(), ms(s.statusKeep))
	if err != nil {
		return fmt.Errorf("reset status of user %d at %s: %w", userID, level, err)
	}
	if err := s.recount(ctx, userID, level, "", ch, now); err != nil {
		return fmt.Errorf("reset status of user %d at %s: %w", userID, level, err)
	}
	return nil
}

// Stats are the admin counters.
type Stats struct {
	// Day is the UTC day of Today, as YYYY-MM-DD.
	Day string
	// Today counts, by level and state, the transitions into each state
	// during Day.
	Today map[string]map[string]int
	// Total counts, by level and state, the users currently in each state.
	Total map[string]map[string]int
}

// Stats returns the counters of the UTC day of day and the totals. With
// WithStatusRetention it first takes the users whose statuses expired
// out of the totals.
func (sv Statuses) Stats(ctx context.Context, day time.Time) (_ Stats, err error) {
	defer markUnavailable(&err)
	s := sv.s
	if s.optErr != nil {
		return Stats{}, s.optErr
	}
	if err := s.sweepStats(ctx, s.clock()); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	d := day.UTC().Format(time.DateOnly)
	var today, total *redis.MapStringStringCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		today = p.HGetAll(ctx, s.statsKey("day:"+d))
		total = p.HGetAll(ctx, s.statsKey("total"))
		return nil
	}); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	out := Stats{Day: d}
	var errs []error
	out.Today, errs = parseCounters(today.Val(), errs)
	out.Total, errs = parseCounters(total.Val(), errs)
	if len(errs) > 0 {
		return Stats{}, fmt.Errorf("stats: %w", errors.Join(errs...))
	}
	return out, nil
}

func parseCounters(m map[string]string, errs []error) (map[string]map[string]int, []error) {
	out := map[string]map[string]int{}
	for k, v := range m {
		level, state, ok := strings.Cut(k, "|")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			errs = append(errs, fmt.Errorf("corrupt counter %q", k))
			continue
		}
		if n == 0 {
			continue
		}
		if out[level] == nil {
			out[level] = map[string]int{}
		}
		out[level][state] = n
	}
	return out, errs
}
