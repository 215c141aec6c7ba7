package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Erasures is the view of the erasures under way: a sorted set of the
// users whose erasure began and is not known to be finished
// (P{erasure}:open, members "<user ID>", scored by when it began), so that
// an erasure cut short (the process died, Redis went away half way) is
// finished by whichever instance looks next, and the business still
// learns of it. It holds user IDs and times only, for as long as an
// erasure takes. Get it from Store.Erasures.
type Erasures struct{ s *Store }

// Erasures returns the view of the erasures under way.
func (s *Store) Erasures() Erasures { return Erasures{s} }

// Erasure is an erasure under way.
type Erasure struct {
	UserID int64
	// Began is when it began (millisecond precision, UTC): the same for
	// every attempt until it is finished, so that what is derived from it
	// (the erased event's ID) is the same too.
	Began time.Time
	// Resumed is true when Begin found the erasure begun by an earlier
	// attempt that did not finish.
	Resumed bool
}

func (e Erasures) key() string { return e.s.prefix + "{erasure}:open" }

// beginErasureScript adds ARGV[1] scored ARGV[2] unless it is there, and
// returns its score and whether it was there.
//
// KEYS[1] the set.
var beginErasureScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s then return {s, 1} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return {ARGV[2], 0}
`)

// Begin records that the erasure of userID begins, before anything is
// erased. When an earlier erasure of the user did not finish, it returns
// that one (Resumed, with its time).
func (e Erasures) Begin(ctx context.Context, userID int64) (_ Erasure, err error) {
	defer markUnavailable(&err)
	if e.s.optErr != nil {
		return Erasure{}, e.s.optErr
	}
	if err := checkUser(userID); err != nil {
		return Erasure{}, fmt.Errorf("begin erasure: %w", err)
	}
	now := e.s.clock().UnixMilli()
	res, err := beginErasureScript.Run(ctx, e.s.rdb, []string{e.key()}, strconv.FormatInt(userID, 10), now).Slice()
	if err != nil {
		return Erasure{}, fmt.Errorf("begin erasure of user %d: %w", userID, err)
	}
	if len(res) != 2 {
		return Erasure{}, fmt.Errorf("begin erasure of user %d: unexpected answer %v", userID, res)
	}
	began, err := strconv.ParseFloat(fmt.Sprint(res[0]), 64)
	if err != nil {
		return Erasure{}, fmt.Errorf("begin erasure of user %d: bad time %v", userID, res[0])
	}
	resumed, _ := res[1].(int64)
	return Erasure{UserID: userID, Began: time.UnixMilli(int64(began)).UTC(), Resumed: resumed == 1}, nil
}

// Done records that the erasure began at er.Began is finished (the data
// erased, the business's event queued). A later erasure of the same user
// (another time) is left alone.
func (e Erasures) Done(ctx context.Context, er Erasure) (err error) {
	defer markUnavailable(&err)
	if e.s.optErr != nil {
		return e.s.optErr
	}
	member := strconv.FormatInt(er.UserID, 10)
	if err := doneErasureScript.Run(ctx, e.s.rdb, []string{e.key()}, member, er.Began.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("finish erasure of user %d: %w", er.UserID, err)
	}
	return nil
}

// doneErasureScript removes ARGV[1] when its score is ARGV[2].
//
// KEYS[1] the set.
var doneErasureScript = redis.NewScript(`
if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`)

// Stale returns up to limit erasures that began before before and are not
// finished, the oldest first: cut short, they are to be finished.
func (e Erasures) Stale(ctx context.Context, before time.Time, limit int) (_ []Erasure, err error) {
	defer markUnavailable(&err)
	if e.s.optErr != nil {
		return nil, e.s.optErr
	}
	zs, err := e.s.rdb.ZRangeByScoreWithScores(ctx, e.key(), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("erasures under way: %w", err)
	}
	out := make([]Erasure, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil || checkUser(id) != nil {
			continue // not one of ours: left alone
		}
		out = append(out, Erasure{UserID: id, Began: time.UnixMilli(int64(z.Score)).UTC(), Resumed: true})
	}
	return out, nil
}
