package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event is an audit event. It carries no personal data: IDs, names of
// levels and kinds, the business's ref and codes. The store enforces it by
// alphabet: every string must be a code, which no name, address or
// document number fits. The user IDs and the ref are not stored as they
// are: users are named by pseudonyms that erasure unlinks, and the ref is
// sealed (see the package documentation, Audit trail).
type Event struct {
	// Kind says what happened, such as "issued", "verified", "rejected" or
	// "deleted" (1 to 64 characters of A-Z a-z 0-9 _ -).
	Kind string
	// UserID is the Telegram user the event is about (0 for none).
	UserID int64
	// Actor is the Telegram user who acted when it is another than UserID,
	// such as the admin of an admin command (0 for none).
	Actor int64
	// Level is the verification level, if any.
	Level string
	// Ref is the business's reference, if any.
	Ref string
	// Codes are problem codes.
	Codes []string
	// Detail holds more codes or IDs by name (at most 32; keys and values
	// are codes of 1 to 128 characters of A-Z a-z 0-9 _ . : -), such as
	// {"nonce_hash": "3f2a...", "element": "passport"}. No user ID or
	// ref: they go in UserID, Actor and Ref, which erasure unlinks.
	Detail map[string]string
}

// auditVersion is the version of the records Append writes: 2, keyed
// links and pseudonymous users. Version 1 records (before keying: SHA-256
// links, user IDs and refs in clear) are still read and verified.
const auditVersion = 2

// auditRecord is the canonical encoding of an event: encoding/json of
// this struct (fields in this order, Detail keys sorted), which is what
// the link covers. It includes the previous event's link, so the events
// form a chain.
type auditRecord struct {
	V      int               `json:"v"`
	KID    string            `json:"kid,omitempty"` // v2: the audit key's id
	Prev   string            `json:"prev"`
	Time   int64             `json:"ts"`
	Kind   string            `json:"kind"`
	UserID int64             `json:"uid,omitempty"`   // v1 only
	User   string            `json:"user,omitempty"`  // v2: the user's pseudonym
	Actor  string            `json:"actor,omitempty"` // v2: the actor's pseudonym
	Level  string            `json:"level,omitempty"`
	Ref    string            `json:"ref,omitempty"`  // v1 only
	SRef   string            `json:"sref,omitempty"` // v2: the sealed ref
	Codes  []string          `json:"codes,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// AuditError says where the audit chain breaks. It wraps ErrAuditBroken.
type AuditError struct {
	// EventID is the stream ID of the first event that does not verify.
	EventID string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *AuditError) Error() string {
	return fmt.Sprintf("audit chain broken at event %s: %s", e.EventID, e.Reason)
}

// Unwrap returns ErrAuditBroken.
func (e *AuditError) Unwrap() error { return ErrAuditBroken }

// auditScript appends an event if the chain head is still the one its
// hash was computed on (compare-and-set: Redis Lua has no SHA-256), and
// with a retention trims the events older than a minimum stream ID. When
// trimming removed events, the base key gets the previous-event hash the
// first remaining event names, from which AuditTrail.Verify starts the chain.
//
// KEYS[1] stream, KEYS[2] head, KEYS[3] base, and for AppendOnce KEYS[4]
// the event ID's key. ARGV[1] expected head ("" for an empty chain),
// ARGV[2] canonical record, ARGV[3] its hash, ARGV[4] the oldest stream
// ID to keep ("" to keep everything), ARGV[5] (with KEYS[4]) how long the
// event ID is remembered, ms. Answers the new stream ID (that of the
// event appended before under the same event ID), or nil when the head
// moved.
var auditScript = redis.NewScript(`
if KEYS[4] then
  local seen = redis.call('GET', KEYS[4])
  if seen then return seen end
end
local cur = redis.call('GET', KEYS[2]) or ''
if cur ~= ARGV[1] then return false end
local id
if ARGV[4] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[2], 'prev', ARGV[1], 'hash', ARGV[3])
else
  local n = redis.call('XLEN', KEYS[1])
  id = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[4], '*', 'e', ARGV[2], 'prev', ARGV[1], 'hash', ARGV[3])
  if redis.call('XLEN', KEYS[1]) <= n then
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2]
    for i = 1, #first, 2 do
      if first[i] == 'prev' then redis.call('SET', KEYS[3], first[i + 1]) end
    end
  end
