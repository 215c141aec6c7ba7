package sandbox

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// fullScope asks for everything test 2 submits.
func fullScope() passport.Scope {
	return passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.Require(passport.TypeDriverLicense).WithSelfie().WithTranslation(),
		passport.Require(passport.TypeAddress),
		passport.Require(passport.TypeUtilityBill),
		passport.Require(passport.TypePhoneNumber),
		passport.Require(passport.TypeEmail),
	)
}

func passportLink(t testing.TB, botID int64, pem, nonce string, scope passport.Scope) string {
	t.Helper()
	link, err := passport.Link{BotID: botID, Scope: scope, PublicKey: pem, Nonce: nonce}.URL()
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// requestPage serves a minimal request page opening the deep link, as the
// bot's web page will (built by someone else later).
func requestPage(t testing.TB, link string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><html><head><title>Verify</title>
<script>window.location.href = %q;</script></head>
<body><a href="https://telegram.org">Telegram</a> <a href="%s">Open Telegram Passport</a></body></html>`,
			link, html.EscapeString(link))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// decryptService decrypts a Passport service message a bot received.
func decryptService(key *rsa.PrivateKey, in incoming) (*passport.Submission, *tg.MessageActionSecureValuesSentMe, int64, error) {
	action, ok := in.service.Action.(*tg.MessageActionSecureValuesSentMe)
	if !ok {
		return nil, nil, 0, fmt.Errorf("service message %T", in.service.Action)
	}
	from, _ := in.service.FromID.(*tg.PeerUser)
	if from == nil {
		return nil, nil, 0, fmt.Errorf("no sender")
	}
	es, err := passport.FromMTProto(action)
	if err != nil {
		return nil, nil, 0, err
	}
	sub, err := passport.Decrypt(key, es)
	if err != nil {
		return nil, nil, 0, err
	}
	return sub, action, from.UserID, nil
}

// submission waits for the bot's next Passport message and decrypts it.
func submission(ctx context.Context, t testing.TB, b *testBot, key *rsa.PrivateKey) (*passport.Submission, *tg.MessageActionSecureValuesSentMe, int64) {
	t.Helper()
	for {
		in, err := b.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if in.service == nil {
			continue
		}
		sub, action, from, err := decryptService(key, in)
		if err != nil {
			t.Fatal(err)
		}
		return sub, action, from
	}
}

// download fetches and decrypts a Passport file with the bot's client.
func download(ctx context.Context, t testing.TB, b *testBot, f *passport.File) []byte {
	t.Helper()
	var enc bytes.Buffer
	if _, err := b.Client().Download(f.Location()).Stream(ctx, &enc); err != nil {
		t.Fatalf("download file on DC %d: %v", f.DCID, err)
	}
	if int64(enc.Len()) != f.Size {
		t.Fatalf("downloaded %d bytes, the server said %d", enc.Len(), f.Size)
	}
	r, err := passport.NewFileReader(&enc, f.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func scanBytes(t testing.TB, s Scan) []byte {
	t.Helper()
	b, err := s.JPEG()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSubmission compares a decrypted submission, files included, with
// the profile it came from.
func checkSubmission(ctx context.Context, t testing.TB, b *testBot, sub *passport.Submission, profile Profile, scope passport.Scope) {
	t.Helper()
	if len(sub.Elements) != len(scope.Elements) {
		t.Fatalf("%d elements, want %d", len(sub.Elements), len(scope.Elements))
	}
	for _, el := range sub.Elements {
		pe := profile[el.Type]
		if pe == nil {
			t.Fatalf("unexpected %s", el.Type)
		}
		if el.Type.HasData() && !reflect.DeepEqual(el.Fields, pe.Fields) {
			t.Errorf("%s fields differ from the profile", el.Type)
		}
		if el.PhoneNumber != pe.Phone || el.Email != pe.Email {
			t.Errorf("%s plain value differs", el.Type)
		}
		same := func(part string, f *passport.File, s *Scan) {
			t.Helper()
			switch {
			case f == nil && s == nil:
				return
			case f == nil || s == nil:
				t.Fatalf("%s %s: file %v, scan %v", el.Type, part, f != nil, s != nil)
			}
			if !bytes.Equal(download(ctx, t, b, f), scanBytes(t, *s)) {
				t.Errorf("%s %s: downloaded file differs from the scan", el.Type, part)
			}
		}
		same("front_side", el.FrontSide, pe.FrontSide)
		same("reverse_side", el.ReverseSide, pe.ReverseSide)
		if e, _ := scope.Element(el.Type); e.Selfie {
			same("selfie", el.Selfie, pe.Selfie)
		} else if el.Selfie != nil {
			t.Errorf("%s: selfie shared without being asked for", el.Type)
		}
		if len(el.Files) != len(pe.Files) {
			t.Fatalf("%s: %d files, want %d", el.Type, len(el.Files), len(pe.Files))
		}
		for i := range el.Files {
			same(fmt.Sprintf("files[%d]", i), &el.Files[i], &pe.Files[i])
		}
		if e, _ := scope.Element(el.Type); e.Translation {
			if len(el.Translation) != len(pe.Translation) {
				t.Fatalf("%s: %d translations, want %d", el.Type, len(el.Translation), len(pe.Translation))
			}
			for i := range el.Translation {
				same(fmt.Sprintf("translation[%d]", i), &el.Translation[i], &pe.Translation[i])
			}
		}
	}
}

// Test 2: a full Passport submission reaches the bot, decrypts to the
// profile and its files download and decrypt to the generated scans.
// Test 3: errors set by the bot reach the user, fixing clears them, the
// resubmission reaches the bot.
func TestPassportSubmissionAndErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 50*time.Second)
	sb := startSandbox(t, Options{})
	bot, key, pem := addTestBot(t, sb, "kyc_passport_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	profile := SampleProfile("user-1")
	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000002", FirstName: "Ada"}, SimUserOptions{Profile: profile, PartSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })

	scope := fullScope()
	link := passportLink(t, bot.ID, pem, "nonce-1", scope)
	page := requestPage(t, link)
	got, err := user.OpenURL(ctx, page.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got != link {
		t.Fatalf("OpenURL found %q, want %q", got, link)
	}
	if err := user.FillForm(ctx, got); err != nil {
		t.Fatal(err)
	}
	sub, action, from := submission(ctx, t, b, key)
	if from != user.User.ID || sub.Nonce != "nonce-1" {
		t.Fatalf("submission from %d with nonce %q", from, sub.Nonce)
	}
	for _, v := range action.Values {
		for _, f := range append(append([]tg.SecureFileClass{v.FrontSide, v.ReverseSide, v.Selfie}, v.Files...), v.Translation...) {
			if sf, ok := f.(*tg.SecureFile); ok && (sf.DCID != MainDC || sf.Size == 0 || len(sf.Secret) != 32 || sf.Date == 0) {
				t.Errorf("secure file %+v", sf)
			}
		}
	}
	checkSubmission(ctx, t, b, sub, profile, scope)
	sent, err := user.WaitMessage(ctx, func(m ChatMessage) bool { return m.Service == "secure_values_sent" })
	if err != nil || sent.Peer != bot.ID {
		t.Fatalf("user did not see the sent message: %v %+v", err, sent)
	}

	// Test 3: the bot flags the first name and the second bill page.
	pd := sub.Element(passport.TypePersonalDetails)
	ub := sub.Element(passport.TypeUtilityBill)
	e1, err := pd.ValueError(passport.Field("first_name"), "Does not match the document")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := ub.ValueError(passport.FileAt(1), "Page is unreadable")
	if err != nil {
		t.Fatal(err)
	}
	userHash := b.lastUserHash(t, user.User.ID)
	if _, err := b.API().UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{
		ID: &tg.InputUser{UserID: user.User.ID, AccessHash: userHash}, Errors: []tg.SecureValueErrorClass{e1, e2},
	}); err != nil {
		t.Fatal(err)
	}
	errs, err := user.Errors(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	want := []ValueError{
		{Type: passport.TypePersonalDetails, Target: "data.first_name", Text: "Does not match the document"},
		{Type: passport.TypeUtilityBill, Target: "files[1]", Text: "Page is unreadable"},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Fatalf("errors %+v, want %+v", errs, want)
	}

	if err := user.Fix(ctx, passport.TypePersonalDetails, func(e *ProfileElement) { e.Fields["first_name"] = "Augusta" }); err != nil {
		t.Fatal(err)
	}
	if errs, err = user.Errors(ctx, link); err != nil || len(errs) != 1 || errs[0].Target != "files[1]" {
		t.Fatalf("after fixing the name: %+v %v", errs, err)
	}
	if err := user.Fix(ctx, passport.TypeUtilityBill, func(e *ProfileElement) { e.Files[1] = Scan{Text: "user-1/bill-2-rescanned"} }); err != nil {
		t.Fatal(err)
	}
	if errs, err = user.Errors(ctx, link); err != nil || len(errs) != 0 {
		t.Fatalf("after fixing the bill: %+v %v", errs, err)
	}
	if n := len(sb.SecureValueErrors(user.User.ID, bot.ID)); n != 0 {
		t.Fatalf("%d errors left on the server", n)
	}

	// The resubmission's link has a callback URL: the app returns there.
	callbacks := make(chan string, 10)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbacks <- r.URL.RawQuery
	}))
	t.Cleanup(cb.Close)
	link2, err := passport.Link{BotID: bot.ID, Scope: scope, PublicKey: pem, Nonce: "nonce-2", CallbackURL: cb.URL + "/done?r=1"}.URL()
	if err != nil {
		t.Fatal(err)
	}
	expectCallback := func(want string) {
		t.Helper()
		select {
		case got := <-callbacks:
			if got != want {
				t.Fatalf("callback query %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no callback %q", want)
		}
	}
	if err := user.Cancel(ctx, link2); err != nil {
		t.Fatal(err)
	}
	expectCallback("r=1&tg_passport=cancel")
	badBot, err := passport.Link{BotID: 999, Scope: scope, PublicKey: pem, Nonce: "n", CallbackURL: cb.URL + "/done"}.URL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.Errors(ctx, badBot); err == nil || !strings.Contains(err.Error(), "BOT_INVALID") {
		t.Fatalf("unknown bot: %v", err)
	}
	expectCallback("error=BOT_INVALID&tg_passport=error")
	if err := user.FillForm(ctx, link2); err != nil {
		t.Fatal(err)
	}
	expectCallback("r=1&tg_passport=success")
	sub2, _, _ := submission(ctx, t, b, key)
	if sub2.Nonce != "nonce-2" {
		t.Fatalf("nonce %q", sub2.Nonce)
	}
	if pd2 := sub2.Element(passport.TypePersonalDetails); pd2.Fields["first_name"] != "Augusta" {
		t.Fatal("the resubmission does not carry the fixed name")
	}
	checkSubmission(ctx, t, b, sub2, user.Profile(), scope)
}

// lastUserHash returns the access hash of a user as the bot saw it.
func (b *testBot) lastUserHash(t testing.TB, userID int64) int64 {
	t.Helper()
	users, err := b.API().UsersGetUsers(context.Background(), []tg.InputUserClass{&tg.InputUser{UserID: userID}})
	if err == nil {
		for _, u := range users {
			if u, ok := u.(*tg.User); ok && u.ID == userID {
				return u.AccessHash
			}
		}
	}
	// Not resolvable without a hash: read it from the sandbox.
	b.sb.mu.Lock()
	defer b.sb.mu.Unlock()
	return b.sb.w.accounts[userID].user.AccessHash
}

func TestFindPassportLink(t *testing.T) {
	t.Parallel()
	const link = "tg://resolve?domain=telegrampassport&bot_id=1&scope=%7B%7D&public_key=k&nonce=n"
	for name, page := range map[string]string{
		"anchor":  `<a href="https://x.org">x</a><a href="` + strings.ReplaceAll(link, "&", "&amp;") + `">go</a>`,
		"script":  `<script>var u = "` + strings.ReplaceAll(link, "/", `\/`) + `"; location.href = u;</script>`,
		"meta":    `<meta http-equiv="refresh" content="0;url=` + link + `">`,
		"android": `<a href="tg:resolve?domain=telegrampassport&amp;bot_id=1">x</a>`,
	} {
		got, err := FindPassportLink(strings.NewReader(page))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name != "android" && got != link {
			t.Errorf("%s: %q", name, got)
		}
		if name == "android" && got != "tg:resolve?domain=telegrampassport&bot_id=1" {
			t.Errorf("%s: %q", name, got)
		}
	}
	if _, err := FindPassportLink(strings.NewReader(`<a href="tg://resolve?domain=other">x</a>`)); err != ErrNoPassportLink {
		t.Fatalf("other domain: %v", err)
	}
}
