package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// dropEntryScript removes an outbox entry of a deleted user with its
// attempt counters and its event key.
//
// KEYS[1] stream, KEYS[2] attempts hash, KEYS[3] event key. ARGV[1] group,
// ARGV[2] id, ARGV[3] event ID.
var dropEntryScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
local n = redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], 'n:' .. ARGV[3], 'r:' .. ARGV[3])
redis.call('DEL', KEYS[3])
return n
`)

// DeleteUser erases what the store keeps about userID: the live request
// and the routing keys of every request and nonce issued to the user, the
// nonce tombstones, the preferences (language and ref), the statuses (the
// stats totals are decremented; daily counters, being counts, stay), the
// claims of the user's identity documents (another user may claim them
// then), the user's outbox entries, pending or parked (acknowledged and
// deleted, so never delivered), the user's events kept for Resend, the user's updates waiting or being
// handled in the queue (an update being handled may still record its
// outcome: call it when the user is no longer being served), and the
// user's access hash in the gotd updates state,
// which the bots then keep from storing again for ForgetWindow. It then
// appends an audit event of kind "deleted" about the user and nothing
// else, and deletes the user's audit key: the audit events about the
// user stay (the trail is append-only, and still verifies), but nothing
// links them to the user any more, not even with the audit key (see the
// package documentation, Audit trail). It returns how many records
// (keys, stream entries, hash fields) it removed.
//
// Call it when the user is no longer being served: a request issued while
// it runs may survive it.
func (s *Store) DeleteUser(ctx context.Context, userID int64) (deleted int, err error) {
	defer markUnavailable(&err)
	if s.optErr != nil {
		return 0, s.optErr
	}
	if err := checkUser(userID); err != nil {
		return 0, fmt.Errorf("delete user: %w", err)
	}
	defer s.hashes.forget(userID) // once the hashes are gone from Redis too
	wrap := func(what string, err error) error {
		return fmt.Errorf("delete user %d: %s: %w", userID, what, err)
	}

	// Keys in the user's slot, and the routing keys they name.
	members, err := s.rdb.ZRange(ctx, s.userKey(userID, "index"), 0, -1).Result()
	if err != nil {
		return 0, wrap("read index", err)
	}
	statuses, err := s.rdb.HGetAll(ctx, s.userKey(userID, "status")).Result()
	if err != nil {
		return 0, wrap("read statuses", err)
	}
	// Documents before the index that lists them, so that a deletion
	// that fails half way can be run again.
	n, err := s.releaseDocuments(ctx, userID)
	deleted += n
	if err != nil {
		return deleted, wrap("release documents", err)
	}
	userKeys := []string{
		s.userKey(userID, "request"),
		s.userKey(userID, "index"),
		s.userKey(userID, "updates"), // dedupe marks of versions before the queue
		s.userKey(userID, "status"),
		s.userKey(userID, "docs"),
		s.userKey(userID, "prefs"),
		s.userKey(userID, "reviews"),   // the submissions kept for manual review
		s.userKey(userID, "reminders"), // the claims of reminders and expiries
	}
	var globalKeys []string
	for _, m := range members {
		kind, v, _ := strings.Cut(m, ":")
		switch kind {
		case "n":
			// The nonce's key of the layout before the nonces hash.
			userKeys = append(userKeys, s.userKey(userID, "nonce:"+v))
			globalKeys = append(globalKeys, s.key("nidx:"+v))
		case "r":
			globalKeys = append(globalKeys, s.key("ridx:"+v))
		}
	}
	// Each nonce state counts as a record, as when each had a key.
	var nonces, del *redis.IntCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		nonces = p.HLen(ctx, s.userKey(userID, "nonces"))
		del = p.Del(ctx, append(userKeys, s.userKey(userID, "nonces"))...)
		return nil
	}); err != nil {
		return deleted, wrap("delete keys", err)
	}
	deleted += int(del.Val() + nonces.Val())
	if nonces.Val() > 0 {
		deleted-- // the hash itself
	}
	// When the user's verifications end.
	var ending []any
	for level := range statuses {
		if !strings.Contains(level, "#") {
			ending = append(ending, validityMember(userID, level))
		}
	}
	if len(ending) > 0 {
		n, err := s.rdb.ZRem(ctx, s.Validities().dueKey(), ending...).Result()
		if err != nil {
			return deleted, wrap("delete validities", err)
		}
		deleted += int(n)
	}
	if len(globalKeys) > 0 {
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range globalKeys {
				p.Del(ctx, k) // one key per DEL: they live in different cluster slots
			}
			return nil
		})
		if err != nil {
			return deleted, wrap("delete routing keys", err)
		}
		for _, c := range cmds {
			deleted += int(c.(*redis.IntCmd).Val())
		}
	}

	// Stats totals: the user's statuses leave them (what the stats hold
	// for the user, if anything, goes too).
	now := s.clock()
	// What the stats count for the user, unless they hold it themselves:
	// the statuses, or for a hash written with a retention what they were
	// when it began (see luaStatusHelpers).
	var before []string
	switch {
	case s.statusExpired(statuses["#t"], now):
	case statuses["#r"] != "":
		if l := statuses["#l"]; l != "" {
			before = strings.Split(l, ",")
		}
	default:
		for level, rec := range statuses {
			if strings.Contains(level, "#") {
				continue
			}
			st, err := parseStatus(userID, level, rec, statuses[level+"#created"])
			if err != nil {
				continue // a corrupt record is gone anyway
			}
			before = append(before, level+"|"+st.State)
		}
	}
	sort.Strings(before)
	if err := s.forgetStats(ctx, userID, strings.Join(before, ","), now); err != nil {
		return deleted, wrap("update stats", err)
	}

	// Queue of updates.
	n3, err := s.Queue().deleteUserEntries(ctx, userID)
	deleted += n3
	if err != nil {
		return deleted, wrap("queue", err)
	}

	// Outbox.
	n2, err := s.dropOutbox(ctx, userID)
	deleted += n2
	if err != nil {
		return deleted, wrap("outbox", err)
	}
	nk, err := s.dropKept(ctx, userID)
	deleted += nk
	if err != nil {
		return deleted, wrap("kept events", err)
	}

	// gotd user access hashes, under every bot user that stored one.
	selves, err := s.rdb.SMembers(ctx, s.key("gotd:selves")).Result()
	if err != nil {
		return deleted, wrap("read bot users", err)
	}
	uid := strconv.FormatInt(userID, 10)
	for _, self := range selves {
		id, err := strconv.ParseInt(self, 10, 64)
		if err != nil {
			continue
		}
		var del *redis.IntCmd
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			del = p.HDel(ctx, s.selfKey(id, "uhash"), uid)
			for _, k := range s.forgetKeys(id, userID) {
				p.Set(ctx, k, "1", ForgetWindow)
			}
			return nil
		}); err != nil {
			return deleted, wrap("delete access hash", err)
		}
		deleted += int(del.Val())
	}

	// The "deleted" event names the user by their pseudonym (one never
	// stored if they have no audit key: nothing may link them again),
	// then their audit key goes, which unlinks every event about them.
	if _, err := s.audit(ctx, Event{Kind: "deleted", UserID: userID}, "", false); err != nil {
		return deleted, wrap("audit", err)
	}
	n4, err := s.rdb.Del(ctx, s.userKey(userID, "audit")).Result()
	if err != nil {
		return deleted, wrap("delete the audit key", err)
	}
	return deleted + int(n4), nil
}

// dropOutbox removes the user's entries from the outbox and parked
// streams.
func (s *Store) dropOutbox(ctx context.Context, userID int64) (int, error) {
	uid := strconv.FormatInt(userID, 10)
	deleted := 0
	stream, parked := s.outboxKey("stream"), s.outboxKey("parked")
	err := s.eachEntry(ctx, stream, func(m redis.XMessage) error {
		if m.Values["uid"] != uid {
			return nil
		}
		eid, _ := m.Values["eid"].(string)
		n, err := dropEntryScript.Run(ctx, s.rdb,
			[]string{stream, s.outboxKey("attempts"), s.outboxKey("event:" + hashHex(eid))},
			outboxGroup, m.ID, eid).Int()
		if err != nil {
			return fmt.Errorf("drop entry %s: %w", m.ID, err)
		}
		deleted += n
		return nil
	})
	if err != nil {
		return deleted, err
	}
	err = s.eachEntry(ctx, parked, func(m redis.XMessage) error {
		if m.Values["uid"] != uid {
			return nil
		}
		n, err := s.rdb.XDel(ctx, parked, m.ID).Result()
		if err != nil {
			return fmt.Errorf("drop parked entry %s: %w", m.ID, err)
		}
		deleted += int(n)
		return nil
	})
	return deleted, err
}

// eachEntry calls f on every entry of a stream, in pages.
func (s *Store) eachEntry(ctx context.Context, stream string, f func(redis.XMessage) error) error {
	start := "-"
	for {
		msgs, err := s.rdb.XRangeN(ctx, stream, start, "+", 256).Result()
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		for _, m := range msgs {
			if err := f(m); err != nil {
				return err
			}
		}
		if len(msgs) < 256 {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// forgetStats takes a deleted user's statuses (before, as states()
// lists them) out of the stats, and forgets what the stats held for them.
func (s *Store) forgetStats(ctx context.Context, userID int64, before string, now time.Time) error {
	return statsScript.Run(ctx, s.rdb, s.statsKeys(now),
		userID, "", "", now.UnixMilli(), 0, int64(statsDayTTL/time.Second), before, "", 0, "").Err()
}
