package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key when WithPrefix is not given.
const DefaultPrefix = "kycbot:"

// NonceTombstoneTTL is how long past a request's expiry the store remembers
// what became of its nonce (used, superseded or expired), so that a late or
// replayed nonce is reported as such instead of as unknown.
const NonceTombstoneTTL = 7 * 24 * time.Hour

// outboxGroup is the consumer group of the outbox stream.
const outboxGroup = "deliveries"

// Sentinel errors. Every error the store returns wraps at most one of them
// (test with errors.Is) plus the Redis error, if any. No error text ever
// holds a nonce, a payload or a password.
var (
	// ErrNotFound: the request, delivery or record does not exist (or has
	// expired).
	ErrNotFound = errors.New("store: not found")
	// ErrInvalid: an argument is malformed (a ref outside the deep link
	// alphabet, an unknown state, a non-positive TTL, ...). The error says
	// which one and what is allowed.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrNonceUnknown: no request was ever issued with this nonce, or its
	// tombstone is gone (NonceTombstoneTTL after expiry).
	ErrNonceUnknown = errors.New("store: nonce unknown")
	// ErrNonceOtherUser: the nonce was issued to another user. The nonce
	// is not burned: its rightful user can still use it.
	ErrNonceOtherUser = errors.New("store: nonce issued to another user")
	// ErrNonceExpired: the request of the nonce expired before it was used.
	ErrNonceExpired = errors.New("store: nonce expired")
	// ErrNonceUsed: the nonce was already consumed (a replay).
	ErrNonceUsed = errors.New("store: nonce already used")
	// ErrNonceSuperseded: a newer request was issued to the same user.
	ErrNonceSuperseded = errors.New("store: nonce superseded by a newer request")
	// ErrNonceCancelled: the user cancelled the request (Requests.Cancel)
	// before the nonce was used.
	ErrNonceCancelled = errors.New("store: nonce of a cancelled request")
	// ErrOutboxKey: the outbox key is missing or not 32 bytes (see
	// WithOutboxKey). Outbox payloads are never stored in clear.
	ErrOutboxKey = errors.New("store: outbox key missing or invalid")
	// ErrOutboxDecrypt: an outbox payload does not decrypt with the
	// configured key (another key, or a tampered entry).
	ErrOutboxDecrypt = errors.New("store: outbox payload cannot be decrypted")
	// ErrSessionKey: the session key is missing or not 32 bytes (see
	// WithSessionKey). gotd sessions are never stored in clear.
	ErrSessionKey = errors.New("store: session key missing or invalid")
	// ErrSessionDecrypt: a stored gotd session does not decrypt with the
	// configured key (another key, or a tampered value): log in again.
	ErrSessionDecrypt = errors.New("store: session cannot be decrypted")
	// ErrAuditBroken: the audit chain does not verify; see AuditError for
	// the event.
	ErrAuditBroken = errors.New("store: audit chain broken")
	// ErrStateNotFound: the gotd updates state of the user does not exist
	// (SetPts and friends before SetState, as gotd's in-memory storage).
	ErrStateNotFound = errors.New("store: updates state not found")
	// ErrContention: an optimistic update lost the race too many times in
	// a row; retrying later is safe.
	ErrContention = errors.New("store: too much contention, retry")
	// ErrDocumentKey: the document key is missing or shorter than 32 bytes
	// (see WithDocumentKey). Documents are never keyed by a plain hash.
	ErrDocumentKey = errors.New("store: document key missing or invalid")
	// ErrDocumentTaken: the identity document is already claimed by
	// another Telegram user (Documents.Claim returns the owner).
	ErrDocumentTaken = errors.New("store: document already claimed by another user")
	// ErrUnavailable: Redis could not be reached or did not answer in time
	// (connection refused or reset, a timeout, a server still loading its
	// data or a cluster without a master). The operation may or may not
	// have taken effect if it was a write that timed out; every operation
	// of the store can be retried safely once Redis is back.
	ErrUnavailable = errors.New("store: redis unreachable")
)

