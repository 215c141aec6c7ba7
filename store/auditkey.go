package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ErrAuditKey: the audit key is missing or not 32 bytes (see
// WithAuditKey). The audit chain is never written unkeyed.
var ErrAuditKey = errors.New("store: audit key missing or invalid")

// auditKeys is what WithAuditKey derives from one audit key.
type auditKeys struct {
	id     string // key id: a short hash of the key, recorded in each event
	chain  []byte // HMAC-SHA256 key of the chain's links
	pseudo []byte // HMAC-SHA256 key of user pseudonyms
	refs   []byte // HMAC-SHA256 key of each user's ref-sealing key
}

// newAuditKeys derives the keys of one 32-byte audit key; what names it
// in errors, which wrap ErrAuditKey.
func newAuditKeys(key []byte, what string) (*auditKeys, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: %s must be 32 bytes, got %d", ErrAuditKey, what, len(key))
	}
	sub := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	id := sha256.New()
	id.Write([]byte("kycbot audit key id\x00"))
	id.Write(key)
	return &auditKeys{
		id:     hex.EncodeToString(id.Sum(nil)[:4]),
		chain:  sub("kycbot audit chain"),
		pseudo: sub("kycbot audit pseudonym"),
		refs:   sub("kycbot audit ref"),
	}, nil
}

// link is the hex HMAC-SHA256 of a canonical record: what the next event
// names as prev.
func (k *auditKeys) link(rec []byte) string {
	m := hmac.New(sha256.New, k.chain)
	m.Write(rec)
	return hex.EncodeToString(m.Sum(nil))
}

// userMAC is the HMAC-SHA256 under base of the user's audit key and ID.
// The user key is 32 bytes (nil for no user), so the input is unambiguous.
func userMAC(base, userKey []byte, userID int64) []byte {
	m := hmac.New(sha256.New, base)
	m.Write(userKey)
	m.Write([]byte(strconv.FormatInt(userID, 10)))
	return m.Sum(nil)
}

// pseudonym names a user in events: 16 bytes (hex) of an HMAC under the
// audit key of the user's random audit key and ID. Neither Redis alone
// (no audit key) nor the audit key alone (once erasure deleted the user's
// key) can tell which user it names.
func (k *auditKeys) pseudonym(userKey []byte, userID int64) string {
	return hex.EncodeToString(userMAC(k.pseudo, userKey, userID)[:16])
}

// refAEAD is the AES-256-GCM that seals the refs of a user's events (no
// user: nil userKey and 0).
func (k *auditKeys) refAEAD(userKey []byte, userID int64) cipher.AEAD {
	block, err := aes.NewCipher(userMAC(k.refs, userKey, userID))
	if err != nil {
		panic("store: aes: " + err.Error()) // a 32-byte key never fails
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("store: gcm: " + err.Error())
	}
	return aead
}

// sealRef seals ref under the user's ref key, bound to the key id:
// unpadded base64url of the nonce and ciphertext.
func (s *Store) sealRef(k *auditKeys, userKey []byte, userID int64, ref string) (string, error) {
	sealed, err := s.seal(k.refAEAD(userKey, userID), []byte(ref), []byte(k.id))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openRef opens what sealRef sealed; false if it does not open.
func openRef(k *auditKeys, userKey []byte, userID int64, sref string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(sref)
	if err != nil {
		return "", false
	}
	ref, err := openSealed(k.refAEAD(userKey, userID), b, []byte(k.id))
	return string(ref), err == nil
}

// WithAuditKey sets the 32-byte key under which the audit chain is keyed
// (each link an HMAC-SHA256) and the users are named in events (see the
// package documentation, Audit trail). Redis must not hold it: whoever
// has it can rebuild the chain. previous are keys used before (after a
// rotation of the key they derive from): events keyed with them still
// verify and their users still resolve; new events use key. Every
// instance sharing the Redis needs the same key. Without it,
// AuditTrail.Append, AppendOnce, Verify and DeleteUser fail with
// ErrAuditKey. The store keeps no reference to the caller's slices.
func WithAuditKey(key []byte, previous ...[]byte) Option {
	return func(s *Store) {
		s.auditCur, s.auditByID = nil, nil
		cur, err := newAuditKeys(key, "audit key")
		if err != nil {
			s.auditErr = err
			return
		}
		byID := map[string]*auditKeys{cur.id: cur}
		for i, p := range previous {
			k, err := newAuditKeys(p, fmt.Sprintf("previous audit key %d", i+1))
			if err != nil {
				s.auditErr = err
				return
			}
			if _, dup := byID[k.id]; !dup {
				byID[k.id] = k
			}
		}
		s.auditCur, s.auditByID, s.auditErr = cur, byID, nil
	}
}

// auditUserKeyLen is the length of a user's random audit key.
const auditUserKeyLen = 32

// userAuditKeyScript reads a user's audit key, creating it (ARGV[1]) if
// absent and ARGV[2] is "1" (else answers nil), and with ARGV[3] (ms)
// sets its TTL. KEYS[1] the key's key.
var userAuditKeyScript = `
local k = redis.call('GET', KEYS[1])
if not k then
  if ARGV[2] ~= '1' then return false end
  redis.call('SET', KEYS[1], ARGV[1])
  k = ARGV[1]
end
if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return k
`

// queueUserAuditKey adds to p the command that reads userID's audit key
// (created if create).
func (s *Store) queueUserAuditKey(ctx context.Context, p redis.Pipeliner, userID int64, create bool) (*redis.Cmd, error) {
	fresh, err := s.randomBytes(auditUserKeyLen)
	if err != nil {
		return nil, err
	}
	flag, ttl := "0", ""
	if create {
		flag = "1"
		if s.auditKeep > 0 {
			ttl = strconv.FormatInt(ms(s.auditKeep), 10)
		}
	}
	// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT, and the
	// script is short.
	return p.Eval(ctx, userAuditKeyScript, []string{s.userKey(userID, "audit")}, fresh, flag, ttl), nil
}

// userAuditKeyOf returns what a command of queueUserAuditKey answered:
// the key, or nil when the user has none (and none was created).
func userAuditKeyOf(c *redis.Cmd) ([]byte, error) {
	v, err := c.Text()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(v) != auditUserKeyLen {
		return nil, fmt.Errorf("a user's audit key in Redis is %d bytes, not %d: it was changed outside kycbot", len(v), auditUserKeyLen)
	}
	return []byte(v), nil
}
