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
)

// states lists the states SetStatus accepts (every state but StateNone,
// which is the absence of a status).
var states = [...]string{StatePending, StateNeedsFixes, StateVerified, StateRejected}

// Status is where a user stands at one level. It holds no personal data:
// IDs, a level name, a state, the business's ref and problem codes.
type Status struct {
	UserID int64
	Level  string
	// State is one of StateNone, StatePending, StateNeedsFixes,
	// StateVerified, StateRejected.
	State string
	// Ref is the business's reference the request came with.
	Ref string
	// Codes are problem codes (such as "document_expired"), never values.
	Codes []string
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
}

// setStatusScript writes a status and answers the previous state ("" for
// none).
//
// KEYS[1] status hash. ARGV[1] level, ARGV[2] record JSON, ARGV[3] now ms.
var setStatusScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
local oldState = ''
if old then oldState = cjson.decode(old)['state'] or '' end
redis.call('HSETNX', KEYS[1], ARGV[1] .. '#created', ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return oldState
`)

// resetStatusScript removes a status and answers the previous state.
// KEYS[1] status hash. ARGV[1] level.
var resetStatusScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return '' end
redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. '#created')
return cjson.decode(old)['state'] or ''
`)

func validState(state string) bool {
	for _, s := range states {
		if s == state {
			return true
		}
	}
	return false
}

// SetStatus records st (UserID, Level, State, Ref, Codes; the times are
// set by the store). A change of state is counted in the stats: the
// user moves from the old state's total to the new one's, and today's
// counter of the new state goes up.
func (s *Store) SetStatus(ctx context.Context, st Status) error {
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkStatus(st); err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	now := s.clock()
	rec, err := json.Marshal(statusRecord{State: st.State, Ref: st.Ref, Codes: st.Codes, Updated: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	old, err := setStatusScript.Run(ctx, s.rdb, []string{s.userKey(st.UserID, "status")},
		st.Level, rec, now.UnixMilli()).Text()
	if err != nil {
		return fmt.Errorf("set status of user %d at %s: %w", st.UserID, st.Level, err)
	}
	if err := s.countTransition(ctx, st.Level, old, st.State, now); err != nil {
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
		return fmt.Errorf("%w: state must be one of %s (use ResetStatus for none)", ErrInvalid, strings.Join(states[:], ", "))
	}
	if err := checkRef(st.Ref); err != nil {
		return err
	}
	return checkCodes("codes", st.Codes)
}

// countTransition updates the stats after a status changed from one state
// to another ("" for none). The status script and this update touch different
// cluster slots, so they are two steps: a crash between them leaves the
// counters one off, never the statuses.
func (s *Store) countTransition(ctx context.Context, level, from, to string, now time.Time) error {
	if from == to {
		return nil
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		total := s.statsKey("total")
		if from != "" {
			p.HIncrBy(ctx, total, level+"|"+from, -1)
		}
		if to != "" {
			p.HIncrBy(ctx, total, level+"|"+to, 1)
			day := s.statsKey("day:" + now.UTC().Format(time.DateOnly))
			p.HIncrBy(ctx, day, level+"|"+to, 1)
			p.Expire(ctx, day, statsDayTTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count transition: %w", err)
	}
	return nil
}

// statsDayTTL is how long daily counters are kept.
const statsDayTTL = 400 * 24 * time.Hour

// GetStatus returns the status of userID at level: State StateNone when
// there is none.
func (s *Store) GetStatus(ctx context.Context, userID int64, level string) (Status, error) {
	if s.optErr != nil {
		return Status{}, s.optErr
	}
	if err := checkLevel(level); err != nil {
		return Status{}, fmt.Errorf("get status: %w", err)
	}
	vals, err := s.rdb.HMGet(ctx, s.userKey(userID, "status"), level, level+"#created").Result()
	if err != nil {
		return Status{}, fmt.Errorf("get status of user %d at %s: %w", userID, level, err)
	}
	rec, _ := vals[0].(string)
	created, _ := vals[1].(string)
	if rec == "" {
		return Status{UserID: userID, Level: level, State: StateNone}, nil
	}
	st, err := parseStatus(userID, level, rec, created)
	if err != nil {
		return Status{}, fmt.Errorf("get status of user %d at %s: %w", userID, level, err)
	}
	return st, nil
}

// ListStatuses returns every status of userID, sorted by level.
func (s *Store) ListStatuses(ctx context.Context, userID int64) ([]Status, error) {
	if s.optErr != nil {
		return nil, s.optErr
	}
	all, err := s.rdb.HGetAll(ctx, s.userKey(userID, "status")).Result()
	if err != nil {
		return nil, fmt.Errorf("list statuses of user %d: %w", userID, err)
	}
	var out []Status
	for level, rec := range all {
		if strings.HasSuffix(level, "#created") {
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
	return Status{
		UserID:    userID,
		Level:     level,
		State:     r.State,
		Ref:       r.Ref,
		Codes:     r.Codes,
		CreatedAt: time.UnixMilli(c).UTC(),
		UpdatedAt: time.UnixMilli(r.Updated).UTC(),
	}, nil
}

// ResetStatus removes the status of userID at level (back to StateNone),
// so that the user can start over. Resetting a missing status is not an
// error.
func (s *Store) ResetStatus(ctx context.Context, userID int64, level string) error {
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkLevel(level); err != nil {
		return fmt.Errorf("reset status: %w", err)
	}
	old, err := resetStatusScript.Run(ctx, s.rdb, []string{s.userKey(userID, "status")}, level).Text()
	if err != nil {
		return fmt.Errorf("reset status of user %d at %s: %w", userID, level, err)
	}
	if err := s.countTransition(ctx, level, old, "", s.clock()); err != nil {
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

// Stats returns the counters of the UTC day of day and the totals.
func (s *Store) Stats(ctx context.Context, day time.Time) (Stats, error) {
	if s.optErr != nil {
		return Stats{}, s.optErr
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
