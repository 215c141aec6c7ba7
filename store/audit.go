package store

import (
	"context"
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
// document number fits.
type Event struct {
	// Kind says what happened, such as "issued", "verified", "rejected" or
	// "deleted" (1 to 64 characters of A-Z a-z 0-9 _ -).
	Kind string
	// UserID is the Telegram user the event is about (0 for none).
	UserID int64
	// Level is the verification level, if any.
	Level string
	// Ref is the business's reference, if any.
	Ref string
	// Codes are problem codes.
	Codes []string
	// Detail holds more codes or IDs by name (at most 32; keys and values
	// are codes of 1 to 128 characters of A-Z a-z 0-9 _ . : -), such as
	// {"nonce_hash": "3f2a...", "element": "passport"}.
	Detail map[string]string
}

// auditRecord is the canonical encoding of an event: encoding/json of
// this struct (fields in this order, Detail keys sorted), which is what
// the hash covers. It includes the previous event's hash, so the events
// form a chain.
type auditRecord struct {
	V      int               `json:"v"`
	Prev   string            `json:"prev"`
	Time   int64             `json:"ts"`
	Kind   string            `json:"kind"`
	UserID int64             `json:"uid,omitempty"`
	Level  string            `json:"level,omitempty"`
	Ref    string            `json:"ref,omitempty"`
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
	if ev.UserID < 0 {
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

// AuditTrail is the view of the audit trail, a hash chain of events. It
// owns the events (P{audit}:stream), the chain head (P{audit}:head), the
// base left by trimming (P{audit}:base) and the event IDs of AppendOnce
// (P{audit}:once:<ih>). Get it from Store.Audit.
type AuditTrail struct{ s *Store }

// Audit returns the view of the audit trail.
func (s *Store) Audit() AuditTrail { return AuditTrail{s} }

// Append appends ev to the audit trail. Each event stores the SHA-256 of
// the previous one's canonical encoding, atomically even when many
// instances audit at once, so that Verify can prove nothing was
// changed, inserted or removed. With WithAuditRetention it also trims the
// events older than the retention (by their stream ID, which is the Redis
// server's time in ms, against the store's clock), approximately: Redis
// only drops whole stream nodes.
func (a AuditTrail) Append(ctx context.Context, ev Event) (err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	if _, err := s.audit(ctx, ev, ""); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	return nil
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
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	if !codeRE.MatchString(id) {
		return fmt.Errorf("audit %s: %w: the event ID must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ev.Kind, ErrInvalid)
	}
	if _, err := s.audit(ctx, ev, id); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	return nil
}

// audit appends ev; with a non-empty once, only if no event was appended
// with that ID within AuditOnceTTL.
func (s *Store) audit(ctx context.Context, ev Event, once string) (string, error) {
	stream, head, base := s.auditKey("stream"), s.auditKey("head"), s.auditKey("base")
	keys, ttl := []string{stream, head, base}, ""
	if once != "" {
		keys = append(keys, s.auditKey("once:"+hashHex(once)))
		ttl = strconv.FormatInt(ms(AuditOnceTTL), 10)
	}
	for range 100 {
		prev, err := s.rdb.Get(ctx, head).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("read chain head: %w", err)
		}
		rec, err := json.Marshal(auditRecord{
			V: 1, Prev: prev, Time: s.clock().UnixMilli(),
			Kind: ev.Kind, UserID: ev.UserID, Level: ev.Level, Ref: ev.Ref,
			Codes: ev.Codes, Detail: ev.Detail,
		})
		if err != nil {
			return "", fmt.Errorf("encode: %w", err)
		}
		sum := sha256.Sum256(rec)
		minID := ""
		if s.auditKeep > 0 {
			if m := s.clock().UnixMilli() - ms(s.auditKeep); m > 0 {
				minID = strconv.FormatInt(m, 10)
			}
		}
		id, err := auditScript.Run(ctx, s.rdb, keys, prev, rec, hex.EncodeToString(sum[:]), minID, ttl).Text()
		if errors.Is(err, redis.Nil) {
			continue // another instance appended first
		}
		if err != nil {
			return "", err
		}
		return id, nil
	}
	return "", ErrContention
}

// Verify walks the audit trail from the start and checks every link:
// each event's hash covers its canonical encoding, each event names the
// previous event's hash, and the chain head names an event of the chain.
// It returns how many events verified and, at the first bad one, an
// *AuditError (wrapping ErrAuditBroken) with its stream ID.
//
// After trimming (WithAuditRetention) the first remaining event names an
// event that is gone; the base key holds that name, recorded by the Append
// that trimmed, and the walk starts from it: removing events from the
// start other than by that trimming is still detected, as is any change
// inside. The chain is not keyed (see the package documentation).
func (a AuditTrail) Verify(ctx context.Context) (n int, err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return 0, s.optErr
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
		return 0, fmt.Errorf("verify audit: %w", err)
	}
	for _, c := range []redis.Cmder{baseCmd, headCmd, first} {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("verify audit: %w", err)
		}
	}
	prev, head := baseCmd.Val(), headCmd.Val()
	lastID, headSeen := "", false
	msgs := first.Val()
	for {
		for _, m := range msgs {
			if reason := checkLink(m.Values, prev); reason != "" {
				return n, &AuditError{EventID: m.ID, Reason: reason}
			}
			prev, _ = m.Values["hash"].(string)
			if prev == head {
				headSeen = true
			}
			lastID = m.ID
			n++
		}
		if len(msgs) < 256 {
			break
		}
		msgs, err = s.rdb.XRangeN(ctx, stream, "("+lastID, "+", 256).Result()
		if err != nil {
			return n, fmt.Errorf("verify audit: %w", err)
		}
	}
	if !headSeen && (head != "" || n > 0) {
		id := lastID
		if id == "" {
			id = "(none)"
		}
		return n, &AuditError{EventID: id, Reason: "the chain head names no event of the chain: events were removed from the end"}
	}
	return n, nil
}

// checkLink returns what is wrong with an event, or "".
func checkLink(v map[string]any, prev string) string {
	e, _ := v["e"].(string)
	p, _ := v["prev"].(string)
	h, _ := v["hash"].(string)
	if p != prev {
		return "it does not name the previous event's hash: an event before it was removed, inserted or changed"
	}
	sum := sha256.Sum256([]byte(e))
	if hex.EncodeToString(sum[:]) != h {
		return "its hash does not match its content: the event was changed"
	}
	var rec auditRecord
	if err := json.Unmarshal([]byte(e), &rec); err != nil {
		return "its content is not an audit record"
	}
	if rec.Prev != p {
		return "its content names another previous event than its prev field"
	}
	return ""
}
