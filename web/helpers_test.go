package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
)

// testNow is the tests' fixed clock.
var testNow = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

var (
	keyOnce sync.Once
	keyPEM  string
	keyErr  error
)

// testKeyPEM returns an SPKI PEM public key, generated once per test run.
func testKeyPEM(t testing.TB) string {
	t.Helper()
	keyOnce.Do(func() {
		k, err := passport.GenerateKey(2048)
		if err != nil {
			keyErr = err
			return
		}
		b, err := passport.MarshalPublicKey(&k.PublicKey)
		keyPEM, keyErr = string(b), err
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyPEM
}

var (
	catOnce sync.Once
	cat     *i18n.Catalog
	catErr  error
)

func testCatalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	catOnce.Do(func() { cat, catErr = i18n.New() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	return cat
}

// testScopes are the scopes of the test levels.
func testScopes() map[string]passport.Scope {
	return map[string]passport.Scope{
		"basic": passport.NewScope(
			passport.Require(passport.TypePersonalDetails).WithNativeNames(),
			passport.RequireOneOf(passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard).WithSelfie().WithTranslation(),
			passport.RequireOneOf(passport.TypeUtilityBill, passport.TypeBankStatement),
			passport.Require(passport.TypePhoneNumber),
		),
		"simple": passport.NewScope(passport.Require(passport.TypeEmail), passport.Require(passport.TypePassport).WithSelfie()),
	}
}

func testScope(level string) (passport.Scope, error) {
	sc, ok := testScopes()[level]
	if !ok {
		return passport.Scope{}, fmt.Errorf("no level %q", level)
	}
	return sc, nil
}

// fakeBackend is an in-memory Backend.
type fakeBackend struct {
	mu       sync.Mutex
	requests map[string]Request
	outcomes []Outcome
	lookups  []string
	reqErr   error // returned by Request for every ID when set
	recErr   error
	readyErr error
}

func newFakeBackend(reqs ...Request) *fakeBackend {
	b := &fakeBackend{requests: map[string]Request{}}
	for _, r := range reqs {
		b.requests[r.ID] = r
	}
	return b
}

func (b *fakeBackend) Request(ctx context.Context, id string) (Request, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lookups = append(b.lookups, id)
	if _, ok := ctx.Deadline(); !ok {
		return Request{}, errors.New("no deadline on the backend context")
	}
	if b.reqErr != nil {
		return Request{}, b.reqErr
	}
	r, ok := b.requests[id]
	if !ok {
		return Request{}, fmt.Errorf("request: %w", ErrNotFound)
	}
	return r, nil
}

func (b *fakeBackend) RecordOutcome(_ context.Context, o Outcome) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recErr != nil {
		return b.recErr
	}
	b.outcomes = append(b.outcomes, o)
	return nil
}

func (b *fakeBackend) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readyErr
}

func (b *fakeBackend) recorded() []Outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Outcome(nil), b.outcomes...)
}

func (b *fakeBackend) looked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lookups...)
}

// Sample requests (IDs and nonces shaped like the store's).
const (
	testBotID = 1234567890
	idEN      = "AAAAAAAAAAAAAAAAAAAAAA"
	idRU      = "BBBBBBBBBBBBBBBBBBBBBB"
	idFA      = "CCCCCCCCCCCCCCCCCCCCCC"
	idAR      = "DDDDDDDDDDDDDDDDDDDDDD"
	idOld     = "EEEEEEEEEEEEEEEEEEEEEE"
	idNoLang  = "FFFFFFFFFFFFFFFFFFFFFF"
	nonceEN   = "nonce-en-0123456789abcdefghijklmnopqrstuvwxyz_ABC"
	nonceRU   = "nonce-ru-0123456789abcdefghijklmnopqrstuvwxyz_ABC"
)

func testRequests() []Request {
	exp := testNow.Add(30 * time.Minute)
	return []Request{
		{ID: idEN, Nonce: nonceEN, Level: "basic", Lang: "en", ExpiresAt: exp},
		{ID: idRU, Nonce: nonceRU, Level: "basic", Lang: "ru", ExpiresAt: exp},
		{ID: idFA, Nonce: "nonce-fa", Level: "simple", Lang: "fa", ExpiresAt: exp},
		{ID: idAR, Nonce: "nonce-ar", Level: "simple", Lang: "ar-EG", ExpiresAt: exp},
		{ID: idOld, Nonce: "nonce-old", Level: "basic", Lang: "en", ExpiresAt: testNow.Add(-time.Second)},
		{ID: idNoLang, Nonce: "nonce-nolang", Level: "simple", ExpiresAt: exp},
	}
}

// testOptions returns valid options for a server at publicURL.
func testOptions(t testing.TB, publicURL string) Options {
	return Options{
		BotID:            testBotID,
		BotUsername:      "acme_kyc_bot",
		PublicKeyPEM:     testKeyPEM(t),
		PublicURL:        publicURL,
		PrivacyPolicyURL: "https://acme.example/privacy",
		Scope:            testScope,
		Clock:            func() time.Time { return testNow },
	}
}

// newTestServer returns a Server with the sample requests.
func newTestServer(t testing.TB, opts ...func(*Options)) (*Server, *fakeBackend) {
	t.Helper()
	b := newFakeBackend(testRequests()...)
	o := testOptions(t, "https://kyc.acme.example")
	for _, f := range opts {
		f(&o)
	}
	s, err := New(b, testCatalog(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// response is a recorded response with its body.
type response struct {
	*http.Response
	body string
}

// get runs a request through h.
func get(t testing.TB, h http.Handler, method, target string, header map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res, string(body)}
}

var hrefRE = regexp.MustCompile(`<a id="open" class="button" href="([^"]*)"`)

// openHref returns the href of the page's "Open Telegram Passport" button,
// HTML-unescaped.
func openHref(t testing.TB, body string) string {
	t.Helper()
	m := hrefRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no open button in the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// checkLink parses a deep link and compares it with what the server at
// publicURL should have built for req.
func checkLink(t testing.TB, href, publicURL string, req Request) {
	t.Helper()
	l, err := passport.ParseLink(href)
	if err != nil {
		t.Fatalf("ParseLink(%q): %v", href, err)
	}
	if l.BotID != testBotID {
		t.Errorf("bot_id = %d, want %d", l.BotID, testBotID)
	}
	want, _ := testScope(req.Level)
	wantScope, err := want.Encode()
	if err != nil {
		t.Fatal(err)
	}
	gotScope, err := l.Scope.Encode()
	if err != nil || gotScope != wantScope {
		t.Errorf("scope = %s (%v), want %s", gotScope, err, wantScope)
	}
	if l.PublicKey != testKeyPEM(t) {
		t.Errorf("public_key = %q, want the test key", l.PublicKey)
	}
	if l.Nonce != req.Nonce {
		t.Errorf("nonce = %q, want %q", l.Nonce, req.Nonce)
	}
	if want := publicURL + "/passport/callback?r=" + req.ID; l.CallbackURL != want {
		t.Errorf("callback_url = %q, want %q", l.CallbackURL, want)
	}
}
