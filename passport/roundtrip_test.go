package passport

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"
	"testing/iotest"
)

// scan returns n deterministic pseudo-random bytes standing in for a JPEG.
func scan(seed uint64, n int) []byte {
	r := mrand.New(mrand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fullProfile has every element type with every file kind it may carry.
func fullProfile() []PlainElement {
	return []PlainElement{
		{Type: TypePersonalDetails, Fields: map[string]string{
			"first_name": "Ivan", "last_name": "Petrov", "middle_name": "", "birth_date": "29.02.2000",
			"gender": "male", "country_code": "RU", "residence_country_code": "DE",
			"first_name_native": "Иван", "last_name_native": "Петров", "middle_name_native": "",
		}},
		{Type: TypePassport, Fields: map[string]string{"document_no": "P1234567", "expiry_date": "01.01.2035"},
			FrontSide: scan(1, 3000), Selfie: scan(2, 2500), Translation: [][]byte{scan(3, 1000)}},
		{Type: TypeDriverLicense, Fields: map[string]string{"document_no": "DL-77", "expiry_date": ""},
			FrontSide: scan(4, 4097), ReverseSide: scan(5, 100), Selfie: scan(6, 1),
			Translation: [][]byte{scan(7, 16), scan(8, 17)}},
		{Type: TypeIdentityCard, Fields: map[string]string{"document_no": "ID9", "expiry_date": "31.12.2030"},
			FrontSide: scan(9, 333), ReverseSide: scan(10, 334)},
		{Type: TypeInternalPassport, Fields: map[string]string{"document_no": "4510 123456"}, FrontSide: scan(11, 70000)},
		{Type: TypeAddress, Fields: map[string]string{
			"street_line1": "Unter den Linden 1", "street_line2": "", "city": "Berlin", "state": "",
			"country_code": "DE", "post_code": "10117",
		}},
		{Type: TypeUtilityBill, Files: [][]byte{scan(12, 500), scan(13, 501)}, Translation: [][]byte{scan(14, 502)}},
		{Type: TypeBankStatement, Files: [][]byte{scan(15, 9)}},
		{Type: TypeRentalAgreement, Files: [][]byte{scan(16, 64)}, Translation: [][]byte{scan(17, 65)}},
		{Type: TypePassportRegistration, Files: [][]byte{scan(18, 2048)}},
		{Type: TypeTemporaryRegistration, Files: [][]byte{scan(19, 31)}},
		{Type: TypePhoneNumber, PhoneNumber: "491701234567"},
		{Type: TypeEmail, Email: "ivan@example.org"},
	}
}

// wireForms converts a submission into each wire form and back.
var wireForms = []struct {
	name string
	conv func(*EncryptedSubmission) (*EncryptedSubmission, error)
}{
	{"mtproto", func(es *EncryptedSubmission) (*EncryptedSubmission, error) {
		a, err := es.MTProto()
		if err != nil {
			return nil, err
		}
		return FromMTProto(a)
	}},
	{"botapi", func(es *EncryptedSubmission) (*EncryptedSubmission, error) {
		b, err := es.MarshalBotAPI()
		if err != nil {
			return nil, err
		}
		return ParseBotAPI(b)
	}},
}

func TestRoundTripEveryElementAndFile(t *testing.T) {
	for _, bits := range []int{2048, 4096} {
		priv := testKey(t, bits)
		for _, form := range wireForms {
			for _, k := range decryptionKeys(t, priv) {
				t.Run(fmt.Sprintf("%d/%s/%s", bits, form.name, k.name), func(t *testing.T) {
					profile := fullProfile()
					sh, err := EncryptSubmission(rand.Reader, &priv.PublicKey, "nonce-"+form.name, profile)
					if err != nil {
						t.Fatal(err)
					}
					es, err := form.conv(sh.Submission)
					if err != nil {
						t.Fatal(err)
					}
					sub, err := Decrypt(k.key, es)
					if err != nil {
						t.Fatal(err)
					}
					if sub.Nonce != "nonce-"+form.name || sub.LegacyNonce {
						t.Errorf("nonce %q legacy %v", sub.Nonce, sub.LegacyNonce)
					}
					if len(sub.Elements) != len(profile) {
						t.Fatalf("%d elements, want %d", len(sub.Elements), len(profile))
					}
					for i, pe := range profile {
						checkElement(t, &sub.Elements[i], &pe, sh)
					}
				})
			}
		}
	}
}

func checkElement(t *testing.T, el *Element, pe *PlainElement, sh *Shared) {
	t.Helper()
	if el.Type != pe.Type {
		t.Fatalf("element type %s, want %s", el.Type, pe.Type)
	}
	if len(el.Hash) != HashSize {
		t.Errorf("%s: element hash %d bytes", el.Type, len(el.Hash))
	}
	if pe.Type.HasData() {
		assertJSONEqual(t, string(el.Type)+" fields", el.Fields, pe.Fields)
	}
	if el.PhoneNumber != pe.PhoneNumber || el.Email != pe.Email {
		t.Errorf("%s: plain %q %q", el.Type, el.PhoneNumber, el.Email)
	}
	one := func(part string, f *File, want []byte) {
		t.Helper()
		if (f == nil) != (want == nil) {
			t.Errorf("%s %s present %v, want %v", el.Type, part, f != nil, want != nil)
			return
		}
		if f != nil {
			checkFile(t, string(el.Type)+" "+part, f, sh, want)
		}
	}
	one("front_side", el.FrontSide, pe.FrontSide)
	one("reverse_side", el.ReverseSide, pe.ReverseSide)
	one("selfie", el.Selfie, pe.Selfie)
	many := func(part string, fs []File, want [][]byte) {
		t.Helper()
		if len(fs) != len(want) {
			t.Errorf("%s %s: %d files, want %d", el.Type, part, len(fs), len(want))
			return
		}
		for i := range fs {
			checkFile(t, fmt.Sprintf("%s %s[%d]", el.Type, part, i), &fs[i], sh, want[i])
		}
	}
	many("files", el.Files, pe.Files)
	many("translation", el.Translation, pe.Translation)
}

func checkFile(t *testing.T, what string, f *File, sh *Shared, want []byte) {
	t.Helper()
	ct, ok := sh.Encrypted(f.FileRef)
	if !ok {
		t.Errorf("%s: no encrypted bytes for file %q/%d", what, f.FileID, f.ID)
		return
	}
	var out stage
	n, err := DecryptFile(&out, bytes.NewReader(ct), f.Credentials)
	if err != nil || out.committed != 1 {
		t.Errorf("%s: %v (committed %d)", what, err, out.committed)
		return
	}
	if n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
		t.Errorf("%s: decrypted %d bytes differing from the %d plaintext bytes", what, n, len(want))
	}
}

// lengthFor returns a data length that pad completes to a multiple of 16.
func lengthFor(pad, k int) int { return (16-pad%16)%16 + 16*k }

func TestPaddingEveryLength(t *testing.T) {
	for pad := MinPadding; pad <= MaxPadding; pad++ {
		for _, k := range []int{0, 1, 5} {
			data := scan(uint64(pad*10+k), lengthFor(pad, k))
			v, err := EncryptValue(rand.Reader, data, WithPadding(pad))
			if err != nil {
				t.Fatalf("pad %d: %v", pad, err)
			}
			got, err := DecryptData(v.Secret, v.Hash, v.Ciphertext)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("pad %d len %d: DecryptData = %v", pad, len(data), err)
			}
			// The streaming reader, fed one byte at a time, agrees.
			r, err := NewFileReader(iotest.OneByteReader(bytes.NewReader(v.Ciphertext)), v.FileCredentials())
			if err != nil {
				t.Fatal(err)
			}
			streamed, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(streamed, data) || !r.Verified() {
				t.Fatalf("pad %d len %d: streamed %v verified %v", pad, len(data), err, r.Verified())
			}
		}
	}
}

