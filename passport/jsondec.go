package passport

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// The decoders of this file read the three JSON documents of the protocol
// (Bot API PassportData, credentials, element data) with go-faster/jx,
// which gotd already depends on: several times faster than encoding/json,
// so that decryption costs little more than its one RSA operation. Their
// errors name the JSON path and never echo the input.

// decoders holds jx decoders between documents (one fewer allocation a
// document); each is emptied before it goes back, so the pool never holds
// a decrypted document's bytes.
var decoders = sync.Pool{New: func() any { return new(jx.Decoder) }}

// jsonDoc decodes one whole JSON document with f, refusing trailing data.
func jsonDoc(what string, b []byte, f func(d *jx.Decoder) error) error {
	d := decoders.Get().(*jx.Decoder) //nolint:forcetypeassert // the pool's New makes nothing else
	defer func() {
		d.ResetBytes(nil)
		decoders.Put(d)
	}()
	d.ResetBytes(b)
	if err := f(d); err != nil {
		return err
	}
	if err := d.Skip(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: data after the JSON value", ErrMalformed, what)
	}
	return nil
}

// jpath is where a decoder is in a JSON document ("secure_data.passport.
// files[0]"), made into text only for an error: each level is a value on
// the stack pointing at its parent, so a document decoded without error
// builds no path at all.
type jpath struct {
	up    *jpath
	key   string
	index int
	elem  bool // an array element: index, not key
}

// field is the path of key in the object at p.
func (p *jpath) field(key string) jpath { return jpath{up: p, key: key} }

// at is the path of element i of the array at p.
func (p *jpath) at(i int) jpath { return jpath{up: p, index: i, elem: true} }

// String writes the path as the errors show it: keys joined by dots,
// array elements as [i]; a path without keys is "".
func (p *jpath) String() string {
	var chain [16]*jpath
	n := 0
	for q := p; q != nil && n < len(chain); q = q.up {
		chain[n] = q
		n++
	}
	var b []byte
	for i := n - 1; i >= 0; i-- {
		q := chain[i]
		switch {
		case q.elem:
			b = append(strconv.AppendInt(append(b, '['), int64(q.index), 10), ']')
		case q.up == nil && q.key == "": // the keys of the document alone
		default:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, q.key...)
		}
	}
	return string(b)
}

// jsonErr describes a decoding failure at where without the input's bytes.
func jsonErr(where, want string, d *jx.Decoder) error {
	got := d.Next()
	if got == jx.Invalid {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, where)
	}
	return fmt.Errorf("%w: %s: want %s, got %s", ErrMalformed, where, want, got)
}

// jsonNull consumes a null at p.
func jsonNull(d *jx.Decoder, p *jpath) error {
	if err := d.Null(); err != nil {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, p.String())
	}
	return nil
}

// jsonNullAt consumes a null at key in the object at p.
func jsonNullAt(d *jx.Decoder, p *jpath, key string) error {
	if err := d.Null(); err != nil {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, p.name(key))
	}
	return nil
}

// jsonSkip skips a value of an unknown key.
func jsonSkip(d *jx.Decoder) error {
	if err := d.Skip(); err != nil {
		return fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	return nil
}

// jsonObject calls f for every key of the object at p. A null reads as
// an absent object (present false).
func jsonObject(d *jx.Decoder, p *jpath, f func(d *jx.Decoder, key []byte) error) (present bool, err error) {
	switch d.Next() {
	case jx.Null:
		return false, jsonNull(d, p)
	case jx.Object:
	default:
		return false, jsonErr(p.String(), "an object", d)
	}
	var inner error
	err = d.ObjBytes(func(d *jx.Decoder, key []byte) error {
		if err := f(d, key); err != nil {
			inner = err
			return err
		}
		return nil
	})
	if inner != nil {
		return true, inner
	}
	if err != nil {
		return true, fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, p.String())
	}
	return true, nil
}

// jsonArray calls f for every element of the array at p; null is empty.
func jsonArray(d *jx.Decoder, p *jpath, f func(d *jx.Decoder, i int) error) error {
	switch d.Next() {
	case jx.Null:
		return jsonNull(d, p)
	case jx.Array:
	default:
		return jsonErr(p.String(), "an array", d)
	}
	var inner error
	i := 0
	err := d.Arr(func(d *jx.Decoder) error {
		if err := f(d, i); err != nil {
			inner = err
			return err
		}
		i++
		return nil
	})
	if inner != nil {
		return inner
	}
	if err != nil {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, p.String())
	}
	return nil
}

