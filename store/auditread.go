package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RecordedEvent is an audit event as stored. Its Event has the user IDs
// and the ref only where they could be resolved: those of the users
// Events was asked about, while their audit keys exist (until erasure),
// and those of events from before keying, which hold them in clear.
// Elsewhere UserID and Actor are 0 and Ref is empty, and the pseudonyms
// say whether the event names anyone.
type RecordedEvent struct {
	Event
	// ID is the event's stream ID.
	ID string
	// At is when it was appended (store clock, millisecond precision).
	At time.Time
	// KeyID is the id of the audit key the event was keyed with ("" for
	// an event from before keying).
	KeyID string
	// UserPseudonym and ActorPseudonym name the event's user and actor as
	// stored ("" for none, and in events from before keying).
	UserPseudonym, ActorPseudonym string
}

// Events calls f with every audit event, oldest first, until f returns an
// error (which Events returns). Events about users (or by them, as the
// actor) show their user IDs and refs, as long as the users have not been
// erased; all other events show pseudonyms only. Asking about users needs
// the audit key (WithAuditKey: ErrAuditKey without it). It does not check
// the chain: Verify does.
func (a AuditTrail) Events(ctx context.Context, f func(RecordedEvent) error, users ...int64) (err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return s.optErr
	}
	r, err := s.auditResolver(ctx, users)
	if err != nil {
		return fmt.Errorf("audit events: %w", err)
	}
	const page = 256
	from := "-"
	for {
		msgs, err := s.rdb.XRangeN(ctx, s.auditKey("stream"), from, "+", page).Result()
		if err != nil {
			return fmt.Errorf("audit events: %w", err)
		}
		for _, m := range msgs {
			e, _ := m.Values["e"].(string)
			var rec auditRecord
			if err := json.Unmarshal([]byte(e), &rec); err != nil {
				return fmt.Errorf("audit event %s: not an audit record: %w", m.ID, err)
			}
			ev := RecordedEvent{ID: m.ID, At: time.UnixMilli(rec.Time).UTC(), Event: Event{
				Kind: rec.Kind, UserID: rec.UserID, Level: rec.Level, Ref: rec.Ref, Codes: rec.Codes, Detail: rec.Detail,
			}}
			if rec.V >= auditVersion {
				ev.KeyID, ev.UserPseudonym, ev.ActorPseudonym = rec.KID, rec.User, rec.Actor
				r.resolve(&ev, rec)
			}
			if err := f(ev); err != nil {
				return err
			}
			from = "(" + m.ID
		}
		if len(msgs) < page {
			return nil
		}
	}
}

// auditResolver turns the pseudonyms of some users back into their IDs.
type auditResolver struct {
	s     *Store
	users map[string]map[string]int64 // key id -> pseudonym -> user ID
	keys  map[int64][]byte            // user ID -> the user's audit key
}

// auditResolver reads the audit keys of users (one round trip) and
// computes their pseudonyms under every audit key the store has.
func (s *Store) auditResolver(ctx context.Context, users []int64) (*auditResolver, error) {
	r := &auditResolver{s: s, users: map[string]map[string]int64{}, keys: map[int64][]byte{}}
	if len(users) == 0 {
		return r, nil
	}
	if s.auditCur == nil {
		return nil, s.auditErr
	}
	cmds := make(map[int64]*redis.Cmd, len(users))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			if u <= 0 || cmds[u] != nil {
				continue
			}
			c, err := s.queueUserAuditKey(ctx, p, u, false)
			if err != nil {
				return err
			}
			cmds[u] = c
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the users' audit keys: %w", err)
	}
	for u, c := range cmds {
		uk, err := userAuditKeyOf(c)
		if err != nil {
			return nil, err
		}
		if uk == nil {
			continue // erased, or never audited
		}
		r.keys[u] = uk
		for id, k := range s.auditByID {
			if r.users[id] == nil {
				r.users[id] = map[string]int64{}
			}
			r.users[id][k.pseudonym(uk, u)] = u
		}
	}
	return r, nil
}

// resolve fills in ev's user IDs and ref where it can.
func (r *auditResolver) resolve(ev *RecordedEvent, rec auditRecord) {
	k := r.s.auditByID[rec.KID]
	if k == nil {
		return
	}
	ev.UserID, ev.Actor = r.users[rec.KID][rec.User], r.users[rec.KID][rec.Actor]
	if rec.SRef == "" {
		return
	}
	var userKey []byte
	if rec.User != "" {
		if userKey = r.keys[ev.UserID]; userKey == nil {
			return // the user is not resolved: neither is the ref
		}
	}
	if ref, ok := openRef(k, userKey, ev.UserID, rec.SRef); ok {
		ev.Ref = ref
	}
}

// AuditHead is the head of the audit chain: what to record elsewhere
// (anchor) so that a later Verify with it as an anchor proves the events
// up to it were neither changed nor removed since.
type AuditHead struct {
	// Hash is the last event's link (hex HMAC-SHA256; SHA-256 for an
	// event from before keying).
	Hash string
	// EventID is the last event's stream ID.
	EventID string
	// At is when it was appended.
	At time.Time
	// KeyID is the id of the audit key it was keyed with ("" for an event
	// from before keying).
	KeyID string
}

// Head returns the head of the audit chain: the last event and its link.
// An empty trail answers ErrNotFound. It does not verify the chain.
func (a AuditTrail) Head(ctx context.Context) (h AuditHead, err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return h, s.optErr
	}
	var headCmd *redis.StringCmd
	var last *redis.XMessageSliceCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		headCmd = p.Get(ctx, s.auditKey("head"))
		last = p.XRevRangeN(ctx, s.auditKey("stream"), "+", "-", 1)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return h, fmt.Errorf("audit head: %w", err)
	}
	if err := last.Err(); err != nil {
		return h, fmt.Errorf("audit head: %w", err)
	}
	msgs := last.Val()
	if len(msgs) == 0 {
		return h, fmt.Errorf("audit head: %w: the audit trail has no event", ErrNotFound)
	}
	m := msgs[0]
	h.EventID = m.ID
	h.Hash, _ = m.Values["hash"].(string)
	if headCmd.Val() != h.Hash {
		return h, &AuditError{EventID: m.ID, Reason: "the chain head names another event than the last one"}
	}
	e, _ := m.Values["e"].(string)
	var rec auditRecord
	if err := json.Unmarshal([]byte(e), &rec); err != nil {
		return h, &AuditError{EventID: m.ID, Reason: "its content is not an audit record"}
	}
	h.At, h.KeyID = time.UnixMilli(rec.Time).UTC(), rec.KID
	return h, nil
}
