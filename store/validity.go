package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Validities is the view of when verifications end: a sorted set of every
// verified status with an end, scored by it (P{validity}:due, members
// "<user ID>|<level>"), and each user's claims of the reminders and
// expiries sent about them (P{u:<uid>}:reminders), so that each is sent
// once whichever instance gets to it first and however often they
// restart. DeleteUser erases both. Get it from Store.Validities.
type Validities struct{ s *Store }

// Validities returns the view of when verifications end.
func (s *Store) Validities() Validities { return Validities{s} }

// Validity is one verification with an end.
type Validity struct {
	UserID int64
	Level  string
	// Until is when it ends (millisecond precision, UTC).
	Until time.Time
}

func (v Validities) dueKey() string { return v.s.prefix + "{validity}:due" }

func validityMember(userID int64, level string) string {
	return strconv.FormatInt(userID, 10) + "|" + level
}

// Schedule records that the verification of userID at level ends at
// until; a zero until removes it (the verification has no end, or is no
// longer valid).
func (v Validities) Schedule(ctx context.Context, userID int64, level string, until time.Time) (err error) {
	defer markUnavailable(&err)
	if v.s.optErr != nil {
		return v.s.optErr
	}
	if err := checkUser(userID); err != nil {
		return fmt.Errorf("schedule validity: %w", err)
	}
	if err := checkLevel(level); err != nil {
		return fmt.Errorf("schedule validity: %w", err)
	}
	m := validityMember(userID, level)
	if until.IsZero() {
		err = v.s.rdb.ZRem(ctx, v.dueKey(), m).Err()
	} else {
		err = v.s.rdb.ZAdd(ctx, v.dueKey(), redis.Z{Score: float64(until.UnixMilli()), Member: m}).Err()
	}
	if err != nil {
		return fmt.Errorf("schedule validity of user %d at %s: %w", userID, level, err)
	}
	return nil
}

// Ending returns up to limit verifications that end before before, the
// earliest first.
func (v Validities) Ending(ctx context.Context, before time.Time, limit int) (_ []Validity, err error) {
	defer markUnavailable(&err)
	if v.s.optErr != nil {
		return nil, v.s.optErr
	}
	zs, err := v.s.rdb.ZRangeByScoreWithScores(ctx, v.dueKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("verifications ending: %w", err)
	}
	out := make([]Validity, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		idPart, level, ok := strings.Cut(m, "|")
		id, err := strconv.ParseInt(idPart, 10, 64)
		if !ok || err != nil || checkLevel(level) != nil {
			continue // not one of ours: left alone
		}
		out = append(out, Validity{UserID: id, Level: level, Until: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}

// claimKeep is how long a claim outlives the end it is about.
const claimKeep = 400 * 24 * time.Hour

// Claim claims what (a reminder such as "remind:7", or "expired") for the
// verification of userID at level ending at until: true for the first
// claim, false for every later one, from any instance. A claim is kept
// for a year past until.
func (v Validities) Claim(ctx context.Context, userID int64, level string, until time.Time, what string) (_ bool, err error) {
	defer markUnavailable(&err)
	if v.s.optErr != nil {
		return false, v.s.optErr
	}
	if until.IsZero() {
		// The user's claims are kept until the last end claimed (plus
		// claimKeep): a zero time would erase them all at once.
		return false, fmt.Errorf("claim %s of user %d at %s: %w: no time given", what, userID, level, ErrInvalid)
	}
	k := v.s.userKey(userID, "reminders")
	field := level + ":" + strconv.FormatInt(until.UnixMilli(), 10) + ":" + what
	var ok *redis.BoolCmd
	if _, err := v.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ok = p.HSetNX(ctx, k, field, v.s.clock().UnixMilli())
		p.PExpireAt(ctx, k, until.Add(claimKeep))
		return nil
	}); err != nil {
		return false, fmt.Errorf("claim %s of user %d at %s: %w", what, userID, level, err)
	}
	return ok.Val(), nil
}

// Unclaim gives a claim back (what it claimed could not be done), so that
// a later call of Claim gets it again.
func (v Validities) Unclaim(ctx context.Context, userID int64, level string, until time.Time, what string) (err error) {
	defer markUnavailable(&err)
	if v.s.optErr != nil {
		return v.s.optErr
	}
	field := level + ":" + strconv.FormatInt(until.UnixMilli(), 10) + ":" + what
	if err := v.s.rdb.HDel(ctx, v.s.userKey(userID, "reminders"), field).Err(); err != nil {
		return fmt.Errorf("unclaim %s of user %d at %s: %w", what, userID, level, err)
	}
	return nil
}