// name is the text of the path of key in the object at p: for errors,
// which get the text, never p, so that p stays on the stack.
func (p *jpath) name(key string) string {
	q := p.field(key)
	return q.String()
}

// jsonString reads the string of key in the object at p; null reads as "".
func jsonString(d *jx.Decoder, p *jpath, key string) (string, error) {
	switch d.Next() {
	case jx.Null:
		return "", jsonNullAt(d, p, key)
	case jx.String:
		s, err := d.Str()
		if err != nil {
			return "", fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, p.name(key))
		}
		return validUTF8(s), nil
	default:
		return "", jsonErr(p.name(key), "a string", d)
	}
}

// byteArena holds the bytes decoded from one document's base64 strings in
// one allocation instead of one per string: the credentials carry two per
// file and per element.
type byteArena struct{ buf []byte }

// newByteArena makes an arena for the base64 strings of a JSON document
// of n bytes (they decode to less than n).
func newByteArena(n int) *byteArena { return &byteArena{buf: make([]byte, 0, n*3/4)} }

// base64 reads the standard base64 string of key in the object at p into
// the arena (null reads as nil); each result has its own capacity, so
// appending to it never writes over the next one.
func (a *byteArena) base64(d *jx.Decoder, p *jpath, key string) ([]byte, error) {
	switch d.Next() {
	case jx.Null:
		return nil, jsonNullAt(d, p, key)
	case jx.String:
		start := len(a.buf)
		out, err := d.Base64Append(a.buf)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformed, p.name(key))
		}
		a.buf = out
		return out[start:len(out):len(out)], nil
	default:
		return nil, jsonErr(p.name(key), "a base64 string", d)
	}
}

// base64OrNil reads the string of key in the object at p into the arena
// when it is standard base64, and returns nil when it is not (a Bot API
// element hash: some published samples carry placeholder text there).
func (a *byteArena) base64OrNil(d *jx.Decoder, p *jpath, key string) ([]byte, error) {
	if d.Next() != jx.String {
		_, err := jsonString(d, p, key) // null, or the error
		return nil, err
	}
	s, err := d.StrBytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, p.name(key))
	}
	start := len(a.buf)
	out, err := base64.StdEncoding.AppendDecode(a.buf, s)
	if err != nil || len(out) == start {
		return nil, nil
	}
	a.buf = out
	return out[start:len(out):len(out)], nil
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as
// encoding/json does, so that what is decoded encodes and decodes back the
// same.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// jsonInt reads the integer of key in the object at p; null reads as 0.
func jsonInt(d *jx.Decoder, p *jpath, key string) (int64, error) {
	switch d.Next() {
	case jx.Null:
		return 0, jsonNullAt(d, p, key)
	case jx.Number:
		n, err := d.Int64()
		if err != nil {
			return 0, fmt.Errorf("%w: %s: not an integer", ErrMalformed, p.name(key))
		}
		return n, nil
	default:
		return 0, jsonErr(p.name(key), "a number", d)
	}
}

