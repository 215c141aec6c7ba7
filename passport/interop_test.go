package passport

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// The interop test encrypts submissions with this package's client side and
// decrypts them with python-telegram-bot (Debian python3-python-telegram-bot
// 13.15, an independent implementation) through testdata/ptb_decrypt.py.

const (
	ptbDefaultPython = "/usr/bin/python3"
	ptbPythonEnv     = "KYCBOT_PTB_PYTHON"
	ptbScript        = "testdata/ptb_decrypt.py"
	ptbDebianPackage = "python3-python-telegram-bot"
)

// ptbPython returns the interpreter that has python-telegram-bot. When it is
// missing the test fails under CI (CI must run it) and is skipped otherwise.
func ptbPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv(ptbPythonEnv)
	if py == "" {
		py = ptbDefaultPython
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-W", "ignore", "-c", "import telegram.passport").CombinedOutput()
	if err != nil {
		why := err.Error()
		if o := strings.TrimSpace(string(out)); o != "" {
			why += ": " + lastLine(o)
		}
		msg := fmt.Sprintf("python-telegram-bot is not usable with %s (%s); install it with "+
			"`apt-get install %s` (it provides the telegram module to /usr/bin/python3) or point %s at an "+
			"interpreter that has it", py, why, ptbDebianPackage, ptbPythonEnv)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI is set, so this interop test must run, not skip", msg)
		}
		t.Skip(msg)
	}
	return py
}

// ptbElement is one element as ptb_decrypt.py reports it.
type ptbElement struct {
	Data        map[string]any    `json:"data"`
	DataFields  []string          `json:"data_fields"`
	PhoneNumber *string           `json:"phone_number"`
	Email       *string           `json:"email"`
	Files       map[string]string `json:"files"`
}

type ptbResult struct {
	Version  string                `json:"ptb_version"`
	Nonce    string                `json:"nonce"`
	Elements map[string]ptbElement `json:"elements"`
}

// runPTB decrypts sh with python-telegram-bot. A failure of the script is
// returned with its stderr.
func runPTB(t *testing.T, py string, key *rsa.PrivateKey, sh *Shared) (*ptbResult, error) {
	t.Helper()
	pd, err := sh.Submission.MarshalBotAPI()
	if err != nil {
		t.Fatalf("MarshalBotAPI: %v", err)
	}
	files := make(map[string]string, len(sh.Files))
	for id, b := range sh.Files {
		files[id] = base64.StdEncoding.EncodeToString(b)
	}
	job, err := json.Marshal(map[string]any{
		"private_key_pem": string(MarshalPrivateKey(key)),
		"passport_data":   json.RawMessage(pd),
		"files":           files,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, ptbScript)
	cmd.Stdin = bytes.NewReader(job)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\nstderr:\n%s", py, ptbScript, err, stderr.String())
	}
	var res ptbResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("parse %s output: %v\n%s", ptbScript, err, stdout.String())
	}
	return &res, nil
}

// interopCase is one submission to cross-check.
type interopCase struct {
	name     string
	bits     int
	nonce    string
	elements []PlainElement
}

// scanSizes gives every scan a different length, most not a multiple of 16.
var scanSizes = []int{1021, 2048, 4093, 1537, 3001, 2222, 4096, 1111, 2999, 3333, 1039, 2500, 3583, 1200, 4001, 1777, 2731, 3999}

// scanMaker returns deterministic pseudo-random "scans" of varying lengths.
func scanMaker(seed byte) func() []byte {
	var s [32]byte
	s[0] = seed
	rng := mrand.NewChaCha8(s)
	i := 0
	return func() []byte {
		b := make([]byte, scanSizes[i%len(scanSizes)]+i/len(scanSizes))
		i++
		_, _ = rng.Read(b)
		return b
	}
}

