package passport

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// ptbFixture is the shared sample from python-telegram-bot's test suite
// (see ../shared/testdata/passport). It is read, never copied.
type ptbFixture struct {
	PrivateKeyPEM string          `json:"private_key_pem"`
	PublicKeyPEM  string          `json:"public_key_pem"`
	PassportData  json.RawMessage `json:"passport_data"`
	Expected      struct {
		Nonce           string                       `json:"nonce"`
		CredentialsJSON string                       `json:"credentials_json"`
		Elements        map[string]map[string]string `json:"elements"`
		Email           string                       `json:"email"`
		SelfieCreds     struct {
			FileHash string `json:"file_hash"`
			Secret   string `json:"secret"`
		} `json:"driver_license_selfie_credentials"`
	} `json:"expected"`
	Negative struct {
		WrongCredentialsHash string `json:"wrong_credentials_hash_b64"`
	} `json:"negative"`
}

// ptbPath is where the shared test data sits relative to this package.
const ptbPath = "../../shared/testdata/passport/ptb-passport-1.1.json"

func loadPTB(tb testing.TB) (*ptbFixture, *rsa.PrivateKey) {
	tb.Helper()
	b, err := os.ReadFile(filepath.FromSlash(ptbPath))
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("shared test data not found at %s (clone with ../shared beside the project to run this test)", ptbPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var f ptbFixture
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatalf("parse %s: %v", ptbPath, err)
	}
	key, err := ParsePrivateKey([]byte(f.PrivateKeyPEM))
	if err != nil {
		tb.Fatalf("parse fixture key: %v", err)
	}
	return &f, key
}

func TestPTBSubmissionDecrypts(t *testing.T) {
	f, priv := loadPTB(t)
	for _, k := range decryptionKeys(t, priv) {
		t.Run(k.name, func(t *testing.T) { checkPTBSubmission(t, f, k.key) })
	}
}

func checkPTBSubmission(t *testing.T, f *ptbFixture, key crypto.Decrypter) {
	t.Helper()
	es, err := ParseBotAPI(f.PassportData)
	if err != nil {
		t.Fatalf("ParseBotAPI: %v", err)
	}
	creds, err := DecryptCredentials(key, es.Credentials)
	if err != nil {
		t.Fatalf("DecryptCredentials: %v", err)
	}
	wantCreds, err := ParseCredentials([]byte(f.Expected.CredentialsJSON))
	if err != nil {
		t.Fatalf("parse expected credentials: %v", err)
	}
	assertJSONEqual(t, "credentials", creds, wantCreds)
	if creds.Nonce != f.Expected.Nonce || creds.Legacy {
		t.Errorf("nonce = %q (legacy %v), want %q from the nonce key", creds.Nonce, creds.Legacy, f.Expected.Nonce)
	}

	sub, err := creds.Open(es.Elements)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if sub.Nonce != f.Expected.Nonce {
		t.Errorf("submission nonce = %q, want %q", sub.Nonce, f.Expected.Nonce)
	}
	for typ, want := range f.Expected.Elements {
		el := sub.Element(ElementType(typ))
		if el == nil {
			t.Errorf("element %s missing", typ)
			continue
		}
		assertJSONEqual(t, typ+" fields", el.Fields, want)
	}
	if got := sub.Element(TypeEmail); got == nil || got.Email != f.Expected.Email {
		t.Errorf("email element = %+v, want %q", got, f.Expected.Email)
	}

	dl := sub.Element(TypeDriverLicense)
	if dl == nil || dl.Selfie == nil {
		t.Fatal("driver_license selfie missing")
	}
	assertB64(t, "selfie file_hash", dl.Selfie.Credentials.FileHash, f.Expected.SelfieCreds.FileHash)
	assertB64(t, "selfie secret", dl.Selfie.Credentials.Secret, f.Expected.SelfieCreds.Secret)
	if dl.Selfie.FileID != "DgADBAADEQQAAkopgFNr6oi-wISRtAI" {
		t.Errorf("selfie file_id = %q", dl.Selfie.FileID)
	}
	if len(dl.Translation) != 2 || dl.FrontSide == nil || dl.ReverseSide == nil {
		t.Errorf("driver_license scans: front %v reverse %v translations %d", dl.FrontSide != nil, dl.ReverseSide != nil, len(dl.Translation))
	}
	ub := sub.Element(TypeUtilityBill)
	if ub == nil || len(ub.Files) != 2 || len(ub.Translation) != 2 {
		t.Fatalf("utility_bill scans = %+v", ub)
	}
	// Every file's credentials are the ones in the credentials JSON, paired by index.
	for i, fc := range wantCreds.SecureData[TypeUtilityBill].Files {
		if !equalBytes(ub.Files[i].Credentials.FileHash, fc.FileHash) || !equalBytes(ub.Files[i].Credentials.Secret, fc.Secret) {
			t.Errorf("utility_bill files[%d] credentials not paired by index", i)
		}
	}

	pd, err := sub.Element(TypePersonalDetails).PersonalDetails()
	if err != nil {
		t.Fatal(err)
	}
	if pd.FirstNameNative != "FIRSTNAMENATIVE" || pd.BirthDate != "01.01.2001" || pd.Gender != "female" {
		t.Errorf("typed personal details = %+v", pd)
	}
	doc, err := dl.IdDocument()
	if err != nil || doc.DocumentNo != "DOCUMENT_NO" || doc.ExpiryDate != "01.01.2001" {
		t.Errorf("typed document = %+v, %v", doc, err)
	}
	addr, err := sub.Element(TypeAddress).ResidentialAddress()
	if err != nil || addr.PostCode != "POSTCODE" || addr.StreetLine2 != "STREET_LINE2" {
		t.Errorf("typed address = %+v, %v", addr, err)
	}
}

func TestPTBWrongHash(t *testing.T) {
	f, priv := loadPTB(t)
	for _, k := range decryptionKeys(t, priv) {
		t.Run(k.name, func(t *testing.T) { checkPTBWrongHash(t, f, k.key) })
	}
}

func checkPTBWrongHash(t *testing.T, f *ptbFixture, key crypto.Decrypter) {
	t.Helper()
	es, err := ParseBotAPI(f.PassportData)
	if err != nil {
		t.Fatal(err)
	}
	es.Credentials.Hash, err = base64.StdEncoding.DecodeString(f.Negative.WrongCredentialsHash)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decrypt(key, es)
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Decrypt with the wrong credentials hash: %v, want ErrHashMismatch", err)
	}

	// A real 32-byte hash of something else also fails on the hash.
	es.Credentials.Hash = make([]byte, HashSize)
	if _, err = Decrypt(key, es); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Decrypt with a zero hash: %v, want ErrHashMismatch", err)
	}
}

func TestPTBWrongKey(t *testing.T) {
	f, _ := loadPTB(t)
	es, err := ParseBotAPI(f.PassportData)
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{2048, 4096} {
		for _, k := range decryptionKeys(t, testKey(t, bits)) {
			if _, err = Decrypt(k.key, es); !errors.Is(err, ErrWrongKey) {
				t.Errorf("Decrypt with another %d-bit key (%s): %v, want ErrWrongKey", bits, k.name, err)
			}
		}
	}
}

func assertJSONEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: marshal: %v %v", what, err1, err2)
	}
	var gv, wv any
	_ = json.Unmarshal(g, &gv)
	_ = json.Unmarshal(w, &wv)
	g, _ = json.Marshal(gv)
	w, _ = json.Marshal(wv)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func assertB64(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if g := base64.StdEncoding.EncodeToString(got); g != want {
		t.Errorf("%s = %s, want %s", what, g, want)
	}
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }
