package store

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"strings"
)

// sealKey is one AES-256-GCM key of a ring and its key id (a short hash
// of the key: what names it in Redis and in errors, never the key).
type sealKey struct {
	aead cipher.AEAD
	kid  string
}

// keyRing is the current key (first) and the previous ones of one kind
// of sealed value: values are sealed under the current key and opened
// with whichever key of the ring sealed them, so that a key can be
// rotated without losing what was sealed under the one before.
type keyRing []sealKey

// newKeyRing builds the ring of key (current) and previous, each checked
// like newAEAD; an error names which previous key is bad, never a key.
func newKeyRing(key []byte, previous [][]byte, what, idLabel string, sentinel error) (keyRing, error) {
	aead, kid, err := newAEAD(key, what, idLabel, sentinel)
	if err != nil {
		return nil, err
	}
	ring := keyRing{{aead: aead, kid: kid}}
	for i, p := range previous {
		aead, kid, err := newAEAD(p, what, idLabel, sentinel)
		if err != nil {
			return nil, fmt.Errorf("previous %s key %d of %d: %w", what, i+1, len(previous), err)
		}
		if !ring.has(kid) {
			ring = append(ring, sealKey{aead: aead, kid: kid})
		}
	}
	return ring, nil
}

// current is the key that seals.
func (r keyRing) current() sealKey { return r[0] }

func (r keyRing) has(kid string) bool {
	_, ok := r.find(kid)
	return ok
}

// find returns the key of the ring whose id is kid.
func (r keyRing) find(kid string) (sealKey, bool) {
	for _, k := range r {
		if k.kid == kid {
			return k, true
		}
	}
	return sealKey{}, false
}

// kids lists the key ids of the ring, the current first, for errors.
func (r keyRing) kids() string {
	ids := make([]string, len(r))
	for i, k := range r {
		ids[i] = fmt.Sprintf("%q", k.kid)
	}
	return strings.Join(ids, ", ")
}

// open decrypts what seal sealed with one of the ring's keys and aad: the
// key whose id is kid if kid is not empty, else each key in turn (values
// sealed before key ids were recorded). The error is errSealedShort, one
// of the ring's GCM errors (whose message says nothing of the value), or
// errUnknownKID.
func (r keyRing) open(kid string, sealed, aad []byte) ([]byte, error) {
	if kid != "" {
		k, ok := r.find(kid)
		if !ok {
			return nil, errUnknownKID
		}
		return openSealed(k.aead, sealed, aad)
	}
	var first error
	for _, k := range r {
		plain, err := openSealed(k.aead, sealed, aad)
		if err == nil {
			return plain, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// errUnknownKID: a value names a key id no key of the ring has.
var errUnknownKID = errors.New("sealed under a key id no configured key has")