// fullSubmission covers every element type that carries data or files, and
// both plain types.
func fullSubmission(seed byte, pd, pp, dl, ic, ip, ad map[string]string) []PlainElement {
	scan := scanMaker(seed)
	return []PlainElement{
		{Type: TypePersonalDetails, Fields: pd},
		{Type: TypePassport, Fields: pp, FrontSide: scan(), Selfie: scan(), Translation: [][]byte{scan()}},
		{
			Type: TypeDriverLicense, Fields: dl, FrontSide: scan(), ReverseSide: scan(), Selfie: scan(),
			Translation: [][]byte{scan(), scan()},
		},
		{Type: TypeIdentityCard, Fields: ic, FrontSide: scan(), ReverseSide: scan()},
		{Type: TypeInternalPassport, Fields: ip, FrontSide: scan()},
		{Type: TypeAddress, Fields: ad},
		{Type: TypeUtilityBill, Files: [][]byte{scan(), scan()}, Translation: [][]byte{scan()}},
		{Type: TypeBankStatement, Files: [][]byte{scan()}},
		{Type: TypeRentalAgreement, Files: [][]byte{scan()}},
		{Type: TypePassportRegistration, Files: [][]byte{scan()}},
		{Type: TypeTemporaryRegistration, Files: [][]byte{scan()}},
		{Type: TypePhoneNumber, PhoneNumber: "79991234567"},
		{Type: TypeEmail, Email: "ivan.petrov+kyc@example.org"},
	}
}

func interopCases() []interopCase {
	return []interopCase{
		{
			// Every optional field filled; Cyrillic native names; JSON
			// metacharacters Go escapes (\u0026, \u003c) and a non-BMP rune.
			name: "rsa2048-all-fields", bits: 2048, nonce: "n0nce-ÄÖ-\u2028-" + strings.Repeat("x", 40),
			elements: fullSubmission(1,
				map[string]string{
					"first_name": "Ivan", "last_name": "Petrov", "middle_name": "Sergeevich",
					"birth_date": "02.01.1990", "gender": "male", "country_code": "RU", "residence_country_code": "RU",
					"first_name_native": "Иван", "last_name_native": "Петров", "middle_name_native": "Сергеевич",
				},
				map[string]string{"document_no": "AB1234567", "expiry_date": "31.12.2030"},
				map[string]string{"document_no": "DL-77 001", "expiry_date": "01.06.2031"},
				map[string]string{"document_no": "ID/42", "expiry_date": "29.02.2028"},
				map[string]string{"document_no": "4510 123456", "expiry_date": "15.05.2035"},
				map[string]string{
					"street_line1": `ul. Lenina, d. 1 "B"`, "street_line2": `kv. 5 & <rear> \ 🏠`,
					"city": "Москва", "state": "Moskva", "country_code": "RU", "post_code": "101000",
				},
			),
		},
		{
			// Optional fields as empty strings, as apps send them, except
			// middle names, left out; Persian native names.
			name: "rsa4096-empty-optionals", bits: 4096, nonce: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			elements: fullSubmission(2,
				map[string]string{
					"first_name": "Ali", "last_name": "Rezaei", "birth_date": "21.03.1985", "gender": "female",
					"country_code": "IR", "residence_country_code": "DE",
					"first_name_native": "علی", "last_name_native": "رضایی",
				},
				map[string]string{"document_no": "P9876543", "expiry_date": ""},
				map[string]string{"document_no": "B072RRE2I55", "expiry_date": "07.07.2029"},
				map[string]string{"document_no": "T22000129", "expiry_date": ""},
				map[string]string{"document_no": "0001", "expiry_date": ""},
				map[string]string{
					"street_line1": "Unter den Linden 77", "street_line2": "", "city": "Berlin", "state": "",
					"country_code": "DE", "post_code": "10117",
				},
			),
		},
	}
}