end
redis.call('SET', KEYS[2], ARGV[3])
if KEYS[4] then redis.call('SET', KEYS[4], id, 'PX', ARGV[5]) end
return id
`)

func checkEvent(ev Event) error {
	if !nameRE.MatchString(ev.Kind) {
		return fmt.Errorf("%w: kind must be 1 to 64 characters of A-Z a-z 0-9 _ -", ErrInvalid)
	}
	if ev.UserID < 0 || ev.Actor < 0 {
		return fmt.Errorf("%w: negative user ID", ErrInvalid)
	}
	if ev.Level != "" {
		if err := checkLevel(ev.Level); err != nil {
			return err
		}
	}
	if err := checkRef(ev.Ref); err != nil {
		return err
	}
	if err := checkCodes("codes", ev.Codes); err != nil {
		return err
	}
	if len(ev.Detail) > 32 {
		return fmt.Errorf("%w: at most 32 details, got %d", ErrInvalid, len(ev.Detail))
	}
	for k, v := range ev.Detail {
		if !codeRE.MatchString(k) {
			return fmt.Errorf("%w: a detail key is not a code (1 to 128 characters of A-Z a-z 0-9 _ . : -)", ErrInvalid)
		}
		if !codeRE.MatchString(v) {
			return fmt.Errorf("%w: detail %s is not a code or ID (1 to 128 characters of A-Z a-z 0-9 _ . : -)", ErrInvalid, k)
		}
	}
	return nil
}

// AuditTrail is the view of the audit trail, a chain of events keyed
// with HMAC-SHA256 (WithAuditKey). It owns the events (P{audit}:stream),
// the chain head (P{audit}:head), the base left by trimming
// (P{audit}:base), the event IDs of AppendOnce (P{audit}:once:<ih>) and
// each user's audit key (P{u:<uid>}:audit). Get it from Store.Audit.
type AuditTrail struct{ s *Store }

// Audit returns the view of the audit trail.
func (s *Store) Audit() AuditTrail { return AuditTrail{s} }

// Append appends ev to the audit trail. Each event stores the
// HMAC-SHA256, under the audit key, of the previous one's canonical
// encoding, atomically even when many instances audit at once, so that
// Verify can prove nothing was changed, inserted or removed by someone
// without the key. The user and the actor are stored as pseudonyms under
// their audit keys (created with their first event), the ref sealed under
// the user's. With WithAuditRetention it also trims the events older than
// the retention (by their stream ID, which is the Redis server's time in
// ms, against the store's clock), approximately: Redis only drops whole
// stream nodes. Without an audit key it fails with ErrAuditKey.
func (a AuditTrail) Append(ctx context.Context, ev Event) (err error) {
	return a.append(ctx, ev, "")
}

// AuditOnceTTL is how long AppendOnce remembers an event ID.
const AuditOnceTTL = 7 * 24 * time.Hour

// AppendOnce is Append for an event that may be appended more than once,
// such as the outcome of a submission whose processing is retried after
// an Append that failed with ErrUnavailable (which may have appended):
// the first call with id appends ev, and later calls with the same id
// within AuditOnceTTL append nothing and succeed. id is 1 to 128
// characters of A-Z a-z 0-9 _ . : - (Redis only sees its SHA-256).
func (a AuditTrail) AppendOnce(ctx context.Context, ev Event, id string) (err error) {
	if !codeRE.MatchString(id) {
		return fmt.Errorf("audit %s: %w: the event ID must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ev.Kind, ErrInvalid)
	}
	return a.append(ctx, ev, id)
}

// append is Append, with AppendOnce's id if once is not empty.
func (a AuditTrail) append(ctx context.Context, ev Event, once string) (err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	if _, err := s.audit(ctx, ev, once, true); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	return nil
}

// audit appends ev; with a non-empty once, only if no event was appended
// with that ID within AuditOnceTTL. With create, the user and the actor
// get an audit key if they have none; without, a user without one is
// named under a key that is never stored (DeleteUser: nothing may link
// the user again).
func (s *Store) audit(ctx context.Context, ev Event, once string, create bool) (string, error) {
	k := s.auditCur
	if k == nil {
		return "", s.auditErr
	}
	stream, head, base := s.auditKey("stream"), s.auditKey("head"), s.auditKey("base")
	keys, ttl := []string{stream, head, base}, ""
	if once != "" {
		keys = append(keys, s.auditKey("once:"+hashHex(once)))
		ttl = strconv.FormatInt(ms(AuditOnceTTL), 10)
	}

	// The users' audit keys and the chain head, in one round trip.
	var userCmd, actorCmd *redis.Cmd
	var headCmd *redis.StringCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		var err error
		if ev.UserID != 0 {
			if userCmd, err = s.queueUserAuditKey(ctx, p, ev.UserID, create); err != nil {
				return err
			}
		}
		if ev.Actor != 0 && ev.Actor != ev.UserID {
			if actorCmd, err = s.queueUserAuditKey(ctx, p, ev.Actor, create); err != nil {
				return err
			}
		}
		headCmd = p.Get(ctx, head)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("read the users' audit keys and the chain head: %w", err)
	}
	name := func(c *redis.Cmd, userID int64) ([]byte, string, error) {
		if userID == 0 {
			return nil, "", nil
		}
		uk, err := userAuditKeyOf(c)
		if err != nil {
			return nil, "", fmt.Errorf("read a user's audit key: %w", err)
		}
		if uk == nil { // not created: a key nobody keeps
			if uk, err = s.randomBytes(auditUserKeyLen); err != nil {
				return nil, "", err
			}
		}
		return uk, k.pseudonym(uk, userID), nil
	}
	userKey, user, err := name(userCmd, ev.UserID)
	if err != nil {
		return "", err
	}
	actor := user
	if ev.Actor != ev.UserID {
		if _, actor, err = name(actorCmd, ev.Actor); err != nil {
			return "", err
		}
	}
	sref := ""
	if ev.Ref != "" {
		if sref, err = s.sealRef(k, userKey, ev.UserID, ev.Ref); err != nil {
			return "", err
		}
	}
	if ev.Actor == 0 {
		actor = ""
	}

	prev, herr := headCmd.Result()
	for i := range 100 {
		if i > 0 { // another instance appended first
			prev, herr = s.rdb.Get(ctx, head).Result()
		}
		if herr != nil && !errors.Is(herr, redis.Nil) {
			return "", fmt.Errorf("read chain head: %w", herr)
		}
		rec, err := json.Marshal(auditRecord{
			V: auditVersion, KID: k.id, Prev: prev, Time: s.clock().UnixMilli(),
			Kind: ev.Kind, User: user, Actor: actor, Level: ev.Level, SRef: sref,
			Codes: ev.Codes, Detail: ev.Detail,
		})
		if err != nil {
			return "", fmt.Errorf("encode: %w", err)
		}
		minID := ""
		if s.auditKeep > 0 {
			if m := s.clock().UnixMilli() - ms(s.auditKeep); m > 0 {
				minID = strconv.FormatInt(m, 10)
			}
		}
		id, err := auditScript.Run(ctx, s.rdb, keys, prev, rec, k.link(rec), minID, ttl).Text()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return "", err
		}
		return id, nil
	}
	return "", ErrContention
}

// AuditSummary is what Verify found in a chain that verifies.
type AuditSummary struct {
	// Events is how many events verified.
	Events int
	// Unkeyed is how many of them are from before keying (version 1
	// records: SHA-256 links, user IDs and refs in clear). They can only
	// come before the keyed ones, which protect them: the first keyed
	// event names the last unkeyed one.
	Unkeyed int
}

// Verify walks the audit trail from the start and checks every link:
// each event's link is the HMAC-SHA256, under the audit key whose id it
// records (WithAuditKey, current or previous), of its canonical encoding;
// each event names the previous event's link; and the chain head names an
// event of the chain. It returns how many events verified and, at the
// first bad one, an *AuditError (wrapping ErrAuditBroken) with its stream
// ID. Without an audit key it fails with ErrAuditKey.
//
// Events from before keying (version 1) verify as plain SHA-256 links,
// and are counted in AuditSummary.Unkeyed; they may only come before
// every keyed event, and a chain must end with a keyed one: a chain
// rebuilt without the key, whether with SHA-256 or with another key, does
// not verify.
//
// anchors are chain heads recorded elsewhere earlier (AuditTrail.Head,
// kycbot audit head): each must be the link of an event still in the
// chain, or Verify fails. Anchors are what finds events removed from the
// end (with the head moved back) or the whole trail replaced.
//
// After trimming (WithAuditRetention) the first remaining event names an
// event that is gone; the base key holds that name, recorded by the Append
// that trimmed, and the walk starts from it.
func (a AuditTrail) Verify(ctx context.Context, anchors ...string) (sum AuditSummary, err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return sum, s.optErr
	}
	if s.auditCur == nil {
		return sum, s.auditErr
	}
	stream := s.auditKey("stream")
	// The base, the head and the first page in one transaction: events
	// appended (or trimmed) meanwhile do not make a consistent chain look
	// broken.
	var baseCmd, headCmd *redis.StringCmd
	var first *redis.XMessageSliceCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		baseCmd = p.Get(ctx, s.auditKey("base"))
		headCmd = p.Get(ctx, s.auditKey("head"))
		first = p.XRangeN(ctx, stream, "-", "+", 256)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return sum, fmt.Errorf("verify audit: %w", err)
	}
	for _, c := range []redis.Cmder{baseCmd, headCmd, first} {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return sum, fmt.Errorf("verify audit: %w", err)
		}
	}
	prev, head := baseCmd.Val(), headCmd.Val()
	lastID, headSeen, keyed := "", false, false
	anchored := make(map[string]bool, len(anchors))
	for _, h := range anchors {
		anchored[h] = false
	}
	msgs := first.Val()
	for {
		for _, m := range msgs {
			v, reason := s.checkLink(m.Values, prev, keyed)
			if reason != "" {
				return sum, &AuditError{EventID: m.ID, Reason: reason}
			}
			if v == 1 {
				sum.Unkeyed++
			} else {
				keyed = true
			}
			prev, _ = m.Values["hash"].(string)
			if prev == head {
				headSeen = true
			}
			if _, ok := anchored[prev]; ok {
				anchored[prev] = true
			}
			lastID = m.ID
			sum.Events++
		}
		if len(msgs) < 256 {
			break
		}
		msgs, err = s.rdb.XRangeN(ctx, stream, "("+lastID, "+", 256).Result()
		if err != nil {
			return sum, fmt.Errorf("verify audit: %w", err)
		}
	}
	last := lastID
	if last == "" {
		last = "(none)"
	}
	if !headSeen && (head != "" || sum.Events > 0) {
		return sum, &AuditError{EventID: last, Reason: "the chain head names no event of the chain: events were removed from the end"}
	}
	if sum.Events > 0 && !keyed {
		return sum, &AuditError{EventID: last, Reason: "no event of the chain is keyed: either nothing was appended since the upgrade to a keyed chain " +
			"(verify again once the bot has recorded an event) or the chain was rebuilt without the audit key"}
	}
	for _, h := range anchors {
		if !anchored[h] {
			reason := fmt.Sprintf("the anchored head %s is not the link of any event of the chain: the trail was rebuilt or cut back to before it", h)
			if baseCmd.Val() != "" {
				reason += ", or the audit retention trimmed it"
			}
			return sum, &AuditError{EventID: last, Reason: reason}
		}
	}
	return sum, nil
}

// checkLink returns the record version of an event and what is wrong
// with it, or "". keyed: a keyed event came before it.
func (s *Store) checkLink(v map[string]any, prev string, keyed bool) (int, string) {
	e, _ := v["e"].(string)
	p, _ := v["prev"].(string)
	h, _ := v["hash"].(string)
	if p != prev {
		return 0, "it does not name the previous event's link: an event before it was removed, inserted or changed"
	}
	var rec auditRecord
	if err := json.Unmarshal([]byte(e), &rec); err != nil {
		return 0, "its content is not an audit record"
	}
	switch rec.V {
	case 1:
		if keyed {
			return 1, "an event from before keying (version 1) after keyed events: the chain was changed without the audit key"
		}
		sum := sha256.Sum256([]byte(e))
		if !hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(h)) {
			return 1, "its hash does not match its content: the event was changed"
		}
	case auditVersion:
		k := s.auditByID[rec.KID]
		if k == nil {
			return rec.V, fmt.Sprintf("it is keyed with audit key %q, which is neither the current audit key (%s) nor a previous one given: "+
				"give the previous Passport key, or the chain was rebuilt with another key", rec.KID, s.auditCur.id)
		}
		if !hmac.Equal([]byte(k.link([]byte(e))), []byte(h)) {
			return rec.V, "its link does not match its content under the audit key: the event was changed, or the chain rebuilt without the key"
		}
	default:
		return rec.V, fmt.Sprintf("its record version %d is unknown", rec.V)
	}
	if rec.Prev != p {
		return rec.V, "its content names another previous event than its prev field"
	}
	return rec.V, ""
}