// Store keeps everything kycbot shares between its instances in Redis.
// It is safe for concurrent use; several processes may share one Redis
// (with the same prefix) and still get one outcome per operation.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time

	randMu sync.Mutex
	random io.Reader

	outbox    keyRing // nil without a valid WithOutboxKey
	outboxErr error   // why outbox is nil

	docKey    []byte   // HMAC-SHA256 key of document claims; nil without a valid WithDocumentKey
	docErr    error    // why docKey is nil
	docPrev   [][]byte // the document keys before a rotation (WithDocumentKey)
	review    keyRing  // seals the submissions kept for review; nil without a valid WithReviewKey
	reviewErr error    // why review is nil

	queue    *queueKeys // nil without a valid WithQueueKey
	queueErr error      // why queue is nil

	session    keyRing // nil without a valid WithSessionKey
	sessionErr error   // why session is nil

	auditCur  *auditKeys            // nil without a valid WithAuditKey
	auditByID map[string]*auditKeys // the current and previous audit keys by key id
	auditErr  error                 // why auditCur is nil

	scanLink    keyRing // nil without a valid WithScanLinkKey
	scanLinkErr error   // why scanLink is nil

	statusKeep time.Duration // status retention, 0 for forever
	auditKeep  time.Duration // audit retention, 0 for forever

	eventKeep    time.Duration // WithEventRetention
	eventKeepSet bool          // eventKeep was set (else DefaultEventRetention)

	replicas int // WithReplicas: replicas that must acknowledge the writes that must survive a failover

	hashes userHashes // the user access hashes read or written lately (hashcache.go)

	optErr error // a bad option, reported by every method
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the string every key starts with (default "kycbot:"),
// so that several applications or tenants can share a Redis. It must not
// contain '{' or '}', which would break the cluster hash tags.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithClock sets the clock (default time.Now). Expiry of requests and
// dedupe marks, status times, stats days and audit times come from it.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithRandom sets the source of request IDs, nonces and encryption nonces
// (default crypto/rand.Reader). For tests only: it must be unpredictable in
// production.
func WithRandom(r io.Reader) Option {
	return func(s *Store) {
		if r != nil {
			s.random = r
		}
	}
}

// WithOutboxKey sets the 32-byte AES-256-GCM key that seals outbox payloads
// at rest. Every instance sharing the Redis needs the same key. Without it,
// Outbox.Enqueue and Outbox.Claim fail with ErrOutboxKey. The store keeps
// no reference to the caller's slice.
//
// previous are keys the outbox was sealed under before (a rotation): new
// entries are sealed under key, and each entry is opened with the key
// whose key id it records, so that entries queued before the rotation
// still go out. Keep a previous key until no entry sealed under it is
// left (Outbox.Depth after the retry window); an entry no configured key
// opens fails as before, with ErrOutboxDecrypt naming its key id.
func WithOutboxKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.outbox, s.outboxErr = newKeyRing(key, previous, "outbox", outboxKeyIDLabel, ErrOutboxKey)
	}
}

// WithSessionKey sets the 32-byte AES-256-GCM key that seals the gotd
// sessions (Sessions.Session) at rest: each holds an MTProto auth key,
// which lets whoever has it act as the bot. Without it the session
// storages fail with ErrSessionKey; a session sealed under another key
// fails to load with ErrSessionDecrypt. The store keeps no reference to
// the caller's slice.
//
// previous are keys the sessions were sealed under before (a rotation):
// a session is stored under key and loaded with whichever key of the
// ring opens it, so that the instances do not log in again after the
// rotation; the next StoreSession seals it under key.
func WithSessionKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.session, s.sessionErr = newKeyRing(key, previous, "session", "kycbot session key id\x00", ErrSessionKey)
	}
}

// MinDocumentKeyLen is the shortest key WithDocumentKey accepts.
const MinDocumentKeyLen = 32

// WithDocumentKey sets the secret key (at least 32 random bytes) of the
// HMAC-SHA256 under which Documents.Claim records identity documents. A
// plain hash would not do: document numbers are few enough to be tried
// one by one. Every instance sharing the Redis needs the same key.
// previous are the keys used before a rotation: a claim recorded under one
// of them still refuses another user (Documents.ClaimAll looks them up,
// one round trip more), and new claims are recorded under key; without
// them, changing the key forgets every claim. Without a key
// Documents.Claim fails with ErrDocumentKey. The store keeps a copy of the
// keys; a previous key shorter than 32 bytes is ignored.
func WithDocumentKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.docPrev = nil
		if len(key) < MinDocumentKeyLen {
			s.docKey = nil
			s.docErr = fmt.Errorf("%w: document key must be at least %d bytes, got %d", ErrDocumentKey, MinDocumentKeyLen, len(key))
			return
		}
		s.docKey, s.docErr = append([]byte(nil), key...), nil
		for _, p := range previous {
			if len(p) >= MinDocumentKeyLen {
				s.docPrev = append(s.docPrev, append([]byte(nil), p...))
			}
		}
	}
}