// expectedFiles maps each element type to file_id -> SHA-256 hex of the
// plaintext scan, pairing the encrypted submission with its plain elements.
func expectedFiles(t *testing.T, sh *Shared, plain []PlainElement) map[ElementType]map[string]string {
	t.Helper()
	if len(sh.Submission.Elements) != len(plain) {
		t.Fatalf("submission has %d elements, encrypted %d", len(sh.Submission.Elements), len(plain))
	}
	out := map[ElementType]map[string]string{}
	for i := range plain {
		pe, ee := &plain[i], &sh.Submission.Elements[i]
		if ee.Type != pe.Type {
			t.Fatalf("element %d is %s, want %s", i, ee.Type, pe.Type)
		}
		m := map[string]string{}
		add := func(ref *FileRef, data []byte, what string) {
			switch {
			case ref == nil && data == nil:
				return
			case ref == nil || data == nil:
				t.Fatalf("%s %s: file ref %v, plaintext present %v", pe.Type, what, ref != nil, data != nil)
			}
			if _, dup := m[ref.FileID]; dup || ref.FileID == "" {
				t.Fatalf("%s %s: file_id %q is empty or reused", pe.Type, what, ref.FileID)
			}
			if _, ok := sh.Files[ref.FileID]; !ok {
				t.Fatalf("%s %s: no encrypted bytes for %q", pe.Type, what, ref.FileID)
			}
			sum := sha256.Sum256(data)
			m[ref.FileID] = hex.EncodeToString(sum[:])
		}
		add(ee.FrontSide, pe.FrontSide, "front_side")
		add(ee.ReverseSide, pe.ReverseSide, "reverse_side")
		add(ee.Selfie, pe.Selfie, "selfie")
		for _, list := range []struct {
			what  string
			refs  []FileRef
			plain [][]byte
		}{{"files", ee.Files, pe.Files}, {"translation", ee.Translation, pe.Translation}} {
			if len(list.refs) != len(list.plain) {
				t.Fatalf("%s %s: %d refs for %d scans", pe.Type, list.what, len(list.refs), len(list.plain))
			}
			for j := range list.refs {
				add(&list.refs[j], list.plain[j], fmt.Sprintf("%s[%d]", list.what, j))
			}
		}
		if len(m) > 0 {
			out[pe.Type] = m
		}
	}
	return out
}

func TestInteropPythonTelegramBot(t *testing.T) {
	py := ptbPython(t)
	for _, tc := range interopCases() {
		t.Run(tc.name, func(t *testing.T) {
			key := testKey(t, tc.bits)
			sh, err := EncryptSubmission(rand.Reader, &key.PublicKey, tc.nonce, tc.elements)
			if err != nil {
				t.Fatalf("EncryptSubmission: %v", err)
			}
			wantFiles := expectedFiles(t, sh, tc.elements)
			if n := countFiles(wantFiles); n != 18 {
				t.Fatalf("the submission carries %d files, want 18 (test setup)", n)
			}

			t.Run("python-telegram-bot", func(t *testing.T) {
				res, err := runPTB(t, py, key, sh)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("python-telegram-bot %s", res.Version)
				checkPTB(t, res, tc, wantFiles)
			})
			for _, k := range decryptionKeys(t, key) {
				t.Run("passport.Decrypt/"+k.name, func(t *testing.T) {
					checkOurs(t, k.key, sh, tc, wantFiles)
				})
			}
		})
	}
	t.Run("rsa2048-omitted-optionals", func(t *testing.T) { interopOmittedOptionals(t, py) })
}

func countFiles(m map[ElementType]map[string]string) int {
	n := 0
	for _, f := range m {
		n += len(f)
	}
	return n
}