// parseFields decodes a data object: a JSON object whose values are
// strings; null decodes as the empty string (both mean absent). Values of
// other JSON types are refused. The map is made for size fields (the
// fields of the element's type); size 0 counts the keys there can be.
func parseFields(b []byte, size int) (map[string]string, error) {
	var fields map[string]string
	err := jsonDoc("data", b, func(d *jx.Decoder) error {
		// Sized once (at most 32, whatever the input holds): growing the
		// map was a good part of the cost. A key ends with `":`.
		if size <= 0 {
			size = bytes.Count(b, []byte(`":`))
		}
		fields = make(map[string]string, min(size, 32))
		data := jpath{key: "data"}
		src := &source{b: b, text: string(b)}
		present, err := jsonObject(d, &data, func(d *jx.Decoder, key []byte) error {
			k := fieldName(key)
			v, err := src.str(d, &data, k)
			fields[k] = v
			return err
		})
		if err == nil && !present {
			return fmt.Errorf("%w: data is null, not an object", ErrMalformed)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// source is a document being decoded (b, the decoder's bytes) and the
// same bytes as one string: a value without escapes is a substring of it
// instead of a string of its own, one allocation a document instead of
// one a value.
type source struct {
	b    []byte
	text string
}

// str is jsonString for a value of the document.
func (s *source) str(d *jx.Decoder, p *jpath, key string) (string, error) {
	if d.Next() != jx.String {
		return jsonString(d, p, key)
	}
	v, err := d.StrBytes()
	if err != nil {
		return "", fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, p.name(key))
	}
	if len(v) == 0 {
		return "", nil
	}
	// A value jx read without unescaping is a slice of the document: its
	// capacity tells where it starts, its first byte's address confirms it.
	if n := cap(s.b) - cap(v); n >= 0 && n+len(v) <= len(s.b) && &s.b[n] == &v[0] {
		return validUTF8(s.text[n : n+len(v)]), nil
	}
	return validUTF8(string(v)), nil
}

// fieldName is key as a string, without an allocation for the field names
// Telegram Passport defines.
func fieldName(key []byte) string {
	switch string(key) { // no allocation: the compiler compares the bytes
	case "first_name":
		return "first_name"
	case "last_name":
		return "last_name"
	case "middle_name":
		return "middle_name"
	case "birth_date":
		return "birth_date"
	case "gender":
		return "gender"
	case "country_code":
		return "country_code"
	case "residence_country_code":
		return "residence_country_code"
	case "first_name_native":
		return "first_name_native"
	case "last_name_native":
		return "last_name_native"
	case "middle_name_native":
		return "middle_name_native"
	case "document_no":
		return "document_no"
	case "expiry_date":
		return "expiry_date"
	case "street_line1":
		return "street_line1"
	case "street_line2":
		return "street_line2"
	case "city":
		return "city"
	case "state":
		return "state"
	case "post_code":
		return "post_code"
	}
	return validUTF8(string(key)) // as values are, and as encoding/json reads keys
}

// jsonElementType reads an element's type, the string of "type" in the
// object at p; the known types without an allocation.
func jsonElementType(d *jx.Decoder, p *jpath) (ElementType, error) {
	if d.Next() != jx.String {
		s, err := jsonString(d, p, "type")
		return ElementType(s), err
	}
	b, err := d.StrBytes()
	if err != nil {
		return "", fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, p.name("type"))
	}
	return ElementType(validUTF8(string(elementTypeName(b)))), nil
}

// elementTypeName is key as an ElementType, without an allocation for
// the known types.
func elementTypeName(key []byte) ElementType {
	for _, t := range ElementTypes() {
		if string(t) == string(key) {
			return t
		}
	}
	return ElementType(key)
}

// optional is a value read at a path that may hold null: nil for null.
func optional[T any](v T, present bool, err error) (*T, error) {
	if err != nil || !present {
		return nil, err
	}
	return &v, nil
}

func decodeFileCredentials(d *jx.Decoder, a *byteArena, p *jpath) (*FileCredentials, error) {
	return optional(decodeFileCredentialsValue(d, a, p))
}

// decodeFileCredentialsValue reads file credentials into a value (a list
// keeps them so, with no allocation per file); present is false for null.
func decodeFileCredentialsValue(d *jx.Decoder, a *byteArena, p *jpath) (fc FileCredentials, present bool, err error) {
	fc.FileHash, fc.Secret, present, err = decodeHashSecret(d, a, p, "file_hash")
	return fc, present, err
}

// decodeHashSecret reads an object of credentials: a hash under hashKey
// (file_hash, data_hash) and a secret, both base64; present is false for
// null.
func decodeHashSecret(d *jx.Decoder, a *byteArena, p *jpath, hashKey string) (hash, secret []byte, present bool, err error) {
	present, err = jsonObject(d, p, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case hashKey:
			hash, err = a.base64(d, p, hashKey)
		case "secret":
			secret, err = a.base64(d, p, "secret")
		default:
			err = jsonSkip(d)
		}
		return err
	})
	return hash, secret, present, err
}