func TestPadRandomLengthsAreValid(t *testing.T) {
	seen := map[int]bool{}
	for n := 0; n < 2000; n++ {
		data := make([]byte, n%50)
		p, err := Pad(rand.Reader, data)
		if err != nil {
			t.Fatal(err)
		}
		pad := int(p[0])
		if pad < MinPadding || pad > MaxPadding || len(p)%16 != 0 || !bytes.Equal(p[pad:], data) {
			t.Fatalf("Pad(%d bytes) gave padding %d, total %d", len(data), pad, len(p))
		}
		seen[pad/16] = true
	}
	if len(seen) < 12 {
		t.Errorf("random padding covers only %d of 14 sixteen-byte bands", len(seen))
	}
}

func TestPadRejectsInvalidLength(t *testing.T) {
	for _, pad := range []int{31, 256, 33} {
		if _, err := Pad(rand.Reader, make([]byte, 0), WithPadding(pad)); !errors.Is(err, ErrBadPadding) {
			t.Errorf("pad %d: %v, want ErrBadPadding", pad, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	for i := 0; i < 500; i++ {
		s, err := NewSecret(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidSecret(s) {
			t.Fatalf("NewSecret gave byte sum %d mod 255", secretSum(s))
		}
	}
	if ValidSecret(make([]byte, 32)) || ValidSecret(make([]byte, 31)) {
		t.Error("ValidSecret accepts invalid secrets")
	}
	if _, err := NewSecret(iotest.ErrReader(io.ErrUnexpectedEOF)); err == nil {
		t.Error("NewSecret ignores a failing random source")
	}
}

func TestSecretID(t *testing.T) {
	// secure_secret_id is little-endian: bytes 01 00 .. read as 1.
	s := make([]byte, 32)
	sum := sha256.Sum256(s)
	var want int64
	for i := 7; i >= 0; i-- {
		want = want<<8 | int64(sum[i])
	}
	if got := SecretID(s); got != want {
		t.Errorf("SecretID = %d, want %d", got, want)
	}
}

func TestValueSecretRoundTrip(t *testing.T) {
	ps, _ := NewSecret(rand.Reader)
	v, err := EncryptValue(rand.Reader, []byte(`{"document_no":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := v.SecretFor(ps)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(enc, v.Secret) {
		t.Fatal("value secret not encrypted")
	}
	got, err := DecryptValueSecret(ps, v.Hash, enc)
	if err != nil || !bytes.Equal(got, v.Secret) {
		t.Fatalf("DecryptValueSecret = %v", err)
	}
	other, _ := NewSecret(rand.Reader)
	if _, err := DecryptValueSecret(other, v.Hash, enc); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("wrong passport secret: %v, want ErrHashMismatch", err)
	}
	sd, err := v.SecureData(ps)
	if err != nil || !bytes.Equal(sd.Secret, enc) || !bytes.Equal(sd.DataHash, v.Hash) {
		t.Errorf("SecureData = %+v, %v", sd, err)
	}
	up, err := v.InputFileUploaded(ps, 7, 1)
	if err != nil || len(up.MD5Checksum) != 32 || up.ID != 7 {
		t.Errorf("InputFileUploaded = %+v, %v", up, err)
	}
}

func TestPassportSecretUnderPassword(t *testing.T) {
	ps, _ := NewSecret(rand.Reader)
	serverSalt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	salt, enc, err := EncryptPassportSecret(rand.Reader, []byte("hunter2"), serverSalt, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(salt) != 40 || !bytes.Equal(salt[:8], serverSalt) {
		t.Errorf("salt = %d bytes, prefix %x", len(salt), salt[:8])
	}
	got, err := DecryptPassportSecret([]byte("hunter2"), salt, enc)
	if err != nil || !bytes.Equal(got, ps) {
		t.Fatalf("DecryptPassportSecret = %v", err)
	}
	// A wrong password: ErrWrongPassword, except once in 255 when the
	// random bytes it decrypts to pass ValidSecret; the secret ID then
	// tells them from the secret.
	switch got, err := DecryptPassportSecret([]byte("hunter3"), salt, enc); {
	case errors.Is(err, ErrWrongPassword):
	case err != nil:
		t.Errorf("wrong password: %v, want ErrWrongPassword", err)
	case SecretID(got) == SecretID(ps):
		t.Error("a wrong password decrypted the passport secret")
	}
}

func TestLegacyPayloadNonce(t *testing.T) {
	key := testKey(t, 2048)
	creds := &Credentials{SecureData: map[ElementType]*ValueCredentials{}, Nonce: "old-app", Legacy: true}
	ec, err := EncryptCredentials(rand.Reader, &key.PublicKey, creds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecryptCredentials(key, ec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nonce != "old-app" || !got.Legacy {
		t.Errorf("nonce %q legacy %v", got.Nonce, got.Legacy)
	}
}

func TestParseCredentialsVariants(t *testing.T) {
	h := "qv4TfMuqw2pPaHqvNSthSVVcN32cty1dFlHkCbzFZ2k="
	tests := []struct {
		name, json string
		nonce      string
		legacy     bool
		err        error
	}{
		{"nonce wins over payload", `{"secure_data":{},"payload":"p","nonce":"n"}`, "n", false, nil},
		{"payload only", `{"secure_data":{},"payload":"p"}`, "p", true, nil},
		{"android escapes", `{"nonce":"a\/b","secure_data":{"address":{"data":{"data_hash":"` + h + `","secret":"` + h + `"}}}}`, "a/b", false, nil},
		{"unknown type ignored", `{"nonce":"n","secure_data":{"future_doc":{"data":{"data_hash":"AA==","secret":"AA=="}}}}`, "n", false, nil},
		{"short secret", `{"nonce":"n","secure_data":{"address":{"data":{"data_hash":"` + h + `","secret":"AA=="}}}}`, "", false, ErrMalformed},
		{"short file hash", `{"nonce":"n","secure_data":{"passport":{"front_side":{"file_hash":"AA==","secret":"` + h + `"}}}}`, "", false, ErrMalformed},
		{"bad base64", `{"nonce":"n","secure_data":{"address":{"data":{"data_hash":"!!","secret":"` + h + `"}}}}`, "", false, ErrMalformed},
		{"not json", `{"nonce":`, "", false, ErrMalformed},
		{"wrong type", `{"nonce":5}`, "", false, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCredentials([]byte(tt.json))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Nonce != tt.nonce || c.Legacy != tt.legacy {
				t.Errorf("nonce %q legacy %v, want %q %v", c.Nonce, c.Legacy, tt.nonce, tt.legacy)
			}
		})
	}
}

func TestOpenRejectsInconsistentSubmissions(t *testing.T) {
	key := testKey(t, 2048)
	profile := fullProfile()
	tests := []struct {
		name   string
		mutate func(es *EncryptedSubmission)
		err    error
	}{
		{"tampered element data", func(es *EncryptedSubmission) { es.Elements[0].Data[5] ^= 1 }, ErrHashMismatch},
		{"server data hash differs", func(es *EncryptedSubmission) { es.Elements[0].DataHash = make([]byte, 32) }, ErrHashMismatch},
		{"server file hash differs", func(es *EncryptedSubmission) { es.Elements[1].FrontSide.FileHash = make([]byte, 32) }, ErrHashMismatch},
		{"extra scan without credentials", func(es *EncryptedSubmission) {
			es.Elements[6].Files = append(es.Elements[6].Files, es.Elements[6].Files[0])
		}, ErrMalformed},
		{"element twice", func(es *EncryptedSubmission) { es.Elements = append(es.Elements, es.Elements[0]) }, ErrMalformed},
		{"unknown type", func(es *EncryptedSubmission) { es.Elements[0].Type = "selfie_video" }, ErrMalformed},
		{"data missing", func(es *EncryptedSubmission) { es.Elements[5].Data = nil }, ErrMalformed},
		{"truncated data", func(es *EncryptedSubmission) { es.Elements[5].Data = es.Elements[5].Data[:15] }, ErrMalformed},
		{"tampered credentials", func(es *EncryptedSubmission) { es.Credentials.Data[0] ^= 1 }, ErrHashMismatch},
		{"tampered credentials secret", func(es *EncryptedSubmission) { es.Credentials.Secret[9] ^= 1 }, ErrWrongKey},
	}
	for _, tt := range tests {
		for _, k := range decryptionKeys(t, key) {
			t.Run(tt.name+"/"+k.name, func(t *testing.T) {
				sh, err := EncryptSubmission(rand.Reader, &key.PublicKey, "n", profile)
				if err != nil {
					t.Fatal(err)
				}
				tt.mutate(sh.Submission)
				_, err = Decrypt(k.key, sh.Submission)
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			})
		}
	}
}

func TestDecryptDataErrors(t *testing.T) {
	v, err := EncryptValue(rand.Reader, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	badPad := make([]byte, 32)
	badPad[0] = 10 // below 32
	hash, ct, _ := encryptRaw(v.Secret, badPad)
	tooLong := make([]byte, 48)
	tooLong[0] = 200 // longer than the data
	hash2, ct2, _ := encryptRaw(v.Secret, tooLong)
	tests := []struct {
		name               string
		secret, hash, data []byte
		err                error
	}{
		{"ok", v.Secret, v.Hash, v.Ciphertext, nil},
		{"short secret", v.Secret[:31], v.Hash, v.Ciphertext, ErrMalformed},
		{"empty ciphertext", v.Secret, v.Hash, nil, ErrMalformed},
		{"partial block", v.Secret, v.Hash, v.Ciphertext[:len(v.Ciphertext)-1], ErrMalformed},
		{"short hash", v.Secret, v.Hash[:31], v.Ciphertext, ErrHashMismatch},
		{"flipped byte", v.Secret, v.Hash, flip(v.Ciphertext, 3), ErrHashMismatch},
		{"padding below 32", v.Secret, hash, ct, ErrBadPadding},
		{"padding beyond data", v.Secret, hash2, ct2, ErrBadPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptData(tt.secret, tt.hash, tt.data)
			if tt.err == nil {
				if err != nil || string(got) != "hello" {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// encryptRaw encrypts padded bytes without validating the padding, to
// produce invalid inputs.
func encryptRaw(secret, padded []byte) (hash, ct []byte, err error) {
	sum := sha256.Sum256(padded)
	mode, err := newCBC(secret, sum[:], false)
	if err != nil {
		return nil, nil, err
	}
	ct = make([]byte, len(padded))
	mode.CryptBlocks(ct, padded)
	return sum[:], ct, nil
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x80
	return c
}
