package botapi_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
)

// A full Passport share reaches getUpdates as passport_data that
// passport.ParseBotAPI parses and passport decrypts; every file, one of
// them over 1 MiB and all on a second DC (FILE_MIGRATE), downloads with
// getFile and the file URL and decrypts to the user's scan; the errors of
// every source set with setPassportDataErrors reach the user's app.
func TestPassportShare(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{FilesDC: 4}, nil)
	ok(t, "getMe", e.call(ctx, t, "getMe", nil), nil)

	profile := sandbox.SampleProfile("botapi-1")
	big := make([]byte, 1<<20+300<<10) // 1.3 MiB: two upload.getFile calls
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	profile[passport.TypeUtilityBill].Files[0] = sandbox.Scan{Data: big}
	u := e.user(ctx, t, "15550000041", "Ada", profile)

	scope := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.Require(passport.TypeDriverLicense).WithSelfie().WithTranslation(),
		passport.Require(passport.TypeAddress),
		passport.Require(passport.TypeUtilityBill),
		passport.Require(passport.TypePhoneNumber),
		passport.Require(passport.TypeEmail),
	)
	link, err := passport.Link{BotID: e.bot.ID, Scope: scope, PublicKey: e.pem, Nonce: "nonce-botapi"}.URL()
	if err != nil {
		t.Fatal(err)
	}
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	m := (&poller{e: e}).next(ctx, t, func(u update) bool { return u.Message != nil && u.Message.PassportData != nil }).Message
	if m.From == nil || m.From.ID != u.User.ID || m.Chat.ID != u.User.ID || m.Chat.Type != "private" {
		t.Fatalf("passport message from %+v in %+v", m.From, m.Chat)
	}
	es, err := passport.ParseBotAPI(m.PassportData)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := passport.Decrypt(e.key, es)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Nonce != "nonce-botapi" || len(sub.Elements) != len(scope.Elements) {
		t.Fatalf("nonce %q, %d elements", sub.Nonce, len(sub.Elements))
	}

	for _, el := range sub.Elements {
		pe := profile[el.Type]
		if el.Type.HasData() && !reflect.DeepEqual(el.Fields, pe.Fields) {
			t.Errorf("%s: fields differ from the profile", el.Type)
		}
		if el.PhoneNumber != pe.Phone || el.Email != pe.Email {
			t.Errorf("%s: plain value differs", el.Type)
		}
		same := func(part string, f *passport.File, s *sandbox.Scan) {
			t.Helper()
			if (f == nil) != (s == nil) {
				t.Fatalf("%s %s: file %v, scan %v", el.Type, part, f != nil, s != nil)
			}
			if f == nil {
				return
			}
			if got := e.download(t, f); !bytes.Equal(got, fileBytes(t, *s)) {
				t.Errorf("%s %s: the downloaded file (%d bytes) differs from the scan", el.Type, part, len(got))
			}
		}
		same("front_side", el.FrontSide, pe.FrontSide)
		same("reverse_side", el.ReverseSide, pe.ReverseSide)
		same("selfie", el.Selfie, pe.Selfie)
		if len(el.Files) != len(pe.Files) || len(el.Translation) != len(pe.Translation) {
			t.Fatalf("%s: %d files and %d translations, want %d and %d", el.Type, len(el.Files), len(el.Translation), len(pe.Files), len(pe.Translation))
		}
		for i := range el.Files {
			same(fmt.Sprintf("files[%d]", i), &el.Files[i], &pe.Files[i])
		}
		for i := range el.Translation {
			same(fmt.Sprintf("translation[%d]", i), &el.Translation[i], &pe.Translation[i])
		}
	}

	if n := sub.Element(passport.TypeUtilityBill).Files[0].Size; n <= 1<<20 {
		t.Fatalf("the big scan is %d bytes encrypted: the download did not cross 1 MiB", n)
	}

	// Errors of every source, base64 hashes as the Bot API takes them.
	enc := base64.StdEncoding.EncodeToString
	pd := sub.Element(passport.TypePersonalDetails)
	dl := sub.Element(passport.TypeDriverLicense)
	ub := sub.Element(passport.TypeUtilityBill)
	em := sub.Element(passport.TypeEmail)
	errs := []map[string]any{
		{"source": "data", "type": "personal_details", "field_name": "first_name", "data_hash": enc(pd.DataCredentials.DataHash), "message": "Name differs"},
		{"source": "front_side", "type": "driver_license", "file_hash": enc(dl.FrontSide.Credentials.FileHash), "message": "Front blurred"},
		{"source": "reverse_side", "type": "driver_license", "file_hash": enc(dl.ReverseSide.Credentials.FileHash), "message": "Reverse blurred"},
		{"source": "selfie", "type": "driver_license", "file_hash": enc(dl.Selfie.Credentials.FileHash), "message": "Face hidden"},
		{"source": "translation_file", "type": "driver_license", "file_hash": enc(dl.Translation[0].Credentials.FileHash), "message": "Not certified"},
		{"source": "translation_files", "type": "driver_license", "file_hashes": []string{enc(dl.Translation[0].Credentials.FileHash)}, "message": "Translate all"},
		{"source": "file", "type": "utility_bill", "file_hash": enc(ub.Files[1].Credentials.FileHash), "message": "Page unreadable"},
		{"source": "files", "type": "utility_bill", "file_hashes": []string{enc(ub.Files[0].Credentials.FileHash), enc(ub.Files[1].Credentials.FileHash)}, "message": "Too old"},
		{"source": "unspecified", "type": "email", "element_hash": enc(em.Hash), "message": "Use a work email"},
	}
	ok(t, "setPassportDataErrors", e.call(ctx, t, "setPassportDataErrors", map[string]any{"user_id": u.User.ID, "errors": errs}), nil)
	got, err := u.Errors(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	want := []sandbox.ValueError{
		{Type: passport.TypePersonalDetails, Target: "data.first_name", Text: "Name differs"},
		{Type: passport.TypeDriverLicense, Target: "front_side", Text: "Front blurred"},
		{Type: passport.TypeDriverLicense, Target: "reverse_side", Text: "Reverse blurred"},
		{Type: passport.TypeDriverLicense, Target: "selfie", Text: "Face hidden"},
		{Type: passport.TypeDriverLicense, Target: "translation[0]", Text: "Not certified"},
		{Type: passport.TypeDriverLicense, Target: "translation", Text: "Translate all"},
		{Type: passport.TypeUtilityBill, Target: "files[1]", Text: "Page unreadable"},
		{Type: passport.TypeUtilityBill, Target: "files", Text: "Too old"},
		{Type: passport.TypeEmail, Target: "element", Text: "Use a work email"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the user sees errors\n%+v\nwant\n%+v", got, want)
	}

	for _, tt := range []struct {
		name        string
		errs        []map[string]any
		description string
	}{
		{"unknown source", []map[string]any{{"source": "nose", "type": "email", "message": "x"}}, `Bad Request: can't parse PassportElementError 0: unknown source "nose"`},
		{"hash not base64", []map[string]any{{"source": "selfie", "type": "driver_license", "file_hash": "%%", "message": "x"}}, "Bad Request: can't parse PassportElementError 0: file_hash must be base64"},
		{"unknown type", []map[string]any{{"source": "unspecified", "type": "dna", "element_hash": "AAAA", "message": "x"}}, `Bad Request: can't parse PassportElementError 0: unknown element type "dna"`},
	} {
		fails(t, tt.name, e.call(ctx, t, "setPassportDataErrors", map[string]any{"user_id": u.User.ID, "errors": tt.errs}), 400, tt.description)
	}
	fails(t, "unknown user", e.call(ctx, t, "setPassportDataErrors", map[string]any{"user_id": 77, "errors": errs}), 400, "Bad Request: user not found")
}

// download fetches a Passport file as a Bot API client does (getFile,
// then the file URL) and decrypts it.
func (e *env) download(t *testing.T, f *passport.File) []byte {
	t.Helper()
	var file struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileSize     int64  `json:"file_size"`
		FilePath     string `json:"file_path"`
	}
	ok(t, "getFile", e.call(t.Context(), t, "getFile", map[string]any{"file_id": f.FileID}), &file)
	if file.FileID != f.FileID || file.FileUniqueID != f.FileUniqueID || file.FileSize != f.Size || file.FilePath == "" {
		t.Fatalf("getFile %+v for %+v", file, f.FileRef)
	}
	resp, err := http.Get(e.http.URL + "/file/bot" + e.bot.Token + "/" + file.FilePath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %s", resp.Status)
	}
	enc, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(enc)) != f.Size {
		t.Fatalf("downloaded %d bytes, file_size is %d", len(enc), f.Size)
	}
	r, err := passport.NewFileReader(bytes.NewReader(enc), f.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