// decodeFileCredentialsList reads a list of file credentials. It is
// decodeBotFiles for another element type: a generic list decoder would
// call each element's decoder through a func value, which makes every path
// escape to the heap.
func decodeFileCredentialsList(d *jx.Decoder, a *byteArena, p *jpath) ([]FileCredentials, error) {
	var out []FileCredentials
	err := jsonArray(d, p, func(d *jx.Decoder, i int) error {
		at := p.at(i)
		fc, present, err := decodeFileCredentialsValue(d, a, &at)
		if err != nil {
			return err
		}
		if !present {
			return fmt.Errorf("%w: %s is null", ErrMalformed, at.String())
		}
		out = append(out, fc)
		return nil
	})
	return out, err
}

func decodeDataCredentials(d *jx.Decoder, a *byteArena, p *jpath) (*DataCredentials, error) {
	hash, secret, present, err := decodeHashSecret(d, a, p, "data_hash")
	return optional(DataCredentials{DataHash: hash, Secret: secret}, present, err)
}

func decodeValueCredentials(d *jx.Decoder, a *byteArena, p *jpath) (*ValueCredentials, error) {
	vc := &ValueCredentials{}
	present, err := jsonObject(d, p, func(d *jx.Decoder, key []byte) error {
		var err error
		switch k := string(key); k {
		case "data":
			at := p.field("data")
			vc.Data, err = decodeDataCredentials(d, a, &at)
		case "front_side", "reverse_side", "selfie":
			name, field := side(k, &vc.FrontSide, &vc.ReverseSide, &vc.Selfie)
			at := p.field(name)
			*field, err = decodeFileCredentials(d, a, &at)
		case "files":
			at := p.field("files")
			vc.Files, err = decodeFileCredentialsList(d, a, &at)
		case "translation":
			at := p.field("translation")
			vc.Translation, err = decodeFileCredentialsList(d, a, &at)
		default:
			err = jsonSkip(d)
		}
		return err
	})
	if err != nil || !present {
		return nil, err
	}
	return vc, nil
}

// side is, of the fields front, reverse and selfie, the one key
// (front_side, reverse_side or selfie) names, with that name as a
// constant: the path of a document without errors allocates nothing.
func side[T any](key string, front, reverse, selfie *T) (string, *T) {
	switch key {
	case "front_side":
		return "front_side", front
	case "reverse_side":
		return "reverse_side", reverse
	}
	return "selfie", selfie
}

// decodeCredentials reads the credentials JSON without validating it.
func decodeCredentials(b []byte) (secureData map[ElementType]*ValueCredentials, nonce, payload *string, err error) {
	a := newByteArena(len(b))
	err = jsonDoc("credentials", b, func(d *jx.Decoder) error {
		var top jpath // the keys of the document are named alone
		doc := jpath{key: "credentials"}
		present, err := jsonObject(d, &doc, func(d *jx.Decoder, key []byte) error {
			switch string(key) {
			case "secure_data":
				secureData = make(map[ElementType]*ValueCredentials, 8)
				sd := top.field("secure_data")
				_, err := jsonObject(d, &sd, func(d *jx.Decoder, key []byte) error {
					typ := elementTypeName(key)
					at := sd.field(string(typ))
					vc, err := decodeValueCredentials(d, a, &at)
					secureData[typ] = vc
					return err
				})
				return err
			case "nonce":
				s, err := jsonString(d, &top, "nonce")
				nonce = &s
				return err
			case "payload":
				s, err := jsonString(d, &top, "payload")
				payload = &s
				return err
			default:
				return jsonSkip(d)
			}
		})
		if err == nil && !present {
			return fmt.Errorf("%w: credentials JSON is null", ErrMalformed)
		}
		return err
	})
	return secureData, nonce, payload, err
}

func decodeBotFile(d *jx.Decoder, src *source, p *jpath) (*FileRef, error) {
	return optional(decodeBotFileValue(d, src, p))
}

// decodeBotFileValue reads a Bot API PassportFile into a value; present
// is false for null.
func decodeBotFileValue(d *jx.Decoder, src *source, p *jpath) (r FileRef, present bool, err error) {
	present, err = jsonObject(d, p, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "file_id":
			r.FileID, err = src.str(d, p, "file_id")
		case "file_unique_id":
			r.FileUniqueID, err = src.str(d, p, "file_unique_id")
		case "file_size":
			r.Size, err = jsonInt(d, p, "file_size")
		case "file_date":
			r.Date, err = jsonInt(d, p, "file_date")
		default:
			err = jsonSkip(d)
		}
		return err
	})
	return r, present, err
}

