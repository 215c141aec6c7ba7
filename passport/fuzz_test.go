package passport

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the protocol's OAEP hash.
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

// sentinels lists every error a decoder may return; a fuzzed input must
// fail with one of them.
var sentinels = []error{ErrHashMismatch, ErrBadPadding, ErrWrongKey, ErrMalformed, ErrNotAllowed, ErrTooLarge}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error wraps no sentinel: %v", err)
}

// fuzzKey is the public half of a throwaway key, committed for the fuzz
// targets: a fuzz worker runs the target's setup under coverage
// instrumentation, where generating an RSA key or decrypting with one takes
// minutes. The private half was never kept; the targets use the plaintext
// credentials the encryptor returns.
func fuzzKey(f *testing.F) *rsa.PublicKey {
	return parseTestdata(f, "testdata/fuzz-public-key.pem", ParsePublicKey)
}

// parseTestdata reads a file of testdata and parses it.
func parseTestdata[T any](f *testing.F, path string, parse func([]byte) (T, error)) T {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	v, err := parse(b)
	if err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	return v
}

// fuzzSubmission builds a small valid submission for seeds.
func fuzzSubmission(f *testing.F) *Shared {
	key := fuzzKey(f)
	sh, err := EncryptSubmission(rand.Reader, key, "seed", []PlainElement{
		{Type: TypePersonalDetails, Fields: map[string]string{"first_name": "A", "birth_date": "01.02.1990"}},
		{Type: TypeDriverLicense, Fields: map[string]string{"document_no": "1"}, FrontSide: []byte{1}, ReverseSide: []byte{2},
			Selfie: []byte{3}, Translation: [][]byte{{4}}},
		{Type: TypeUtilityBill, Files: [][]byte{{5}, {6}}},
		{Type: TypeEmail, Email: "a@b.c"},
	})
	if err != nil {
		f.Fatal(err)
	}
	return sh
}

func FuzzParseCredentials(f *testing.F) {
	good, _ := fuzzSubmission(f).Credentials.MarshalJSON()
	f.Add(good)
	f.Add([]byte(`{"secure_data":{},"payload":"p"}`))
	f.Add([]byte(`{"secure_data":{"passport":{"files":[{}]}},"nonce":"x"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCredentials(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		again, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseCredentials(again)
		if err != nil {
			t.Fatalf("re-parse of encoded credentials: %v", err)
		}
		a, _ := json.Marshal(c)
		b2, _ := json.Marshal(c2)
		if !bytes.Equal(a, b2) {
			t.Fatalf("round trip changed credentials:\n%s\n%s", a, b2)
		}
	})
}

func FuzzCheckPadding(f *testing.F) {
	f.Add([]byte{32, 0, 0})
	f.Add(append([]byte{32}, make([]byte, 47)...))
	f.Add([]byte{255})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := CheckPadding(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if int(b[0]) < MinPadding || len(out) != len(b)-int(b[0]) {
			t.Fatalf("accepted padding %d with %d bytes left of %d", b[0], len(out), len(b))
		}
	})
}

func FuzzParseBotAPI(f *testing.F) {
	sh := fuzzSubmission(f)
	creds := sh.Credentials
	good, err := sh.Submission.MarshalBotAPI()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"data":[{"type":"email","email":"x","hash":"not base64"}],"credentials":{"data":"AA==","hash":"AA==","secret":"AA=="}}`))
	f.Add([]byte(`{"data":[{"type":"passport","front_side":{"file_id":"x"}}],"credentials":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseBotAPI(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if _, err := creds.Open(es.Elements); err != nil {
			checkSentinel(t, err)
		}
		again, err := es.MarshalBotAPI()
		if err != nil {
			t.Fatal(err)
		}
		es2, err := ParseBotAPI(again)
		if err != nil {
			t.Fatalf("re-parse of encoded submission: %v", err)
		}
		a, _ := json.Marshal(es)
		b2, _ := json.Marshal(es2)
		if !bytes.Equal(a, b2) {
			t.Fatalf("round trip changed the submission:\n%s\n%s", a, b2)
		}
	})
}

// FuzzDecryptData checks the in-memory primitive and the streaming reader
// against each other: same verdict, same bytes, for any input.
func FuzzDecryptData(f *testing.F) {
	v, err := EncryptValue(rand.Reader, []byte(`{"document_no":"1"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v.Secret, v.Hash, v.Ciphertext)
	f.Add(v.Secret, v.Hash, v.Ciphertext[:16])
	f.Add(v.Secret, []byte("short"), v.Ciphertext)
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, secret, hash, ct []byte) {
		plain, err := DecryptData(secret, hash, ct)
		if err != nil {
			checkSentinel(t, err)
		}
		r, rerr := NewFileReader(bytes.NewReader(ct), FileCredentials{FileHash: hash, Secret: secret})
		if rerr != nil {
			checkSentinel(t, rerr)
			if err == nil {
				t.Fatalf("DecryptData accepted what NewFileReader refused: %v", rerr)
			}
			return
		}
		streamed, serr := io.ReadAll(r)
		switch {
		case err == nil && serr == nil:
			if !bytes.Equal(plain, streamed) {
				t.Fatal("stream and primitive disagree on the plaintext")
			}
		case err != nil && serr != nil:
			for _, s := range sentinels {
				if errors.Is(err, s) != errors.Is(serr, s) {
					t.Fatalf("verdicts differ: %v vs %v", err, serr)
				}
			}
		default:
			t.Fatalf("one accepted, one refused: %v vs %v", err, serr)
		}
	})
}