// WithStatusRetention keeps a user's statuses for d after their last
// Statuses.Set (config Retention.StatusDays): the status hash gets that
// TTL, refreshed by every Statuses.Set, and the store treats statuses older
// than that (by its clock) as gone, taking them out of the stats totals.
// Document claims live as long (see Documents.Claim). 0, the default,
// keeps them forever; a negative d is an error reported by every method.
func WithStatusRetention(d time.Duration) Option {
	return func(s *Store) {
		if d < 0 {
			s.optErr = fmt.Errorf("%w: status retention %v is negative (0 keeps statuses forever)", ErrInvalid, d)
			return
		}
		s.statusKeep = d
	}
}

// WithAuditRetention keeps audit events for about d (config
// Retention.AuditDays): every AuditTrail.Append trims the events older
// than its clock's now - d from the stream, approximately (whole stream
// nodes only, so some older events may remain). The chain stays
// verifiable from the first remaining event. 0, the default, keeps them forever; a
// negative d is an error reported by every method.
func WithAuditRetention(d time.Duration) Option {
	return func(s *Store) {
		if d < 0 {
			s.optErr = fmt.Errorf("%w: audit retention %v is negative (0 keeps events forever)", ErrInvalid, d)
			return
		}
		s.auditKeep = d
	}
}

// WithReplicas makes the writes whose loss in a failover would lose a
// submission (Queue.Append, Requests.Issue, Requests.Consume) wait until n
// replicas have them (WAIT n, in the same round trip, up to WaitTimeout):
// fewer fails them with ErrUnavailable, and the caller repeats them
// (each is repeatable). 0, the default, waits for none, as with a single
// server. Sentinel and single servers with replicas only: in a Redis
// Cluster WAIT would have to go to every master written, and a negative
// n is an error, both reported by every method. See docs/operations.md
// for what to choose.
func WithReplicas(n int) Option {
	return func(s *Store) {
		if n < 0 {
			s.optErr = fmt.Errorf("%w: replicas to wait for %d is negative", ErrInvalid, n)
			return
		}
		s.replicas = n
	}
}

// New returns a Store on client. Options are applied in order; an invalid
// one (such as a prefix with a brace) makes every method fail with an
// error that says so. Give it a client set up as Open does it: short
// timeouts and no command retries (see DialTimeout).
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{
		rdb:         client,
		prefix:      DefaultPrefix,
		now:         time.Now,
		random:      rand.Reader,
		outboxErr:   fmt.Errorf("%w: no outbox key configured (WithOutboxKey); payloads are never stored in clear", ErrOutboxKey),
		docErr:      fmt.Errorf("%w: no document key configured (WithDocumentKey); documents are never recorded under a plain hash", ErrDocumentKey),
		queueErr:    fmt.Errorf("%w: no queue key configured (WithQueueKey); updates are never queued in clear", ErrQueueKey),
		sessionErr:  fmt.Errorf("%w: no session key configured (WithSessionKey); sessions are never stored in clear", ErrSessionKey),
		scanLinkErr: fmt.Errorf("%w: no scan link key configured (WithScanLinkKey); scan links are never stored in clear", ErrScanLinkKey),
		reviewErr:   fmt.Errorf("%w: no review key configured (WithReviewKey); submissions for review are never stored in clear", ErrReviewKey),
		auditErr:    fmt.Errorf("%w: no audit key configured (WithAuditKey); the audit chain is never written unkeyed", ErrAuditKey),
	}
	for _, o := range opts {
		o(s)
	}
	if s.optErr == nil && strings.ContainsAny(s.prefix, "{}") {
		s.optErr = fmt.Errorf("%w: prefix %q contains a brace, which would break Redis Cluster hash tags", ErrInvalid, s.prefix)
	}
	if _, cluster := client.(*redis.ClusterClient); cluster && s.optErr == nil && s.replicas > 0 {
		s.optErr = fmt.Errorf("%w: WithReplicas(%d) on a Redis Cluster: waiting for replicas is for Sentinel and single servers", ErrInvalid, s.replicas)
	}
	if client == nil {
		s.optErr = fmt.Errorf("%w: nil redis client", ErrInvalid)
	}
	return s
}

// Client returns the Redis client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// outboxKeyIDLabel is hashed with the outbox key into its key id.
const outboxKeyIDLabel = "kycbot outbox key id\x00"

// newAEAD returns the AES-256-GCM of a 32-byte key, and its key id (a
// short hash of the key under idLabel); what names the key in errors,
// which wrap sentinel.
func newAEAD(key []byte, what, idLabel string, sentinel error) (cipher.AEAD, string, error) {
	if len(key) != 32 {
		return nil, "", fmt.Errorf("%w: %s key must be 32 bytes (AES-256), got %d", sentinel, what, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", sentinel, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", sentinel, err)
	}
	h := sha256.New()
	h.Write([]byte(idLabel))
	h.Write(key)
	return aead, hex.EncodeToString(h.Sum(nil)[:4]), nil
}