// checkPTB compares python-telegram-bot's decryption with what was encrypted.
func checkPTB(t *testing.T, res *ptbResult, tc interopCase, wantFiles map[ElementType]map[string]string) {
	t.Helper()
	if res.Nonce != tc.nonce {
		t.Errorf("nonce = %q, want %q", res.Nonce, tc.nonce)
	}
	if len(res.Elements) != len(tc.elements) {
		t.Errorf("PTB decrypted %d elements, want %d: %v", len(res.Elements), len(tc.elements), keysOf(res.Elements))
	}
	for _, pe := range tc.elements {
		got, ok := res.Elements[string(pe.Type)]
		if !ok {
			t.Errorf("%s: missing from PTB's decrypted data", pe.Type)
			continue
		}
		if pe.Type.HasData() {
			// Every field this package documents must exist in PTB's data
			// class, and PTB must not know fields this package lacks.
			ours := pe.Type.DataFields()
			for _, f := range ours {
				if !slices.Contains(got.DataFields, f) {
					t.Errorf("%s: PTB's data class has no field %q (it exposes %v)", pe.Type, f, got.DataFields)
				}
			}
			for _, f := range got.DataFields {
				if !slices.Contains(ours, f) {
					t.Errorf("%s: PTB exposes field %q that DataFields() lacks", pe.Type, f)
				}
			}
			// PTB's to_dict() leaves out fields that are None (absent) and
			// keeps empty strings, so it must equal the encrypted object.
			gotFields := make(map[string]string, len(got.Data))
			for k, v := range got.Data {
				s, ok := v.(string)
				if !ok {
					t.Errorf("%s.%s: PTB gives %T %v, want a string", pe.Type, k, v, v)
					continue
				}
				gotFields[k] = s
			}
			compareFields(t, "PTB", pe.Type, gotFields, pe.Fields)
		} else if got.Data != nil {
			t.Errorf("%s: PTB decrypted data %v for a type without data", pe.Type, got.Data)
		}
		checkPlain(t, "PTB", pe, deref(got.PhoneNumber), deref(got.Email))
		compareFiles(t, "PTB", pe.Type, got.Files, wantFiles[pe.Type])
	}
}

// checkOurs decrypts the same Bot API bytes with this package.
func checkOurs(t *testing.T, key crypto.Decrypter, sh *Shared, tc interopCase, wantFiles map[ElementType]map[string]string) {
	t.Helper()
	pd, err := sh.Submission.MarshalBotAPI()
	if err != nil {
		t.Fatalf("MarshalBotAPI: %v", err)
	}
	es, err := ParseBotAPI(pd)
	if err != nil {
		t.Fatalf("ParseBotAPI: %v", err)
	}
	sub, err := Decrypt(key, es)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if sub.Nonce != tc.nonce || sub.LegacyNonce {
		t.Errorf("nonce = %q (legacy %v), want %q", sub.Nonce, sub.LegacyNonce, tc.nonce)
	}
	if len(sub.Elements) != len(tc.elements) {
		t.Errorf("decrypted %d elements, want %d", len(sub.Elements), len(tc.elements))
	}
	for _, pe := range tc.elements {
		el := sub.Element(pe.Type)
		if el == nil {
			t.Errorf("%s: missing after Decrypt", pe.Type)
			continue
		}
		if pe.Type.HasData() {
			compareFields(t, "passport.Decrypt", pe.Type, el.Fields, pe.Fields)
		} else if el.Fields != nil {
			t.Errorf("%s: Decrypt gave data %v for a type without data", pe.Type, el.Fields)
		}
		checkPlain(t, "passport.Decrypt", pe, el.PhoneNumber, el.Email)
		got := map[string]string{}
		decryptOne := func(f *File) {
			if f == nil {
				return
			}
			enc, ok := sh.Files[f.FileID]
			if !ok {
				t.Errorf("%s: Decrypt returned unknown file_id %q", pe.Type, f.FileID)
				return
			}
			h := sha256.New()
			r, err := NewFileReader(bytes.NewReader(enc), f.Credentials)
			if err == nil {
				_, err = io.Copy(h, r)
			}
			if err != nil {
				t.Errorf("%s: decrypt file %s: %v", pe.Type, f.FileID, err)
				return
			}
			got[f.FileID] = hex.EncodeToString(h.Sum(nil))
		}
		decryptOne(el.FrontSide)
		decryptOne(el.ReverseSide)
		decryptOne(el.Selfie)
		for i := range el.Files {
			decryptOne(&el.Files[i])
		}
		for i := range el.Translation {
			decryptOne(&el.Translation[i])
		}
		compareFiles(t, "passport.Decrypt", pe.Type, got, wantFiles[pe.Type])
	}
}

