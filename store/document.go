package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"golang.org/x/text/unicode/norm"
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

// Fingerprint is what Documents.ClaimAll claims: an identity document
// (DocumentKey) or a person (PersonKey). The store records only its keyed
// hash.
type Fingerprint interface {
	// Check reports whether the fingerprint can be claimed: an error
	// wrapping ErrInvalid says what is missing or malformed, and never
	// holds the data.
	Check() error
	// hash returns the hex HMAC-SHA256 of the normalized fingerprint
	// under key.
	hash(key []byte) (string, error)
}

// Check implements Fingerprint.
func (d DocumentKey) Check() error {
	_, _, _, err := d.normalize()
	return err
}

func (d DocumentKey) hash(key []byte) (string, error) {
	country, typ, number, err := d.normalize()
	if err != nil {
		return "", err
	}
	return documentHash(key, country, typ, number), nil
}

// PersonKey identifies a person by names and birth date, so that one
// person verifying two accounts with two different documents is found
// too. It is personal data: the store only keeps a keyed hash of it.
type PersonKey struct {
	// Names are the person's names (first, middle, last; Latin or
	// native, but the same script every time): their order, case, accents,
	// spaces, hyphens and apostrophes do not matter ("Anna-Maria
	// O'Neill" is "ONeill Annamaria"). At least two names, so that a
	// single given name with a birth date claims nothing.
	Names []string
	// BirthDate is the birth date as Telegram Passport writes it,
	// DD.MM.YYYY (a one-digit day or month too).
	BirthDate string
}

// maxPersonNames is the longest normalized name list, in characters.
const maxPersonNames = 1024

// normalize returns the canonical form of p: the normalized names, sorted
// and joined by NUL, then the date as YYYY-MM-DD. Its errors never hold a
// name or the date.
func (p PersonKey) normalize() (string, error) {
	names := make([]string, 0, len(p.Names))
	total := 0
	for _, n := range p.Names {
		if !utf8.ValidString(n) {
			return "", fmt.Errorf("%w: a name is not valid UTF-8", ErrInvalid)
		}
		c := foldName(n)
		if c == "" {
			continue
		}
		total += len(c)
		names = append(names, c)
	}
	if len(names) < 2 {
		return "", fmt.Errorf("%w: a person needs at least two names with letters (such as first and last name)", ErrInvalid)
	}
	if total > maxPersonNames {
		return "", fmt.Errorf("%w: the names are longer than %d bytes together", ErrInvalid, maxPersonNames)
	}
	sort.Strings(names)
	date, err := normalizeBirthDate(p.BirthDate)
	if err != nil {
		return "", err
	}
	return strings.Join(names, "\x00") + "\x00" + date, nil
}

// Check implements Fingerprint.
func (p PersonKey) Check() error {
	_, err := p.normalize()
	return err
}

func (p PersonKey) hash(key []byte) (string, error) {
	c, err := p.normalize()
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kycbot person v1\x00" + c))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// foldName returns a name in canonical form: compatibility-decomposed,
// without combining marks, letters and digits only, upper case.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// normalizeBirthDate turns DD.MM.YYYY into YYYY-MM-DD, checking that the
// date exists.
func normalizeBirthDate(s string) (string, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	bad := fmt.Errorf("%w: the birth date is not a date in DD.MM.YYYY form", ErrInvalid)
	if len(parts) != 3 || len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) < 1 || len(parts[1]) > 2 || len(parts[2]) != 4 {
		return "", bad
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return "", bad
		}
		v[i] = n
	}
	t := time.Date(v[2], time.Month(v[1]), v[0], 0, 0, 0, 0, time.UTC)
	if t.Day() != v[0] || int(t.Month()) != v[1] || t.Year() != v[2] {
		return "", bad
	}
	return t.Format(time.DateOnly), nil
}

