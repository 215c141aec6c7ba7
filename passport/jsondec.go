package passport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// The decoders of this file read the three JSON documents of the protocol
// (Bot API PassportData, credentials, element data) with go-faster/jx,
// which gotd already depends on: several times faster than encoding/json,
// so that decryption costs little more than its one RSA operation. Their
// errors name the JSON path and never echo the input.

// jsonDoc decodes one whole JSON document with f, refusing trailing data.
func jsonDoc(what string, b []byte, f func(d *jx.Decoder) error) error {
	d := jx.DecodeBytes(b)
	if err := f(d); err != nil {
		return err
	}
	if err := d.Skip(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: data after the JSON value", ErrMalformed, what)
	}
	return nil
}

// jsonErr describes a decoding failure at path without the input's bytes.
func jsonErr(path string, want string, d *jx.Decoder) error {
	got := d.Next()
	if got == jx.Invalid {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, path)
	}
	return fmt.Errorf("%w: %s: want %s, got %s", ErrMalformed, path, want, got)
}

// at joins a path and a key; it is called only to build error messages.
func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonNull consumes a null.
func jsonNull(d *jx.Decoder, path string) error {
	if err := d.Null(); err != nil {
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, path)
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

// jsonObject calls f for every key of the object at path. A null reads as
// an absent object (present false).
func jsonObject(d *jx.Decoder, path string, f func(d *jx.Decoder, key []byte) error) (present bool, err error) {
	switch d.Next() {
	case jx.Null:
		return false, jsonNull(d, path)
	case jx.Object:
	default:
		return false, jsonErr(path, "an object", d)
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
		return true, fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, path)
	}
	return true, nil
}

// jsonArray calls f for every element of the array at path; null is empty.
func jsonArray(d *jx.Decoder, path string, f func(d *jx.Decoder, i int) error) error {
	switch d.Next() {
	case jx.Null:
		return jsonNull(d, path)
	case jx.Array:
	default:
		return jsonErr(path, "an array", d)
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
		return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, path)
	}
	return nil
}

// jsonString reads a string at path; null reads as "".
func jsonString(d *jx.Decoder, parent, key string) (string, error) {
	switch d.Next() {
	case jx.Null:
		return "", jsonNull(d, at(parent, key))
	case jx.String:
		s, err := d.Str()
		if err != nil {
			return "", fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, at(parent, key))
		}
		return validUTF8(s), nil
	default:
		return "", jsonErr(at(parent, key), "a string", d)
	}
}

// byteArena holds the bytes decoded from one document's base64 strings in
// one allocation instead of one per string: the credentials carry two per
// file and per element.
type byteArena struct{ buf []byte }

// newByteArena makes an arena for the base64 strings of a JSON document
// of n bytes (they decode to less than n).
func newByteArena(n int) *byteArena { return &byteArena{buf: make([]byte, 0, n*3/4)} }

// base64 reads a standard base64 string at parent.key into the arena
// (null reads as nil); each result has its own capacity, so appending to
// it never writes over the next one.
func (a *byteArena) base64(d *jx.Decoder, parent, key string) ([]byte, error) {
	switch d.Next() {
	case jx.Null:
		return nil, jsonNull(d, at(parent, key))
	case jx.String:
		start := len(a.buf)
		out, err := d.Base64Append(a.buf)
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not valid base64", ErrMalformed, at(parent, key))
		}
		a.buf = out
		return out[start:len(out):len(out)], nil
	default:
		return nil, jsonErr(at(parent, key), "a base64 string", d)
	}
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

// jsonInt reads an integer at path; null reads as 0.
func jsonInt(d *jx.Decoder, parent, key string) (int64, error) {
	switch d.Next() {
	case jx.Null:
		return 0, jsonNull(d, at(parent, key))
	case jx.Number:
		n, err := d.Int64()
		if err != nil {
			return 0, fmt.Errorf("%w: %s: not an integer", ErrMalformed, at(parent, key))
		}
		return n, nil
	default:
		return 0, jsonErr(at(parent, key), "a number", d)
	}
}