func compareFields(t *testing.T, who string, typ ElementType, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: %s.%s is missing, want %q", who, typ, k, w)
		case g != w:
			t.Errorf("%s: %s.%s = %q, want %q", who, typ, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s has unexpected field %s = %q", who, typ, k, g)
		}
	}
}

func checkPlain(t *testing.T, who string, pe PlainElement, phone, email string) {
	t.Helper()
	if phone != pe.PhoneNumber {
		t.Errorf("%s: %s phone_number = %q, want %q", who, pe.Type, phone, pe.PhoneNumber)
	}
	if email != pe.Email {
		t.Errorf("%s: %s email = %q, want %q", who, pe.Type, email, pe.Email)
	}
}

func compareFiles(t *testing.T, who string, typ ElementType, got, want map[string]string) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: %s file %s was not decrypted", who, typ, id)
		case g != w:
			t.Errorf("%s: %s file %s: sha256 of the decrypted bytes = %s, want %s (the plaintext scan's)", who, typ, id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: %s has unexpected file %s", who, typ, id)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// interopOmittedOptionals sends documents and an address
// whose optional fields are left out entirely (the protocol allows it; apps
// usually send "" instead). This package must decrypt them. PTB 13 declares
// IdDocumentData.expiry_date and ResidentialAddress.street_line2/state as
// required constructor arguments, so it may refuse such data with a
// TypeError; that is logged as a known PTB limitation, any other PTB failure
// or a wrong value fails the test.
func interopOmittedOptionals(t *testing.T, py string) {
	key := testKey(t, 2048)
	tc := interopCase{
		name: "omitted-optionals", bits: 2048, nonce: "omitted-optionals",
		elements: []PlainElement{
			{Type: TypePersonalDetails, Fields: map[string]string{
				"first_name": "Ivan", "last_name": "Petrov", "birth_date": "02.01.1990", "gender": "male",
				"country_code": "RU", "residence_country_code": "RU",
			}},
			{Type: TypeInternalPassport, Fields: map[string]string{"document_no": "4510 123456"}, FrontSide: scanMaker(3)()},
			{Type: TypeAddress, Fields: map[string]string{
				"street_line1": "ul. Lenina, d. 1", "city": "Moskva", "country_code": "RU", "post_code": "101000",
			}},
		},
	}
	sh, err := EncryptSubmission(rand.Reader, &key.PublicKey, tc.nonce, tc.elements)
	if err != nil {
		t.Fatalf("EncryptSubmission: %v", err)
	}
	wantFiles := expectedFiles(t, sh, tc.elements)
	checkOurs(t, key, sh, tc, wantFiles)

	// Each element alone, to tell which ones PTB refuses.
	for i, pe := range tc.elements {
		one := *sh.Submission
		one.Elements = sh.Submission.Elements[i : i+1]
		oneSh := &Shared{Submission: &one, Files: sh.Files}
		oneTC := tc
		oneTC.elements = tc.elements[i : i+1]
		res, err := runPTB(t, py, key, oneSh)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "TypeError") && strings.Contains(msg, "missing") && strings.Contains(msg, "required positional argument") {
				t.Logf("KNOWN PTB LIMITATION: python-telegram-bot cannot decrypt %s data without its optional fields: %s",
					pe.Type, lastLine(msg))
				continue
			}
			t.Errorf("%s: %v", pe.Type, err)
			continue
		}
		checkPTB(t, res, oneTC, wantFiles)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