// claimDocScript records the owner of a document unless it has one, and
// answers the owner, and 1 when this call made the claim (0 when the
// claim was there before). The owner's own claim refreshes the TTL.
//
// KEYS[1] document key. ARGV[1] user ID, ARGV[2] TTL ms (0 for none).
var claimDocScript = redis.NewScript(`
local owner = redis.call('GET', KEYS[1])
local keep = tonumber(ARGV[2])
if not owner then
  if keep > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', keep) else redis.call('SET', KEYS[1], ARGV[1]) end
  return {ARGV[1], 1}
end
if owner == ARGV[1] then
  if keep > 0 then redis.call('PEXPIRE', KEYS[1], keep) else redis.call('PERSIST', KEYS[1]) end
end
return {owner, 0}
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
	return dv.ClaimAll(ctx, userID, doc)
}

// ClaimAll claims every fingerprint (identity documents, the person) for
// userID at once, as Claim does one document: all of them, or none. When
// another user owns one of them, it returns that user (the owner of the
// first one taken, in the order given) with an error wrapping
// ErrDocumentTaken, and the claims this call made are released again, so
// that a refused user holds nothing they did not hold before. Two users
// claiming overlapping sets at the same moment may both be refused;
// neither gets a claim the other holds.
//
// An invalid fingerprint fails the whole call with ErrInvalid before
// anything is written: check them first (Fingerprint.Check). It takes two
// round trips to Redis (the user's index, then the claims; a third to
// release when refused), whatever the number of fingerprints.
func (dv Documents) ClaimAll(ctx context.Context, userID int64, fps ...Fingerprint) (owner int64, err error) {
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
	if len(fps) == 0 {
		return userID, nil
	}
	hashes := make([]string, 0, len(fps))
	seen := make(map[string]bool, len(fps))
	for i, fp := range fps {
		if fp == nil {
			return 0, fmt.Errorf("claim document: %w: fingerprint %d is nil", ErrInvalid, i)
		}
		dh, err := fp.hash(s.docKey)
		if err != nil {
			return 0, fmt.Errorf("claim document: %w", err)
		}
		if !seen[dh] {
			seen[dh] = true
			hashes = append(hashes, dh)
		}
	}
	where := fmt.Sprintf("claim document %s for user %d", hashes[0][:12], userID)
	keep := ms(s.statusKeep)

	// Claims recorded under a previous key (before a rotation) still
	// belong to their owner.
	if o, err := s.previousOwner(ctx, userID, fps); err != nil {
		return 0, fmt.Errorf("%s: previous keys: %w", where, err)
	} else if o != 0 {
		return o, fmt.Errorf("%s: claimed by user %d under a previous key: %w", where, o, ErrDocumentTaken)
	}

	// The user's index first, so that DeleteUser finds every document key
	// the user may own, even after a crash between the two steps.
	index := s.userKey(userID, "docs")
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		members := make([]any, len(hashes))
		for i, dh := range hashes {
			members[i] = dh
		}
		p.SAdd(ctx, index, members...)
		if keep > 0 {
			p.PExpire(ctx, index, s.statusKeep)
		} else {
			p.Persist(ctx, index)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("%s: index: %w", where, err)
	}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, dh := range hashes {
			// One key per script: they live in different cluster slots.
			claimDocScript.Eval(ctx, p, []string{s.key("doc:" + dh)}, userID, keep)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	var made, lost []string // claims this call made; hashes the user does not own
	owner = userID
	for i, c := range cmds {
		res, err := c.(*redis.Cmd).Slice()
		if err != nil || len(res) != 2 {
			return 0, fmt.Errorf("%s: corrupt answer: %v", where, err)
		}
		ownerText, _ := res[0].(string)
		o, err := strconv.ParseInt(ownerText, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: corrupt owner: %w", where, err)
		}
		switch {
		case o != userID:
			lost = append(lost, hashes[i])
			if owner == userID {
				owner = o
			}
		case res[1] == int64(1):
			made = append(made, hashes[i])
		}
	}
	if owner == userID {
		return owner, nil
	}
	// Not all the user's: undo this call's claims and unindex what the
	// user does not own. Should this fail, the strays do no harm beyond
	// the claim itself, which DeleteUser or the retention releases.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, dh := range made {
			releaseDocScript.Eval(ctx, p, []string{s.key("doc:" + dh)}, userID)
		}
		return nil
	})
	unindex := make([]any, 0, len(made)+len(lost))
	for _, dh := range append(made, lost...) {
		unindex = append(unindex, dh)
	}
	_ = s.rdb.SRem(ctx, index, unindex...).Err()
	return owner, fmt.Errorf("%s: claimed by user %d: %w", where, owner, ErrDocumentTaken)
}

// ReleaseAll releases the claims userID holds of fps (under the current
// key), as when an admin rejects the submission that made them: another
// account may claim them then. Claims of others are left alone. Two round
// trips.
func (dv Documents) ReleaseAll(ctx context.Context, userID int64, fps ...Fingerprint) (err error) {
	defer markUnavailable(&err)
	s := dv.s
	if s.optErr != nil {
		return s.optErr
	}
	if s.docKey == nil {
		return fmt.Errorf("release documents: %w", s.docErr)
	}
	if err := checkUser(userID); err != nil {
		return fmt.Errorf("release documents: %w", err)
	}
	var hashes []any
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, fp := range fps {
			dh, err := fp.hash(s.docKey)
			if err != nil {
				continue // an invalid fingerprint was never claimed
			}
			hashes = append(hashes, dh)
			releaseDocScript.Eval(ctx, p, []string{s.key("doc:" + dh)}, userID)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("release documents of user %d: %w", userID, err)
	}
	if len(hashes) == 0 {
		return nil
	}
	if err := s.rdb.SRem(ctx, s.userKey(userID, "docs"), hashes...).Err(); err != nil {
		return fmt.Errorf("release documents of user %d: index: %w", userID, err)
	}
	return nil
}

// previousOwner returns the first other user who claimed one of fps under
// a previous document key, or 0 (one round trip, none without previous
// keys).
func (s *Store) previousOwner(ctx context.Context, userID int64, fps []Fingerprint) (int64, error) {
	if len(s.docPrev) == 0 {
		return 0, nil
	}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, fp := range fps {
			for _, k := range s.docPrev {
				dh, err := fp.hash(k)
				if err != nil {
					return err
				}
				p.Get(ctx, s.key("doc:"+dh))
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	for _, c := range cmds {
		v, err := c.(*redis.StringCmd).Int64()
		if err == nil && v != userID {
			return v, nil
		}
	}
	return 0, nil
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