// decodeBotFiles reads a list of PassportFile (see
// decodeFileCredentialsList).
func decodeBotFiles(d *jx.Decoder, src *source, p *jpath) ([]FileRef, error) {
	var out []FileRef
	err := jsonArray(d, p, func(d *jx.Decoder, i int) error {
		at := p.at(i)
		r, present, err := decodeBotFileValue(d, src, &at)
		if err != nil {
			return err
		}
		if !present {
			return fmt.Errorf("%w: %s is null", ErrMalformed, at.String())
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

func decodeBotElement(d *jx.Decoder, a *byteArena, src *source, p *jpath) (EncryptedElement, error) {
	var ee EncryptedElement
	present, err := jsonObject(d, p, func(d *jx.Decoder, key []byte) error {
		var err error
		switch k := string(key); k {
		case "type":
			ee.Type, err = jsonElementType(d, p)
		case "data":
			ee.Data, err = a.base64(d, p, "data")
		case "phone_number":
			ee.PhoneNumber, err = src.str(d, p, "phone_number")
		case "email":
			ee.Email, err = src.str(d, p, "email")
		case "front_side", "reverse_side", "selfie":
			name, field := side(k, &ee.FrontSide, &ee.ReverseSide, &ee.Selfie)
			at := p.field(name)
			*field, err = decodeBotFile(d, src, &at)
		case "files":
			at := p.field("files")
			ee.Files, err = decodeBotFiles(d, src, &at)
		case "translation":
			at := p.field("translation")
			ee.Translation, err = decodeBotFiles(d, src, &at)
		case "hash":
			ee.Hash, err = a.base64OrNil(d, p, "hash")
		default:
			err = jsonSkip(d)
		}
		return err
	})
	if err == nil && !present {
		err = fmt.Errorf("%w: %s is null", ErrMalformed, p.String())
	}
	return ee, err
}

// decodeBotAPI reads a Bot API PassportData object.
func decodeBotAPI(b []byte) (*EncryptedSubmission, error) {
	es := &EncryptedSubmission{}
	a := newByteArena(len(b))
	// The file IDs and plain values are substrings of one copy of the
	// document: one allocation instead of two a file.
	src := &source{b: b, text: string(b)}
	err := jsonDoc("PassportData", b, func(d *jx.Decoder) error {
		var top jpath // the keys of the object are named alone
		doc := jpath{key: "PassportData"}
		present, err := jsonObject(d, &doc, func(d *jx.Decoder, key []byte) error {
			switch string(key) {
			case "data":
				data := top.field("data")
				return jsonArray(d, &data, func(d *jx.Decoder, i int) error {
					at := data.at(i)
					ee, err := decodeBotElement(d, a, src, &at)
					if err == nil && !ee.Type.Valid() {
						err = fmt.Errorf("%w: data[%d].type %q is not a Passport element type", ErrMalformed, i, string(ee.Type))
					}
					if es.Elements == nil {
						// Room for a submission of every kind of element
						// but the alternatives: no growing in between.
						es.Elements = make([]EncryptedElement, 0, 8)
					}
					es.Elements = append(es.Elements, ee)
					return err
				})
			case "credentials":
				c := &es.Credentials
				creds := top.field("credentials")
				_, err := jsonObject(d, &creds, func(d *jx.Decoder, key []byte) error {
					var err error
					switch string(key) {
					case "data":
						c.Data, err = a.base64(d, &creds, "data")
					case "hash":
						c.Hash, err = a.base64(d, &creds, "hash")
					case "secret":
						c.Secret, err = a.base64(d, &creds, "secret")
					default:
						err = jsonSkip(d)
					}
					return err
				})
				return err
			default:
				return jsonSkip(d)
			}
		})
		if err == nil && !present {
			return fmt.Errorf("%w: PassportData is null", ErrMalformed)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    []byte
	}{{"credentials.data", es.Credentials.Data}, {"credentials.hash", es.Credentials.Hash}, {"credentials.secret", es.Credentials.Secret}} {
		if len(f.v) == 0 {
			return nil, fmt.Errorf("%w: %s is missing", ErrMalformed, f.name)
		}
	}
	return es, nil
}