// seal encrypts plain with aead under a random nonce from the store's
// source, bound to aad: the nonce followed by the ciphertext. Outbox
// payloads, queue entries and gotd sessions are sealed this way.
func (s *Store) seal(aead cipher.AEAD, plain, aad []byte) ([]byte, error) {
	nonce, err := s.randomBytes(aead.NonceSize())
	if err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, aad), nil
}

// errSealedShort: a sealed value is shorter than a nonce and a tag.
var errSealedShort = errors.New("sealed value too short")

// openSealed decrypts what seal sealed with aead and aad.
func openSealed(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	ns := aead.NonceSize()
	if len(sealed) < ns+aead.Overhead() {
		return nil, errSealedShort
	}
	return aead.Open(nil, sealed[:ns], sealed[ns:], aad)
}

// clock returns the current time truncated to milliseconds, the precision
// kept in Redis, so that what a method returns equals what is read back.
func (s *Store) clock() time.Time {
	return time.UnixMilli(s.now().UnixMilli()).UTC()
}

// randomBytes reads n bytes from the random source.
func (s *Store) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	s.randMu.Lock()
	defer s.randMu.Unlock()
	if _, err := io.ReadFull(s.random, b); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	return b, nil
}

// Keys. See the table in doc.go.

func (s *Store) key(name string) string { return s.prefix + name }

// userKey is a key about one chat user; the hash tag keeps all of them in
// one cluster slot so that a script may touch several.
func (s *Store) userKey(userID int64, name string) string {
	return s.prefix + "{u:" + strconv.FormatInt(userID, 10) + "}:" + name
}

// selfKey is a gotd updates key of the bot (self) user.
func (s *Store) selfKey(selfID int64, name string) string {
	return s.prefix + "gotd:{s:" + strconv.FormatInt(selfID, 10) + "}:" + name
}

func (s *Store) outboxKey(name string) string { return s.prefix + "{outbox}:" + name }
func (s *Store) auditKey(name string) string  { return s.prefix + "{audit}:" + name }
func (s *Store) statsKey(name string) string  { return s.prefix + "{stats}:" + name }

// hashHex is the hex SHA-256 of s: how nonces and event IDs appear in key
// names.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Validation. The alphabets keep personal data out: a name, an address or
// a document number does not fit in a code.

var (
	// refRE is the Telegram deep link payload alphabet (start parameter).
	refRE = regexp.MustCompile(`^[A-Za-z0-9_-]{0,64}$`)
	// nameRE is for levels and audit kinds.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// langRE is a BCP 47-like language tag such as "en" or "pt-BR".
	langRE = regexp.MustCompile(`^([A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4})?$`)
	// codeRE is for problem codes, detail keys and values, event IDs and
	// outbox kinds: identifiers, never free text.
	codeRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	// idRE is a request ID: 16 bytes in unpadded base64url.
	idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
	// nonceRE is a nonce: 32 bytes in unpadded base64url.
	nonceRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	// reasonRE is a park reason: short, printable ASCII, no quotes.
	reasonRE = regexp.MustCompile(`^[A-Za-z0-9 _.:/()=,-]{1,200}$`)
)

func checkUser(userID int64) error {
	if userID <= 0 {
		return fmt.Errorf("%w: user ID %d is not a Telegram user ID (must be positive)", ErrInvalid, userID)
	}
	return nil
}

func checkRef(ref string) error {
	if !refRE.MatchString(ref) {
		return fmt.Errorf("%w: ref must be at most 64 characters of A-Z a-z 0-9 _ - (the deep link alphabet), got %d characters", ErrInvalid, len(ref))
	}
	return nil
}

func checkLevel(level string) error {
	if !nameRE.MatchString(level) {
		return fmt.Errorf("%w: level must be 1 to 64 characters of A-Z a-z 0-9 _ - (got %d characters)", ErrInvalid, len(level))
	}
	return nil
}

func checkCodes(what string, codes []string) error {
	if len(codes) > 64 {
		return fmt.Errorf("%w: at most 64 %s, got %d", ErrInvalid, what, len(codes))
	}
	for i, c := range codes {
		if !codeRE.MatchString(c) {
			return fmt.Errorf("%w: %s[%d] is not a code (1 to 128 characters of A-Z a-z 0-9 _ . : -)", ErrInvalid, what, i)
		}
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("%w: TTL %v must be at least 1ms", ErrInvalid, ttl)
	}
	return nil
}

// ms formats a duration as whole milliseconds, rounded up.
func ms(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
