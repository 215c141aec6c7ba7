package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

const testNonce = "nonce-4f2a9c"

// Personal data in the fixture: no error message may contain any of it.
var personalData = []string{
	"Ivanova", "Анна", "Иванова", "Сергеевна", "Alexandrovna", "D1234567", "221B Baker", "NW1 6XE",
	"79001234567", "anna@example.org", "14.03.1990",
}

// scan returns fake JPEG bytes of the given size, distinct per name.
func scan(t *testing.T, name string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, "\xff\xd8\xff\xe0"+name)
	return b
}

// decryptFixture is a submission encrypted for a throwaway key, written to a
// temporary directory as a Bot API PassportData file plus its encrypted files.
type decryptFixture struct {
	dir       string
	keyPath   string // 0600
	inputPath string
	input     []byte // Bot API PassportData JSON
	filesDir  string // encrypted files, named by file_id
	plain     []passport.PlainElement
	shared    *passport.Shared
}

func newDecryptFixture(t *testing.T) *decryptFixture {
	t.Helper()
	key := testKeys()[0]
	plain := []passport.PlainElement{
		{Type: passport.TypePersonalDetails, Fields: map[string]string{
			"first_name": "Anna", "last_name": "Ivanova", "middle_name": "Alexandrovna",
			"birth_date": "14.03.1990", "gender": "female", "country_code": "RU", "residence_country_code": "GB",
			"first_name_native": "Анна", "last_name_native": "Иванова", "middle_name_native": "Сергеевна",
		}},
		{
			Type:        passport.TypeDriverLicense,
			Fields:      map[string]string{"document_no": "D1234567", "expiry_date": "01.02.2031"},
			FrontSide:   scan(t, "front", 150_000), // more than the 64 KiB decryption buffer
			ReverseSide: scan(t, "reverse", 4_000),
			Selfie:      scan(t, "selfie", 20_000),
			Translation: [][]byte{scan(t, "translation", 7_777)},
		},
		{Type: passport.TypeAddress, Fields: map[string]string{
			"street_line1": "221B Baker Street", "street_line2": "", "city": "London", "state": "",
			"country_code": "GB", "post_code": "NW1 6XE",
		}},
		{Type: passport.TypeUtilityBill, Files: [][]byte{scan(t, "bill-1", 10_000), scan(t, "bill-2", 65_536)}},
		{Type: passport.TypePhoneNumber, PhoneNumber: "79001234567"},
		{Type: passport.TypeEmail, Email: "anna@example.org"},
	}
	sh, err := passport.EncryptSubmission(rand.Reader, &key.PublicKey, testNonce, plain)
	if err != nil {
		t.Fatalf("EncryptSubmission: %v", err)
	}
	input, err := sh.Submission.MarshalBotAPI()
	if err != nil {
		t.Fatalf("MarshalBotAPI: %v", err)
	}
	dir := t.TempDir()
	fx := &decryptFixture{
		dir: dir, input: input, plain: plain, shared: sh,
		keyPath:   writeKey(t, dir, "bot.pem", key, 0o600),
		inputPath: filepath.Join(dir, "passport_data.json"),
		filesDir:  filepath.Join(dir, "files"),
	}
	fx.write(t, fx.inputPath, input)
	if err := os.Mkdir(fx.filesDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for id, b := range sh.Files {
		fx.write(t, filepath.Join(fx.filesDir, id), b)
	}
	return fx
}

func (fx *decryptFixture) write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// plainFiles maps every file_id to its plaintext scan.
func (fx *decryptFixture) plainFiles() map[string][]byte {
	m := map[string][]byte{}
	for i, pe := range fx.plain {
		ee := fx.shared.Submission.Elements[i]
		add := func(ref *passport.FileRef, b []byte) {
			if ref != nil {
				m[ref.FileID] = b
			}
		}
		add(ee.FrontSide, pe.FrontSide)
		add(ee.ReverseSide, pe.ReverseSide)
		add(ee.Selfie, pe.Selfie)
		for j := range ee.Files {
			add(&ee.Files[j], pe.Files[j])
		}
		for j := range ee.Translation {
			add(&ee.Translation[j], pe.Translation[j])
		}
	}
	return m
}

// expected builds the output decrypt must print, from the plaintext and
// the encrypted submission (not from decryption).
func (fx *decryptFixture) expected(withSHA bool) decryptOutput {
	want := decryptOutput{Nonce: testNonce}
	file := func(ref *passport.FileRef, plain []byte) outputFile {
		of := outputFile{FileID: ref.FileID, FileHash: base64.StdEncoding.EncodeToString(ref.FileHash)}
		if withSHA {
			sum := sha256.Sum256(plain)
			of.SHA256 = hex.EncodeToString(sum[:])
		}
		return of
	}
	single := func(ref *passport.FileRef, plain []byte) *outputFile {
		if ref == nil {
			return nil
		}
		of := file(ref, plain)
		return &of
	}
	list := func(refs []passport.FileRef, plains [][]byte) []outputFile {
		var out []outputFile
		for i := range refs {
			out = append(out, file(&refs[i], plains[i]))
		}
		return out
	}
	for i, pe := range fx.plain {
		ee := fx.shared.Submission.Elements[i]
		want.Elements = append(want.Elements, outputElement{
			Type: string(pe.Type), Data: pe.Fields, PhoneNumber: pe.PhoneNumber, Email: pe.Email,
			FrontSide: single(ee.FrontSide, pe.FrontSide), ReverseSide: single(ee.ReverseSide, pe.ReverseSide),
			Selfie: single(ee.Selfie, pe.Selfie), Files: list(ee.Files, pe.Files), Translation: list(ee.Translation, pe.Translation),
		})
	}
	return want
}

// checkOutput parses stdout and compares it with the expected output, key
// by key.
func (fx *decryptFixture) checkOutput(t *testing.T, r result, withSHA bool) {
	t.Helper()
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("decrypt: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "{\n  \"nonce\": ") {
		t.Errorf("stdout is not JSON indented by 2 spaces:\n%.200s", r.stdout)
	}
	var got decryptOutput
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not the decrypt JSON: %v\n%s", err, r.stdout)
	}
	want := fx.expected(withSHA)
	if got.Nonce != want.Nonce {
		t.Errorf("nonce = %q, want %q", got.Nonce, want.Nonce)
	}
	if len(got.Elements) != len(want.Elements) {
		t.Fatalf("%d elements, want %d", len(got.Elements), len(want.Elements))
	}
	for i := range want.Elements {
		if !reflect.DeepEqual(got.Elements[i], want.Elements[i]) {
			g, _ := json.Marshal(got.Elements[i])
			w, _ := json.Marshal(want.Elements[i])
			t.Errorf("element %d:\n got %s\nwant %s", i, g, w)
		}
	}
	checkKeys(t, r.stdout, withSHA)
}

// checkKeys checks which keys the JSON has, independently of the Go types.
func checkKeys(t *testing.T, stdout string, withSHA bool) {
	t.Helper()
	var doc struct {
		Elements []map[string]json.RawMessage `json:"elements"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &top); err != nil {
		t.Fatal(err)
	}
	if k := sortedKeys(top); !slices.Equal(k, []string{"elements", "nonce"}) {
		t.Errorf("top-level keys = %v", k)
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	wantKeys := map[string][]string{
		"personal_details": {"data", "type"},
		"driver_license":   {"data", "front_side", "reverse_side", "selfie", "translation", "type"},
		"address":          {"data", "type"},
		"utility_bill":     {"files", "type"},
		"phone_number":     {"phone_number", "type"},
		"email":            {"email", "type"},
	}
	fileKeys := []string{"file_hash", "file_id"}
	if withSHA {
		fileKeys = []string{"file_hash", "file_id", "sha256"}
	}
	var order []string
	for _, el := range doc.Elements {
		var typ string
		_ = json.Unmarshal(el["type"], &typ)
		order = append(order, typ)
		if k := sortedKeys(el); !slices.Equal(k, wantKeys[typ]) {
			t.Errorf("%s keys = %v, want %v", typ, k, wantKeys[typ])
		}
		for _, part := range []string{"front_side", "reverse_side", "selfie"} {
			if raw, ok := el[part]; ok {
				var f map[string]json.RawMessage
				_ = json.Unmarshal(raw, &f)
				if k := sortedKeys(f); !slices.Equal(k, fileKeys) {
					t.Errorf("%s %s keys = %v, want %v", typ, part, k, fileKeys)
				}
			}
		}
		for _, part := range []string{"files", "translation"} {
			if raw, ok := el[part]; ok {
				var fs []map[string]json.RawMessage
				_ = json.Unmarshal(raw, &fs)
				for i, f := range fs {
					if k := sortedKeys(f); !slices.Equal(k, fileKeys) {
						t.Errorf("%s %s[%d] keys = %v, want %v", typ, part, i, k, fileKeys)
					}
				}
			}
		}
	}
	wantOrder := []string{"personal_details", "driver_license", "address", "utility_bill", "phone_number", "email"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("element order = %v, want the input order %v", order, wantOrder)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestDecrypt(t *testing.T) {
	fx := newDecryptFixture(t)
	wrapped := func(prefix, suffix string) []byte {
		return []byte(prefix + string(fx.input) + suffix)
	}
	tests := []struct {
		name  string
		stdin []byte
		args  []string
	}{
		{"from a file", nil, []string{"decrypt", "--key", fx.keyPath, fx.inputPath}},
		{"flags after the file", nil, []string{"decrypt", fx.inputPath, "-key=" + fx.keyPath}},
		{"from stdin with -", fx.input, []string{"decrypt", "--key", fx.keyPath, "-"}},
		{"from stdin without argument", fx.input, []string{"decrypt", "--key", fx.keyPath}},
		{"a Bot API Message", wrapped(`{"message_id":7,"passport_data":`, `}`), []string{"decrypt", "--key", fx.keyPath}},
		{"a Bot API Update", wrapped(`{"update_id":1,"message":{"message_id":7,"passport_data":`, `}}`), []string{"decrypt", "--key", fx.keyPath}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx.checkOutput(t, runCLI(t, bytes.NewReader(tt.stdin), tt.args...), false)
		})
	}
}

func TestDecryptFiles(t *testing.T) {
	fx := newDecryptFixture(t)
	out := filepath.Join(fx.dir, "decrypted", "case-42") // missing, with a missing parent
	r := runCLI(t, nil, "decrypt", "--key", fx.keyPath, "--files", fx.filesDir, "--out", out, fx.inputPath)
	fx.checkOutput(t, r, true)
	// The unverified files of a run that was killed are removed.
	left := filepath.Join(out, decryptStagePrefix+"0123abcd")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "1.partial"), []byte("unverified"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "decrypt", "--key", fx.keyPath, "--files", fx.filesDir, "--out", out, fx.inputPath)
	fx.checkOutput(t, r, true)

	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("--out directory mode = %04o, want 0700", st.Mode().Perm())
	}
	plain := fx.plainFiles()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(plain) {
		t.Errorf("--out has %d entries, want %d (one per file, no temporary files)", len(entries), len(plain))
	}
	for id, want := range plain {
		p := filepath.Join(out, id+".jpg")
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("decrypted file %s: %v", id, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("decrypted %s: %d bytes differing from the %d-byte plaintext scan", id, len(got), len(want))
		}
		if st, err := os.Stat(p); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %04o, want 0600", p, st.Mode().Perm())
		}
	}

	// Running again into the same directory replaces the files.
	r = runCLI(t, nil, "decrypt", "--key", fx.keyPath, "--files", fx.filesDir, "--out", out, fx.inputPath)
	fx.checkOutput(t, r, true)
}

// tamper returns the fixture's submission, modified by f, as Bot API JSON.
func (fx *decryptFixture) tamper(t *testing.T, f func(es *passport.EncryptedSubmission)) string {
	t.Helper()
	es, err := passport.ParseBotAPI(fx.input)
	if err != nil {
		t.Fatal(err)
	}
	f(es)
	b, err := es.MarshalBotAPI()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(fx.dir, "tampered.json")
	fx.write(t, p, b)
	return p
}

// File ids of the fixture, from the submission (not from EncryptSubmission's
// naming scheme).
func (fx *decryptFixture) frontSide() string {
	return fx.shared.Submission.Elements[1].FrontSide.FileID
}
func (fx *decryptFixture) selfie() string    { return fx.shared.Submission.Elements[1].Selfie.FileID }
func (fx *decryptFixture) billFile1() string { return fx.shared.Submission.Elements[3].Files[1].FileID }

func flipByte(b []byte, i int) {
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0x01
}

func (fx *decryptFixture) modifyFile(t *testing.T, id string, f func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(fx.filesDir, id)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fx.write(t, p, f(b))
}

func TestDecryptFailures(t *testing.T) {
	type tc struct {
		name string
		// setup prepares the fixture and returns the arguments after "decrypt"
		// and stdin.
		setup func(t *testing.T, fx *decryptFixture, out string) (args []string, stdin string)
		want  []string
		// leftover names the decrypted file that must not exist in --out.
		leftover func(fx *decryptFixture) string
	}
	withFiles := func(fx *decryptFixture, out string, input string) []string {
		return []string{"--key", fx.keyPath, "--files", fx.filesDir, "--out", out, input}
	}
	tests := []tc{
		{
			name: "wrong key",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				other := writeKey(t, fx.dir, "other.pem", testKeys()[1], 0o600)
				return []string{"--key", other, fx.inputPath}, ""
			},
			want: []string{"kycbot decrypt: credentials: ", "wrong private key"},
		},
		{
			name: "tampered credentials data",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				p := fx.tamper(t, func(es *passport.EncryptedSubmission) { flipByte(es.Credentials.Data, 40) })
				return []string{"--key", fx.keyPath, p}, ""
			},
			want: []string{"kycbot decrypt: credentials: ", "hash mismatch"},
		},
		{
			name: "tampered credentials secret",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				p := fx.tamper(t, func(es *passport.EncryptedSubmission) { flipByte(es.Credentials.Secret, 10) })
				return []string{"--key", fx.keyPath, p}, ""
			},
			want: []string{"kycbot decrypt: credentials: ", "wrong private key"},
		},
		{
			name: "tampered element data",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				p := fx.tamper(t, func(es *passport.EncryptedSubmission) { flipByte(es.Elements[0].Data, -1) })
				return []string{"--key", fx.keyPath, p}, ""
			},
			want: []string{"kycbot decrypt: elements: element personal_details", "hash mismatch"},
		},
		{
			name: "tampered file",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				fx.modifyFile(t, fx.billFile1(), func(b []byte) []byte { flipByte(b, -1); return b })
				return withFiles(fx, out, fx.inputPath), ""
			},
			want:     []string{"kycbot decrypt: utility_bill files[1] (file_id ", "hash mismatch"},
			leftover: func(fx *decryptFixture) string { return fx.billFile1() + ".jpg" },
		},
		{
			name: "tampered first block of a file",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				fx.modifyFile(t, fx.frontSide(), func(b []byte) []byte { flipByte(b, 0); return b })
				return withFiles(fx, out, fx.inputPath), ""
			},
			want:     []string{"driver_license front_side", "hash mismatch"},
			leftover: func(fx *decryptFixture) string { return fx.frontSide() + ".jpg" },
		},
		{
			name: "truncated file",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				fx.modifyFile(t, fx.selfie(), func(b []byte) []byte { return b[:len(b)-16] })
				return withFiles(fx, out, fx.inputPath), ""
			},
			want:     []string{"driver_license selfie", "hash mismatch"},
			leftover: func(fx *decryptFixture) string { return fx.selfie() + ".jpg" },
		},
		{
			name: "missing file",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				if err := os.Remove(filepath.Join(fx.filesDir, fx.selfie())); err != nil {
					t.Fatal(err)
				}
				return withFiles(fx, out, fx.inputPath), ""
			},
			want:     []string{"driver_license selfie", "encrypted file", "no such file"},
			leftover: func(fx *decryptFixture) string { return fx.selfie() + ".jpg" },
		},
		{
			name: "key file mode 0644",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", writeKey(t, fx.dir, "open.pem", testKeys()[0], 0o644), fx.inputPath}, ""
			},
			want: []string{"key file", "0644", "group or others", "chmod 600 "},
		},
		{
			name: "key file mode 0640",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", writeKey(t, fx.dir, "group.pem", testKeys()[0], 0o640), fx.inputPath}, ""
			},
			want: []string{"0640", "chmod 600 "},
		},
		{
			name: "key file missing",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", filepath.Join(fx.dir, "nope.pem"), fx.inputPath}, ""
			},
			want: []string{"key file", "no such file"},
		},
		{
			name: "key file without a key",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				p := filepath.Join(fx.dir, "notakey.pem")
				fx.write(t, p, []byte("hello\n"))
				return []string{"--key", p, fx.inputPath}, ""
			},
			want: []string{"key file", "no PEM block"},
		},
		{
			name: "malformed JSON",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", fx.keyPath}, `{"data": [ {"type": "email", "email": "anna@example.org" `
			},
			want: []string{"kycbot decrypt: input: ", "invalid JSON"},
		},
		{
			name: "JSON that is not PassportData",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", fx.keyPath, "-"}, `["anna@example.org"]`
			},
			want: []string{"kycbot decrypt: input: "},
		},
		{
			name: "empty input",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", fx.keyPath}, " \n"
			},
			want: []string{"input: stdin is empty"},
		},
		{
			name: "missing input file",
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				return []string{"--key", fx.keyPath, filepath.Join(fx.dir, "nope.json")}, ""
			},
			want: []string{"input: ", "no such file"},
		},
	}
	for _, bad := range []string{"../evil", "a/b", `a\b`, "..", "x..y", ""} {
		tests = append(tests, tc{
			name: "file_id " + bad,
			setup: func(t *testing.T, fx *decryptFixture, out string) ([]string, string) {
				// A real encrypted file where the bad id points, to show it is not read.
				fx.write(t, filepath.Join(fx.dir, "evil"), fx.shared.Files[fx.frontSide()])
				p := fx.tamper(t, func(es *passport.EncryptedSubmission) { es.Elements[1].FrontSide.FileID = bad })
				return withFiles(fx, out, p), ""
			},
			want: []string{"driver_license front_side: file_id ", "not a plain file name"},
		})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.HasPrefix(tt.name, "key file mode") {
				t.Skip("file modes are not enforced on Windows")
			}
			fx := newDecryptFixture(t)
			out := filepath.Join(fx.dir, "out")
			args, stdin := tt.setup(t, fx, out)
			r := runCLI(t, strings.NewReader(stdin), append([]string{"decrypt"}, args...)...)
			wantOneLineError(t, r, exitFailure, tt.want...)
			keyPEM := string(passport.MarshalPrivateKey(testKeys()[0]))
			for _, pd := range append(personalData, "-----", keyPEM[100:140]) {
				if strings.Contains(r.stderr, pd) {
					t.Errorf("stderr contains %q: %s", pd, r.stderr)
				}
			}
			leftover := ""
			if tt.leftover != nil {
				leftover = tt.leftover(fx)
			}
			checkNoUnverifiedFiles(t, fx, out, leftover)
			if _, err := os.Stat(filepath.Join(fx.dir, "evil.jpg")); err == nil {
				t.Error("a file_id with a path escaped --out")
			}
		})
	}
}

// checkNoUnverifiedFiles checks that every file in out is a fully verified
// decrypted scan, and that leftover is not there.
func checkNoUnverifiedFiles(t *testing.T, fx *decryptFixture, out, leftover string) {
	t.Helper()
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	plain := fx.plainFiles()
	for _, e := range entries {
		if e.Name() == leftover {
			t.Errorf("unverified file %s left in --out", leftover)
			continue
		}
		id, ok := strings.CutSuffix(e.Name(), ".jpg")
		want, known := plain[id]
		if !ok || !known {
			t.Errorf("unexpected file %s left in --out", e.Name())
			continue
		}
		if got, _ := os.ReadFile(filepath.Join(out, e.Name())); !bytes.Equal(got, want) {
			t.Errorf("%s in --out is not the verified scan", e.Name())
		}
	}
}

func TestDecryptUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing --key", []string{"decrypt", "in.json"}, "--key FILE is required"},
		{"--files without --out", []string{"decrypt", "--key", "k", "--files", "d"}, "--files DIR and --out DIR must be given together"},
		{"--out without --files", []string{"decrypt", "--key", "k", "--out", "d"}, "--files DIR and --out DIR must be given together"},
		{"two inputs", []string{"decrypt", "--key", "k", "a.json", "b.json"}, "expected at most one input file, got 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOneLineError(t, runCLI(t, nil, tt.args...), exitUsage, "kycbot decrypt: "+tt.want, "kycbot help decrypt")
		})
	}
}

func TestStagedFile(t *testing.T) {
	dir := t.TempDir()
	list := func() []string {
		es, _ := os.ReadDir(dir)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	s, err := newStagedFile(dir, filepath.Join(dir, "a.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("unverified")); err != nil {
		t.Fatal(err)
	}
	if err := s.Discard(); err != nil {
		t.Fatal(err)
	}
	if names := list(); len(names) != 0 {
		t.Errorf("after Discard: %v, want an empty directory", names)
	}

	s, err = newStagedFile(dir, filepath.Join(dir, "a.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("verified")); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if names := list(); !slices.Equal(names, []string{"a.jpg"}) {
		t.Errorf("after Commit: %v, want [a.jpg]", names)
	}
	sum := sha256.Sum256([]byte("verified"))
	if got := s.h.Sum(nil); !bytes.Equal(got, sum[:]) {
		t.Errorf("hash = %x, want %x", got, sum)
	}

	// A Commit that cannot rename (the final name is a directory) cleans up.
	if err := os.Mkdir(filepath.Join(dir, "b.jpg"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err = newStagedFile(dir, filepath.Join(dir, "b.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err == nil {
		t.Error("Commit onto a directory succeeded")
	}
	if names := list(); !slices.Equal(names, []string{"a.jpg", "b.jpg"}) {
		t.Errorf("after a failed Commit: %v, want no temporary file", names)
	}
}

// ptbSample is the shared Passport sample published by python-telegram-bot,
// relative to this package.
const ptbSample = "../../../shared/testdata/passport/ptb-passport-1.1.json"

func TestDecryptSharedSample(t *testing.T) {
	b, err := os.ReadFile(filepath.FromSlash(ptbSample))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("shared sample not found at %s (check out ../shared beside the project to run this test)", ptbSample)
	}
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		PrivateKeyPEM string          `json:"private_key_pem"`
		PassportData  json.RawMessage `json:"passport_data"`
		Expected      struct {
			Nonce    string                       `json:"nonce"`
			Elements map[string]map[string]string `json:"elements"`
			Email    string                       `json:"email"`
			Selfie   struct {
				FileHash string `json:"file_hash"`
			} `json:"driver_license_selfie_credentials"`
		} `json:"expected"`
	}
	if err := json.Unmarshal(b, &sample); err != nil {
		t.Fatalf("parse %s: %v", ptbSample, err)
	}
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "ptb.pem")
	if err := os.WriteFile(keyPath, []byte(sample.PrivateKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "passport_data.json")
	if err := os.WriteFile(input, sample.PassportData, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, fromStdin := range []bool{false, true} {
		name := map[bool]string{false: "file", true: "stdin"}[fromStdin]
		t.Run(name, func(t *testing.T) {
			args := []string{"decrypt", "--key", keyPath, input}
			stdin := []byte(nil)
			if fromStdin {
				args, stdin = []string{"decrypt", "--key", keyPath, "-"}, sample.PassportData
			}
			r := runCLI(t, bytes.NewReader(stdin), args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got decryptOutput
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got.Nonce != "thisisatest" || got.Nonce != sample.Expected.Nonce {
				t.Errorf("nonce = %q, want thisisatest", got.Nonce)
			}
			byType := map[string]outputElement{}
			for _, el := range got.Elements {
				byType[el.Type] = el
			}
			for typ, fields := range sample.Expected.Elements {
				if !reflect.DeepEqual(byType[typ].Data, fields) {
					t.Errorf("%s data = %v, want %v", typ, byType[typ].Data, fields)
				}
			}
			if pd := byType["personal_details"].Data; pd["first_name"] != "FIRSTNAME" || pd["last_name_native"] != "LASTNAMENATIVE" {
				t.Errorf("personal_details = %v", pd)
			}
			if e := byType["email"].Email; e != sample.Expected.Email {
				t.Errorf("email = %q, want %q", e, sample.Expected.Email)
			}
			dl := byType["driver_license"]
			if dl.Selfie == nil || dl.Selfie.FileHash != sample.Expected.Selfie.FileHash || dl.Selfie.SHA256 != "" {
				t.Errorf("driver_license selfie = %+v, want file_hash %s and no sha256", dl.Selfie, sample.Expected.Selfie.FileHash)
			}
			if len(dl.Translation) != 2 || len(byType["utility_bill"].Files) != 2 {
				t.Errorf("driver_license translation %d, utility_bill files %d; want 2 and 2",
					len(dl.Translation), len(byType["utility_bill"].Files))
			}
		})
	}
}

func TestDecryptNoInputFromDevice(t *testing.T) {
	// A forgotten FILE argument with stdin on a terminal would hang; a
	// character device on stdin is refused as "no input" (exit 2).
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Skipf("%s is not a character device here", os.DevNull)
	}
	r := runCLI(t, f, "decrypt", "--key", "k.pem")
	wantOneLineError(t, r, exitUsage, "kycbot decrypt: no input", "kycbot help decrypt")

	// With an explicit "-", stdin is read whatever it is.
	fx := newDecryptFixture(t)
	r = runCLI(t, f, "decrypt", "--key", fx.keyPath, "-")
	wantOneLineError(t, r, exitFailure, "input: stdin is empty")
}