// parseFields decodes a data object: a JSON object whose values are
// strings; null decodes as the empty string (both mean absent). Values of
// other JSON types are refused.
func parseFields(b []byte) (map[string]string, error) {
	var fields map[string]string
	err := jsonDoc("data", b, func(d *jx.Decoder) error {
		// Sized for the keys there can be (a key ends with `":`; at most
		// 32, whatever the input holds): growing the map was a good part
		// of the cost.
		fields = make(map[string]string, min(bytes.Count(b, []byte(`":`)), 32))
		present, err := jsonObject(d, "data", func(d *jx.Decoder, key []byte) error {
			k := fieldName(key)
			v, err := jsonString(d, "data", k)
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
	return string(key)
}

// jsonElementType reads an element's type, a string; the known types
// without an allocation.
func jsonElementType(d *jx.Decoder, path string) (ElementType, error) {
	if d.Next() != jx.String {
		s, err := jsonString(d, path, "type")
		return ElementType(s), err
	}
	b, err := d.StrBytes()
	if err != nil {
		return "", fmt.Errorf("%w: %s: invalid JSON string", ErrMalformed, at(path, "type"))
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

func decodeFileCredentials(d *jx.Decoder, a *byteArena, path string) (*FileCredentials, error) {
	fc, present, err := decodeFileCredentialsValue(d, a, path)
	if err != nil || !present {
		return nil, err
	}
	return &fc, nil
}

// decodeFileCredentialsValue reads file credentials into a value (a list
// keeps them so, with no allocation per file); present is false for null.
func decodeFileCredentialsValue(d *jx.Decoder, a *byteArena, path string) (fc FileCredentials, present bool, err error) {
	present, err = jsonObject(d, path, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "file_hash":
			fc.FileHash, err = a.base64(d, path, "file_hash")
		case "secret":
			fc.Secret, err = a.base64(d, path, "secret")
		default:
			err = jsonSkip(d)
		}
		return err
	})
	return fc, present, err
}

func decodeFileCredentialsList(d *jx.Decoder, a *byteArena, path string) ([]FileCredentials, error) {
	var out []FileCredentials
	err := jsonArray(d, path, func(d *jx.Decoder, i int) error {
		p := path + "[" + strconv.Itoa(i) + "]"
		fc, present, err := decodeFileCredentialsValue(d, a, p)
		if err != nil {
			return err
		}
		if !present {
			return fmt.Errorf("%w: %s is null", ErrMalformed, p)
		}
		out = append(out, fc)
		return nil
	})
	return out, err
}

func decodeValueCredentials(d *jx.Decoder, a *byteArena, path string) (*ValueCredentials, error) {
	vc := &ValueCredentials{}
	present, err := jsonObject(d, path, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "data":
			dc := &DataCredentials{}
			dataPath := at(path, "data")
			var present bool
			present, err = jsonObject(d, dataPath, func(d *jx.Decoder, key []byte) error {
				var err error
				switch string(key) {
				case "data_hash":
					dc.DataHash, err = a.base64(d, dataPath, "data_hash")
				case "secret":
					dc.Secret, err = a.base64(d, dataPath, "secret")
				default:
					err = jsonSkip(d)
				}
				return err
			})
			if present {
				vc.Data = dc
			}
		case "front_side":
			vc.FrontSide, err = decodeFileCredentials(d, a, at(path, "front_side"))
		case "reverse_side":
			vc.ReverseSide, err = decodeFileCredentials(d, a, at(path, "reverse_side"))
		case "selfie":
			vc.Selfie, err = decodeFileCredentials(d, a, at(path, "selfie"))
		case "files":
			vc.Files, err = decodeFileCredentialsList(d, a, at(path, "files"))
		case "translation":
			vc.Translation, err = decodeFileCredentialsList(d, a, at(path, "translation"))
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

// decodeCredentials reads the credentials JSON without validating it.
func decodeCredentials(b []byte) (secureData map[string]*ValueCredentials, nonce, payload *string, err error) {
	a := newByteArena(len(b))
	err = jsonDoc("credentials", b, func(d *jx.Decoder) error {
		present, err := jsonObject(d, "credentials", func(d *jx.Decoder, key []byte) error {
			switch string(key) {
			case "secure_data":
				secureData = map[string]*ValueCredentials{}
				_, err := jsonObject(d, "secure_data", func(d *jx.Decoder, key []byte) error {
					typ := string(elementTypeName(key))
					vc, err := decodeValueCredentials(d, a, at("secure_data", typ))
					secureData[typ] = vc
					return err
				})
				return err
			case "nonce":
				s, err := jsonString(d, "", "nonce")
				nonce = &s
				return err
			case "payload":
				s, err := jsonString(d, "", "payload")
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

func decodeBotFile(d *jx.Decoder, path string) (*FileRef, error) {
	r := &FileRef{}
	present, err := jsonObject(d, path, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "file_id":
			r.FileID, err = jsonString(d, path, "file_id")
		case "file_unique_id":
			r.FileUniqueID, err = jsonString(d, path, "file_unique_id")
		case "file_size":
			r.Size, err = jsonInt(d, path, "file_size")
		case "file_date":
			r.Date, err = jsonInt(d, path, "file_date")
		default:
			err = jsonSkip(d)
		}
		return err
	})
	if err != nil || !present {
		return nil, err
	}
	return r, nil
}

func decodeBotFiles(d *jx.Decoder, path string) ([]FileRef, error) {
	var out []FileRef
	err := jsonArray(d, path, func(d *jx.Decoder, i int) error {
		p := path + "[" + strconv.Itoa(i) + "]"
		r, err := decodeBotFile(d, p)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: %s is null", ErrMalformed, p)
		}
		out = append(out, *r)
		return nil
	})
	return out, err
}

func decodeBotElement(d *jx.Decoder, a *byteArena, path string) (EncryptedElement, error) {
	var ee EncryptedElement
	present, err := jsonObject(d, path, func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "type":
			ee.Type, err = jsonElementType(d, path)
		case "data":
			ee.Data, err = a.base64(d, path, "data")
		case "phone_number":
			ee.PhoneNumber, err = jsonString(d, path, "phone_number")
		case "email":
			ee.Email, err = jsonString(d, path, "email")
		case "front_side":
			ee.FrontSide, err = decodeBotFile(d, at(path, "front_side"))
		case "reverse_side":
			ee.ReverseSide, err = decodeBotFile(d, at(path, "reverse_side"))
		case "selfie":
			ee.Selfie, err = decodeBotFile(d, at(path, "selfie"))
		case "files":
			ee.Files, err = decodeBotFiles(d, at(path, "files"))
		case "translation":
			ee.Translation, err = decodeBotFiles(d, at(path, "translation"))
		case "hash":
			var s string
			s, err = jsonString(d, path, "hash")
			ee.Hash = decodeElementHash(s)
		default:
			err = jsonSkip(d)
		}
		return err
	})
	if err == nil && !present {
		err = fmt.Errorf("%w: %s is null", ErrMalformed, path)
	}
	return ee, err
}

// decodeBotAPI reads a Bot API PassportData object.
func decodeBotAPI(b []byte) (*EncryptedSubmission, error) {
	es := &EncryptedSubmission{}
	a := newByteArena(len(b))
	err := jsonDoc("PassportData", b, func(d *jx.Decoder) error {
		present, err := jsonObject(d, "PassportData", func(d *jx.Decoder, key []byte) error {
			switch string(key) {
			case "data":
				return jsonArray(d, "data", func(d *jx.Decoder, i int) error {
					ee, err := decodeBotElement(d, a, "data["+strconv.Itoa(i)+"]")
					if err == nil && !ee.Type.Valid() {
						err = fmt.Errorf("%w: data[%d].type %q is not a Passport element type", ErrMalformed, i, string(ee.Type))
					}
					es.Elements = append(es.Elements, ee)
					return err
				})
			case "credentials":
				c := &es.Credentials
				_, err := jsonObject(d, "credentials", func(d *jx.Decoder, key []byte) error {
					var err error
					switch string(key) {
					case "data":
						c.Data, err = a.base64(d, "credentials", "data")
					case "hash":
						c.Hash, err = a.base64(d, "credentials", "hash")
					case "secret":
						c.Secret, err = a.base64(d, "credentials", "secret")
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
