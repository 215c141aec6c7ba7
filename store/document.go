package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// DocumentKey identifies an identity document. It is personal data: the
// store only ever keeps a keyed hash (HMAC-SHA256) of it, and no error
// holds the number.
type DocumentKey struct {
	// Country is the ISO 3166-1 alpha-2 code of the issuing country, such
	// as "DE" (Telegram Passport's country_code); case and surrounding
	// spaces do not matter.
	Country string
	// Type is the kind of document, such as "passport", "identity_card",
	// "driver_license" or "internal_passport" (Telegram Passport's element
	// types): 1 to 64 characters of A-Z a-z 0-9 _ -, case does not matter.
	Type string
	// Number is the document number as written on it or typed by the
	// user: case, spaces, dashes, dots and slashes do not matter
	// ("ab-12 345/6" is "AB123456"). After removing those, 1 to 64
	// characters, none of them a control character.
	Number string
}

// maxDocumentNumber is the longest normalized document number, in
// characters.
const maxDocumentNumber = 64

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// normalize returns the canonical country, type and number of d. Its
// errors never hold the number.
func (d DocumentKey) normalize() (country, typ, number string, err error) {
	country = strings.ToUpper(strings.TrimSpace(d.Country))
	if !countryRE.MatchString(country) {
		return "", "", "", fmt.Errorf("%w: document country must be an ISO 3166-1 alpha-2 code such as DE", ErrInvalid)
	}
	typ = strings.ToLower(strings.TrimSpace(d.Type))
	if !nameRE.MatchString(typ) {
		return "", "", "", fmt.Errorf("%w: document type must be 1 to 64 characters of A-Z a-z 0-9 _ - such as passport", ErrInvalid)
	}
	if !utf8.ValidString(d.Number) {
		return "", "", "", fmt.Errorf("%w: document number is not valid UTF-8", ErrInvalid)
	}
	number = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '.' || r == '/' {
			return -1
		}
		return unicode.ToUpper(r)
	}, d.Number)
	switch n := utf8.RuneCountInString(number); {
	case n == 0:
		return "", "", "", fmt.Errorf("%w: document number is empty (once spaces, dashes, dots and slashes are removed)", ErrInvalid)
	case n > maxDocumentNumber:
		return "", "", "", fmt.Errorf("%w: document number is longer than %d characters (once spaces, dashes, dots and slashes are removed)", ErrInvalid, maxDocumentNumber)
	}
	if strings.IndexFunc(number, unicode.IsControl) >= 0 {
		return "", "", "", fmt.Errorf("%w: document number holds a control character", ErrInvalid)
	}
	return country, typ, number, nil
}

// documentHash is the hex HMAC-SHA256 of a normalized document under
// key. The parts are separated by NUL, which none of them may contain.
func documentHash(key []byte, country, typ, number string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kycbot document v1\x00" + country + "\x00" + typ + "\x00" + number))
	return hex.EncodeToString(m.Sum(nil))
}

// claimDocScript records the owner of a document unless it has one, and
// answers the owner. The owner's own claim refreshes the TTL.
//
// KEYS[1] document key. ARGV[1] user ID, ARGV[2] TTL ms (0 for none).
var claimDocScript = redis.NewScript(`
local owner = redis.call('GET', KEYS[1])
local keep = tonumber(ARGV[2])
if not owner then
  if keep > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', keep) else redis.call('SET', KEYS[1], ARGV[1]) end
  return ARGV[1]
end
if owner == ARGV[1] then
  if keep > 0 then redis.call('PEXPIRE', KEYS[1], keep) else redis.call('PERSIST', KEYS[1]) end
end
return owner
`)

// releaseDocScript deletes a document key if the user still owns it.
//
// KEYS[1] document key. ARGV[1] user ID.
var releaseDocScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Documents is the view of identity document claims. It owns the claims
// (P doc:<dh>) and each user's list of them (P{u:<uid>}:docs). Get it from
// Store.Documents.
type Documents struct{ s *Store }

// Documents returns the view of identity document claims.
func (s *Store) Documents() Documents { return Documents{s} }

// Claim records that the identity document doc belongs to the
// Telegram user userID, so that one document cannot verify two accounts.
// It returns the document's owner: userID when the claim holds (claiming
// one's own document again is fine, and refreshes it), or the other user
// who claimed it first, together with an error wrapping
// ErrDocumentTaken. Concurrent claims of one document get one owner.
//
// The document is recorded as the HMAC-SHA256, under the WithDocumentKey
// key, of its normalized country, type and number (see DocumentKey);
// without that key Claim fails with ErrDocumentKey. Neither keys,
// values nor errors hold the number. Claims live as long as statuses
// (WithStatusRetention, counted from the last claim; forever by
// default), so call Claim at every verification, and DeleteUser
// releases them.
func (dv Documents) Claim(ctx context.Context, doc DocumentKey, userID int64) (owner int64, err error) {
	defer markUnavailable(&err)
	s := dv.s
	if s.optErr != nil {
		return 0, s.optErr
	}
	if s.docKey == nil {
		return 0, fmt.Errorf("claim document: %w", s.docErr)
	}
	if err := checkUser(userID); err != nil {
		return 0, fmt.Errorf("claim document: %w", err)
	}
	country, typ, number, err := doc.normalize()
	if err != nil {
		return 0, fmt.Errorf("claim document: %w", err)
	}
	dh := documentHash(s.docKey, country, typ, number)
	where := fmt.Sprintf("claim document %s for user %d", dh[:12], userID)
	keep := ms(s.statusKeep)

	// The user's index first, so that DeleteUser finds every document key
	// the user may own, even after a crash between the two steps.
	index := s.userKey(userID, "docs")
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, index, dh)
		if keep > 0 {
			p.PExpire(ctx, index, s.statusKeep)
		} else {
			p.Persist(ctx, index)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("%s: index: %w", where, err)
	}
	ownerText, err := claimDocScript.Run(ctx, s.rdb, []string{s.key("doc:" + dh)}, userID, keep).Text()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	owner, err = strconv.ParseInt(ownerText, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: corrupt owner: %w", where, err)
	}
	if owner == userID {
		return owner, nil
	}
	// Not the user's: unindex it. Should this fail, the stray entry does
	// no harm, since DeleteUser only deletes document keys the user owns.
	_ = s.rdb.SRem(ctx, index, dh).Err()
	return owner, fmt.Errorf("%s: claimed by user %d: %w", where, owner, ErrDocumentTaken)
}

// releaseDocuments deletes the document keys the user owns, as listed in
// the user's index (which the caller deletes afterwards). It returns how
// many it deleted.
func (s *Store) releaseDocuments(ctx context.Context, userID int64) (int, error) {
	hashes, err := s.rdb.SMembers(ctx, s.userKey(userID, "docs")).Result()
	if err != nil || len(hashes) == 0 {
		return 0, err
	}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, dh := range hashes {
			// One key per script: they live in different cluster slots.
			releaseDocScript.Eval(ctx, p, []string{s.key("doc:" + dh)}, userID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cmds {
		v, _ := c.(*redis.Cmd).Int()
		n += v
	}
	return n, nil
}