func FuzzParseFields(f *testing.F) {
	f.Add([]byte(`{"first_name":"A","middle_name":""}`))
	f.Add([]byte(`{"a":null}`))
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"city":"M\u00fcnchen","street_line1":"1 \"A\" St","post_code":"80331","city":"Berlin"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := parseFields(b, 0)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		// Each value is what encoding/json reads (escapes, invalid UTF-8,
		// the last of a repeated key), whether it is a substring of the
		// document or a string of its own.
		var ref map[string]*string
		if json.Unmarshal(b, &ref) == nil {
			if len(ref) != len(fields) {
				t.Fatalf("%d fields, encoding/json reads %d", len(fields), len(ref))
			}
			for k, v := range ref {
				want := ""
				if v != nil {
					want = *v
				}
				if got, ok := fields[k]; !ok || got != want {
					t.Fatalf("field %q = %q, encoding/json reads %q", k, got, want)
				}
			}
		}
		el := Element{Type: TypePersonalDetails, Fields: fields}
		if _, err := el.PersonalDetails(); err != nil {
			t.Fatalf("typed view of parsed fields: %v", err)
		}
	})
}

// FuzzFromMTProto decodes arbitrary TL bytes as the action a bot receives
// and pushes whatever decodes through conversion and decryption.
func FuzzFromMTProto(f *testing.F) {
	sh := fuzzSubmission(f)
	creds := sh.Credentials
	a, err := sh.Submission.MTProto()
	if err != nil {
		f.Fatal(err)
	}
	var buf bin.Buffer
	if err := a.Encode(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Copy())
	f.Fuzz(func(t *testing.T, b []byte) {
		var action actionForFuzz
		if err := action.Decode(&bin.Buffer{Buf: b}); err != nil {
			return // gotd refuses it before it reaches us
		}
		es, err := FromMTProto(&action.MessageActionSecureValuesSentMe)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if _, err := creds.Open(es.Elements); err != nil {
			checkSentinel(t, err)
		}
	})
}

type actionForFuzz struct {
	tg.MessageActionSecureValuesSentMe
}

// FuzzDecryptCredentialsSecret decrypts arbitrary ciphertexts with a
// throwaway key committed for it (testdata/fuzz-private-key.pem, used
// nowhere else) on every backend: they must give the same secret or the
// same error, and every error must wrap a sentinel.
func FuzzDecryptCredentialsSecret(f *testing.F) {
	priv := parseTestdata(f, "testdata/fuzz-private-key.pem", ParsePrivateKey)
	keys := decryptionKeys(f, priv)
	for _, n := range []int{0, SecretSize - 1, SecretSize, 100} {
		ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, make([]byte, n), nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct)
	}
	f.Add(bytes.Repeat([]byte{0xFF}, priv.Size()))
	f.Add(make([]byte, priv.Size()))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, ct []byte) {
		// Most inputs are made the key's size, so that they reach the RSA
		// decryption rather than the length checks.
		if len(ct) > 0 && ct[0]%4 != 0 && len(ct) != priv.Size() {
			ct = append(ct, make([]byte, max(0, priv.Size()-len(ct)))...)[:priv.Size()]
		}
		secret, err := DecryptCredentialsSecret(keys[0].key, ct)
		want := outcome(secret, err)
		if err != nil {
			checkSentinel(t, err)
		} else if len(secret) != SecretSize {
			t.Fatalf("a %d-byte secret accepted", len(secret))
		}
		for _, k := range keys[1:] {
			if got := outcome(DecryptCredentialsSecret(k.key, ct)); got != want {
				t.Fatalf("%s: %s\n%s: %s", k.name, got, keys[0].name, want)
			}
		}
	})
}
