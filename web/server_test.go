package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycbot/kycbot/bot/metrics"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/tests/testkit"
)

func TestNew(t *testing.T) {
	cat := testCatalog(t)
	good := testOptions(t, "https://kyc.acme.example/")
	if _, err := New(newFakeBackend(), cat, good); err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no bot id", func(o *Options) { o.BotID = 0 }, "BotID"},
		{"no name", func(o *Options) { o.BotName, o.BotUsername = "", "" }, "BotName or BotUsername"},
		{"bad username", func(o *Options) { o.BotUsername = "a b" }, "BotUsername"},
		{"no scope", func(o *Options) { o.Scope = nil }, "Scope"},
		{"no public url", func(o *Options) { o.PublicURL = "" }, "PublicURL"},
		{"http public url", func(o *Options) { o.PublicURL = "http://kyc.acme.example" }, "localhost only"},
		{"public url with query", func(o *Options) { o.PublicURL = "https://kyc.acme.example/?a=1" }, "PublicURL"},
		{"ftp public url", func(o *Options) { o.PublicURL = "ftp://kyc.acme.example" }, "PublicURL"},
		{"privacy url", func(o *Options) { o.PrivacyPolicyURL = "javascript:alert(1)" }, "PrivacyPolicyURL"},
		{"no key", func(o *Options) { o.PublicKeyPEM = "" }, "public_key is empty"},
		{"pkcs1 key", func(o *Options) {
			o.PublicKeyPEM = strings.ReplaceAll(o.PublicKeyPEM, "PUBLIC KEY", "RSA PUBLIC KEY")
		}, "PublicKeyPEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, "https://kyc.acme.example")
			tc.change(&o)
			_, err := New(newFakeBackend(), cat, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
	if _, err := New(nil, nil, good); err == nil || !strings.Contains(err.Error(), "Backend") || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("New(nil, nil): %v", err)
	}
	o := testOptions(t, "http://127.0.0.1:8080")
	if _, err := New(newFakeBackend(), cat, o); err != nil {
		t.Errorf("http on loopback: %v", err)
	}
}

func TestPageURL(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"https://kyc.acme.example", idEN}:     "https://kyc.acme.example/passport/" + idEN,
		{"https://kyc.acme.example/", idEN}:    "https://kyc.acme.example/passport/" + idEN,
		{"https://acme.example/kyc/", "a/b?c"}: "https://acme.example/kyc/passport/a%2Fb%3Fc",
	} {
		if got := PageURL(in[0], in[1]); got != want {
			t.Errorf("PageURL(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

// cspNonceRE finds the nonce of the Content-Security-Policy header.
var cspNonceRE = regexp.MustCompile(`^default-src 'none'; style-src 'nonce-([A-Za-z0-9_-]{22})'; script-src 'nonce-([A-Za-z0-9_-]{22})'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'$`)

func checkSecurityHeaders(t *testing.T, res response) {
	t.Helper()
	h := res.Header
	for k, want := range map[string]string{
		"Referrer-Policy":            "no-referrer",
		"Cache-Control":              "no-store",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
}

// checkPageHeaders checks a page's headers and that its CSP nonce is the
// one of its inline style and script, and returns the nonce.
func checkPageHeaders(t *testing.T, res response, lang string) string {
	t.Helper()
	checkSecurityHeaders(t, res)
	csp := res.Header.Get("Content-Security-Policy")
	m := cspNonceRE.FindStringSubmatch(csp)
	if m == nil || m[1] != m[2] {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	nonce := m[1]
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.Header.Get("Content-Language"); got != lang {
		t.Errorf("Content-Language = %q, want %q", got, lang)
	}
	if !strings.Contains(res.body, `<html lang="`+lang+`"`) {
		t.Errorf("page is not <html lang=%q>", lang)
	}
	// Every inline style and script carries the nonce; nothing else is
	// loaded from anywhere.
	for _, tag := range regexp.MustCompile(`<(style|script)[^>]*>`).FindAllString(res.body, -1) {
		if tag != `<style nonce="`+nonce+`">` && tag != `<script nonce="`+nonce+`">` {
			t.Errorf("tag %s does not carry the nonce %s", tag, nonce)
		}
	}
	for _, bad := range []string{" src=", "<link rel=\"stylesheet", "@import", "url(", " style="} {
		if strings.Contains(res.body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	return nonce
}

func TestRequestPage(t *testing.T) {
	s, b := newTestServer(t)
	h := s.Handler()
	res := get(t, h, "GET", "/passport/"+idEN, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", res.StatusCode, res.body)
	}
	nonce := checkPageHeaders(t, res, "en")
	if !strings.Contains(res.body, `<style nonce="`+nonce+`">`) || !strings.Contains(res.body, `<script nonce="`+nonce+`">`) {
		t.Error("the inline style or script lacks the CSP nonce")
	}
	if !strings.Contains(res.body, `<html lang="en" dir="ltr">`) {
		t.Error("page is not <html lang=en dir=ltr>")
	}
	req := testRequests()[0]
	checkLink(t, openHref(t, res.body), "https://kyc.acme.example", req)
	if got := openHref(t, res.body); !strings.HasPrefix(got, "tg://resolve?domain=telegrampassport&") {
		t.Errorf("link %q is not the tg://resolve form", got)
	}
	for _, want := range []string{
		"<title>Identity verification</title>",
		"\u2068@acme_kyc_bot\u2069 asks you to share:",
		`<span class="name">Personal details</span><span class="extra">including your name in the language of your country of residence</span>`,
		`<span class="name">Passport, driving licence or identity card</span><span class="extra">with a selfie holding the document and a certified translation</span>`,
		`<span class="name">Utility bill or bank statement</span></div>`,
		`<span class="name">Phone number</span></div>`,
		">Open Telegram Passport</a>",
		`<a id="privacy" href="https://acme.example/privacy" target="_blank" rel="noopener noreferrer">Privacy policy</a>`,
		"You will need your cloud password",
		"Telegram Passport will ask for your cloud password",
		"Nothing happened?",
		"If nothing happens, make sure the Telegram app is installed",
		"only \u2068@acme_kyc_bot\u2069 can read it",
		`window.location.href = a.getAttribute("href")`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// A fresh nonce per response.
	if again := checkPageHeaders(t, get(t, h, "GET", "/passport/"+idEN, nil), "en"); again == nonce {
		t.Error("two responses share a CSP nonce")
	}
	if got := b.looked(); !slices.Equal(got, []string{idEN, idEN}) {
		t.Errorf("backend lookups %q", got)
	}
	if len(b.recorded()) != 0 {
		t.Error("the page recorded an outcome")
	}
	// HEAD works too.
	if res := get(t, h, "HEAD", "/passport/"+idEN, nil); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD: status %d", res.StatusCode)
	}
}

func TestRequestPageWithoutPrivacyPolicy(t *testing.T) {
	s, _ := newTestServer(t, func(o *Options) { o.PrivacyPolicyURL = "" })
	res := get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
	if res.StatusCode != http.StatusOK || strings.Contains(res.body, `id="privacy"`) {
		t.Errorf("status %d, privacy link present: %v", res.StatusCode, strings.Contains(res.body, `id="privacy"`))
	}
}

func TestLanguages(t *testing.T) {
	s, _ := newTestServer(t)
	cat := testCatalog(t)
	for _, tc := range []struct {
		id, accept, lang, dir string
	}{
		{idRU, "", "ru", "ltr"},
		{idFA, "", "fa", "rtl"},
		{idAR, "en", "ar", "rtl"},                  // the request's language wins ("ar-EG" -> ar)
		{idNoLang, "de-CH, en;q=0.5", "de", "ltr"}, // no request language: Accept-Language
		{idNoLang, "", "en", "ltr"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			res := get(t, s.Handler(), "GET", "/passport/"+tc.id, map[string]string{"Accept-Language": tc.accept})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			checkPageHeaders(t, res, tc.lang)
			if want := fmt.Sprintf(`<html lang="%s" dir="%s">`, tc.lang, tc.dir); !strings.Contains(res.body, want) {
				t.Errorf("page lacks %s", want)
			}
			loc := cat.Language(tc.lang)
			for _, id := range []string{i18n.MsgPageTitle, i18n.MsgPageOpenButton, i18n.MsgPageFallback, i18n.MsgStartPasswordNote, i18n.MsgPagePrivacy} {
				if want := escapeText(loc.Text(id, nil)); !strings.Contains(res.body, want) {
					t.Errorf("page lacks %s %q", id, want)
				}
			}
		})
	}
}

// escapeText escapes a text as html/template does in element content.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestAndroidLink(t *testing.T) {
	s, _ := newTestServer(t)
	for _, tc := range []struct{ ua, prefix string }{
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "tg:resolve?domain=telegrampassport&"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "tg://resolve?domain=telegrampassport&"},
		{"", "tg://resolve?domain=telegrampassport&"},
	} {
		res := get(t, s.Handler(), "GET", "/passport/"+idRU, map[string]string{"User-Agent": tc.ua})
		href := openHref(t, res.body)
		if !strings.HasPrefix(href, tc.prefix) {
			t.Errorf("UA %.30q: link %.60q, want prefix %q", tc.ua, href, tc.prefix)
		}
		checkLink(t, href, "https://kyc.acme.example", testRequests()[1])
	}
}

func TestEscaping(t *testing.T) {
	const evil = `<script>alert("x")</script>'"&`
	b := newFakeBackend(Request{ID: idEN, Nonce: evil, Level: evil, Lang: evil, ExpiresAt: testNow.Add(time.Hour)})
	o := testOptions(t, "https://kyc.acme.example")
	o.BotName = evil
	o.PrivacyPolicyURL = `https://acme.example/privacy?a="><script>alert(1)</script>`
	o.Scope = func(level string) (passport.Scope, error) {
		if level != evil {
			return passport.Scope{}, errors.New("wrong level")
		}
		return testScope("basic")
	}
	s, err := New(b, testCatalog(t), o)
	if err != nil {
		t.Fatal(err)
	}
	res := get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	checkPageHeaders(t, res, "en") // an unsupported Lang falls back to the default
	if n := strings.Count(res.body, "<script"); n != 1 {
		t.Errorf("page has %d <script tags, want only its own", n)
	}
	if strings.Contains(res.body, "alert(") && !strings.Contains(res.body, "alert(&#34;x&#34;)") {
		t.Error("page contains unescaped alert(")
	}
	if !strings.Contains(res.body, "\u2068&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;&#34;&amp;\u2069 asks you to share:") {
		t.Errorf("the bot name is not escaped as text:\n%s", res.body)
	}
	href := openHref(t, res.body)
	l, err := passport.ParseLink(href)
	if err != nil || l.Nonce != evil {
		t.Errorf("link nonce %q (%v), want %q", l.Nonce, err, evil)
	}
	// The name heads the other pages too, escaped.
	res = get(t, s.Handler(), "GET", "/passport/"+idOld, nil)
	if !strings.Contains(res.body, "<span>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;&#34;&amp;</span>") || strings.Contains(res.body, "<script") {
		t.Errorf("the bot name is not escaped in the expired page's header:\n%s", res.body)
	}
	// A request ID with markup never reaches the backend nor the page (on
	// a server whose name has no markup of its own).
	o.BotName = ""
	if s, err = New(b, testCatalog(t), o); err != nil {
		t.Fatal(err)
	}
	res = get(t, s.Handler(), "GET", "/passport/%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil)
	if res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "alert") {
		t.Errorf("markup ID: status %d", res.StatusCode)
	}
	// Nor into the callback page.
	res = get(t, s.Handler(), "GET", "/passport/callback?r=%3Cscript%3E&tg_passport=%3Cscript%3E&error=%3Cscript%3E", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(res.body, "&lt;script") || strings.Count(res.body, "<script") != 0 {
		t.Errorf("callback with markup: status %d", res.StatusCode)
	}
	if got := b.looked(); !slices.Equal(got, []string{idEN, idOld}) {
		t.Errorf("backend lookups %q", got)
	}
}

func TestExpiredPage(t *testing.T) {
	s, b := newTestServer(t)
	cat := testCatalog(t)
	for _, tc := range []struct {
		name, path, accept, lang string
		lookup                   bool
	}{
		{"unknown", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "", "en", true},
		{"expired by clock", "/passport/" + idOld, "ru-RU,ru;q=0.9,en;q=0.8", "ru", true},
		{"first supported language", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "zh-CN, ja;q=0.9, fr;q=0.8, de;q=0.7", "fr", true},
		{"pt", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "pt", "pt-BR", true},
		{"arabic", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "ar", "ar", true},
		{"malformed header", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", ";;;q=x", "en", true},
		{"by quality", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "en;q=0.2, uk;q=0.9, *;q=1", "uk", true},
		{"excluded", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "ru;q=0, es;q=0.1", "es", true},
		{"lenient", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "de-CH,de;q=0.9;q=0.9,en;q=0.5;q=0.8", "de", true},
		{"bad entries skipped", "/passport/ZZZZZZZZZZZZZZZZZZZZZZ", "!!,tr;q=abc,fa", "fa", true},
		{"malformed id", "/passport/not.an.id", "uk", "uk", false},
		{"long id", "/passport/" + strings.Repeat("A", 200), "", "en", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(b.looked())
			res := get(t, s.Handler(), "GET", tc.path, map[string]string{"Accept-Language": tc.accept})
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("status %d, want 404", res.StatusCode)
			}
			checkPageHeaders(t, res, tc.lang)
			loc := cat.Language(tc.lang)
			for _, id := range []string{i18n.MsgPageExpiredTitle, i18n.MsgPageExpired, i18n.MsgPageBackButton} {
				if want := escapeText(loc.Text(id, nil)); !strings.Contains(res.body, want) {
					t.Errorf("page lacks %s %q", id, want)
				}
			}
			if !strings.Contains(res.body, `<a id="back" class="button" href="https://t.me/acme_kyc_bot">`) {
				t.Error("no button back to the chat")
			}
			if strings.Contains(res.body, "tg:") || strings.Contains(res.body, "<script") {
				t.Error("the expired page has a passport link or a script")
			}
			if looked := len(b.looked()) > before; looked != tc.lookup {
				t.Errorf("backend asked: %v, want %v", looked, tc.lookup)
			}
		})
	}
}

func TestBackendFailures(t *testing.T) {
	logs := &testkit.Logs{}
	s, b := newTestServer(t, func(o *Options) { o.Logger = logs.Logger() })
	b.reqErr = errors.New("redis: connection refused")
	res := get(t, s.Handler(), "GET", "/passport/"+idEN, map[string]string{"Accept-Language": "es"})
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	checkPageHeaders(t, res, "es")
	if want := escapeText(testCatalog(t).Language("es").Text(i18n.MsgPageUnavailable, nil)); !strings.Contains(res.body, want) {
		t.Errorf("page lacks %q", want)
	}
	if strings.Contains(res.body, "redis") {
		t.Error("the page leaks the error")
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Error("the error is not logged")
	}

	b.reqErr = nil
	b.requests[idEN] = Request{ID: idEN, Nonce: "n", Level: "gone", Lang: "en"}
	res = get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
	if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(res.body, "gone") {
		t.Errorf("unknown level: status %d", res.StatusCode)
	}
	if !strings.Contains(logs.String(), `level=gone`) {
		t.Error("the level without scope is not logged")
	}

	b.requests[idEN] = Request{ID: idEN, Nonce: "", Level: "basic", Lang: "en"}
	res = get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
	if res.StatusCode != http.StatusInternalServerError {
		t.Errorf("empty nonce: status %d", res.StatusCode)
	}
}

func TestCallback(t *testing.T) {
	cat := testCatalog(t)
	for _, tc := range []struct {
		name   string
		query  string
		accept string
		want   *Outcome // nil: nothing recorded
		lang   string
		text   string // message ID of the page's text
	}{
		{"success", "r=" + idRU + "&tg_passport=success", "", &Outcome{RequestID: idRU, Result: ResultSuccess}, "ru", i18n.MsgPageCallbackSuccess},
		{"success ignores error", "r=" + idEN + "&tg_passport=success&error=BOT_INVALID", "", &Outcome{RequestID: idEN, Result: ResultSuccess}, "en", i18n.MsgPageCallbackSuccess},
		{"cancel", "r=" + idFA + "&tg_passport=cancel", "", &Outcome{RequestID: idFA, Result: ResultCancel}, "fa", i18n.MsgPageCallbackCancel},
		{"public key invalid", "r=" + idEN + "&tg_passport=error&error=PUBLIC_KEY_INVALID", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodePublicKeyInvalid}, "en", i18n.MsgPageCallbackError},
		{"bot invalid", "r=" + idEN + "&tg_passport=error&error=BOT_INVALID", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeBotInvalid}, "en", i18n.MsgPageCallbackError},
		{"public key required", "r=" + idEN + "&tg_passport=error&error=PUBLIC_KEY_REQUIRED", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodePublicKeyRequired}, "en", i18n.MsgPageCallbackError},
		{"scope empty", "r=" + idEN + "&tg_passport=error&error=SCOPE_EMPTY", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeScopeEmpty}, "en", i18n.MsgPageCallbackError},
		{"nonce empty", "r=" + idEN + "&tg_passport=error&error=NONCE_EMPTY", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeNonceEmpty}, "en", i18n.MsgPageCallbackError},
		{"unknown error code", "r=" + idEN + "&tg_passport=error&error=SOMETHING_NEW%3Cb%3E", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeUnknown}, "en", i18n.MsgPageCallbackError},
		{"lower-case error code", "r=" + idEN + "&tg_passport=error&error=public_key_invalid", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeUnknown}, "en", i18n.MsgPageCallbackError},
		{"error without code", "r=" + idEN + "&tg_passport=error", "", &Outcome{RequestID: idEN, Result: ResultError, Error: CodeUnknown}, "en", i18n.MsgPageCallbackError},
		{"expired request", "r=" + idOld + "&tg_passport=error&error=PUBLIC_KEY_INVALID", "", &Outcome{RequestID: idOld, Result: ResultError, Error: CodePublicKeyInvalid}, "en", i18n.MsgPageCallbackError},
		{"unknown request", "r=ZZZZZZZZZZZZZZZZZZZZZZ&tg_passport=success", "de", nil, "de", i18n.MsgPageCallbackSuccess},
		{"unknown result", "r=" + idRU + "&tg_passport=maybe", "", nil, "ru", i18n.MsgPageCallbackUnknown},
		{"no result", "r=" + idRU, "", nil, "ru", i18n.MsgPageCallbackUnknown},
		{"no request", "tg_passport=cancel", "tr", nil, "tr", i18n.MsgPageCallbackCancel},
		{"nothing", "", "", nil, "en", i18n.MsgPageCallbackUnknown},
		{"malformed request id", "r=a.b&tg_passport=success", "", nil, "en", i18n.MsgPageCallbackSuccess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, b := newTestServer(t)
			res := get(t, s.Handler(), "GET", "/passport/callback?"+tc.query, map[string]string{"Accept-Language": tc.accept})
			if res.StatusCode != http.StatusOK {
				t.Errorf("status %d", res.StatusCode)
			}
			checkPageHeaders(t, res, tc.lang)
			loc := cat.Language(tc.lang)
			if want := escapeText(loc.Text(tc.text, nil)); !strings.Contains(res.body, want) {
				t.Errorf("page lacks %s %q", tc.text, want)
			}
			if want := escapeText(loc.Text(i18n.MsgPageBackButton, nil)); !strings.Contains(res.body, want) {
				t.Errorf("page lacks the back button %q", want)
			}
			if strings.Contains(res.body, "<script") {
				t.Error("the callback page has a script")
			}
			got := b.recorded()
			switch {
			case tc.want == nil && len(got) != 0:
				t.Errorf("recorded %+v, want nothing", got)
			case tc.want != nil:
				want := *tc.want
				want.At = testNow
				if len(got) != 1 || got[0] != want {
					t.Errorf("recorded %+v, want %+v", got, want)
				}
			}
		})
	}
}

func TestCallbackRecordFailure(t *testing.T) {
	logs := &testkit.Logs{}
	s, b := newTestServer(t, func(o *Options) { o.Logger = logs.Logger() })
	b.recErr = errors.New("redis down")
	res := get(t, s.Handler(), "GET", "/passport/callback?r="+idEN+"&tg_passport=success", nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("status %d", res.StatusCode)
	}
	if !strings.Contains(logs.String(), "redis down") {
		t.Error("the failure is not logged")
	}
}

func TestRoutes(t *testing.T) {
	s, b := newTestServer(t)
	h := s.Handler()
	// The literal /passport/callback wins over /passport/{id}.
	b.requests["callback"] = Request{ID: "callback", Nonce: "x", Level: "basic", Lang: "en"}
	res := get(t, h, "GET", "/passport/callback", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(res.body, `id="open"`) {
		t.Errorf("/passport/callback served the request page (status %d)", res.StatusCode)
	}
	if slices.Contains(b.looked(), "callback") {
		t.Error("/passport/callback was looked up as a request")
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/passport/" + idEN, http.StatusMethodNotAllowed},
		{"POST", "/passport/callback?r=" + idEN + "&tg_passport=success", http.StatusMethodNotAllowed},
		{"PUT", "/passport/callback", http.StatusMethodNotAllowed},
		{"DELETE", "/healthz", http.StatusMethodNotAllowed},
		{"POST", "/healthz", http.StatusMethodNotAllowed},
		{"POST", "/readyz", http.StatusMethodNotAllowed},
		{"GET", "/", http.StatusNotFound},
		{"GET", "/passport/", http.StatusNotFound},
		{"GET", "/passport/" + idEN + "/x", http.StatusNotFound},
	} {
		res := get(t, h, tc.method, tc.path, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
		if tc.status == http.StatusMethodNotAllowed && !strings.Contains(res.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: Allow = %q", tc.method, tc.path, res.Header.Get("Allow"))
		}
		checkSecurityHeaders(t, res)
	}
	if len(b.recorded()) != 0 {
		t.Error("a refused method recorded an outcome")
	}
}

// TestHealthAndReady checks the liveness check (/healthz: up while
// serving, whatever the Backend says) and the readiness check (/readyz:
// Backend.Ready), whose cause of failure is logged, never shown.
func TestHealthAndReady(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     string
		readyErr error
		status   int
		body     string
	}{
		{"healthz ready", "/healthz", nil, http.StatusOK, "ok"},
		{"healthz with redis down", "/healthz", errors.New("redis: dial tcp 10.0.0.7:6379: connection refused"), http.StatusOK, "ok"},
		{"readyz ready", "/readyz", nil, http.StatusOK, "ok"},
		{"readyz with redis down", "/readyz", errors.New("redis: dial tcp 10.0.0.7:6379: connection refused"), http.StatusServiceUnavailable, "unavailable"},
		{"readyz before updates flow", "/readyz", errors.New("telegram: not receiving updates yet"), http.StatusServiceUnavailable, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testkit.Logs{}
			s, b := newTestServer(t, func(o *Options) { o.Logger = logs.Logger() })
			b.mu.Lock()
			b.readyErr = tc.readyErr
			b.mu.Unlock()
			res := get(t, s.Handler(), "GET", tc.path, nil)
			if res.StatusCode != tc.status || res.body != tc.body {
				t.Errorf("GET %s: %d %q, want %d %q", tc.path, res.StatusCode, res.body, tc.status, tc.body)
			}
			if res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			checkSecurityHeaders(t, res)
			if tc.status != http.StatusOK && !strings.Contains(logs.String(), tc.readyErr.Error()) {
				t.Errorf("the cause is not logged:\n%s", logs)
			}
			if strings.Contains(res.body, "10.0.0.7") || strings.Contains(res.body, "telegram") {
				t.Errorf("the cause is shown: %q", res.body)
			}
		})
	}
}

// TestMetricsRoute checks that Options.Metrics is served as /metrics, and
// that without it there is no such route.
func TestMetricsRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.WithOutboxDepth(func(context.Context) (int64, int64, error) { return 2, 0, nil }))
	if err != nil {
		t.Fatal(err)
	}
	m.Submission("verified", "", "basic")
	m.Problems([]string{"expired"})
	m.Verdict(time.Second)
	m.Command("start")
	m.Delivery("delivered")
	m.InFlight(1)
	flood := telegram.InvokeFunc(func(context.Context, bin.Encoder, bin.Decoder) error { return tgerr.New(420, "FLOOD_WAIT_3") })
	_ = m.Middleware().Handle(flood).Invoke(context.Background(), &tg.MessagesSendMessageRequest{}, nil)
	s, _ := newTestServer(t, func(o *Options) { o.Metrics = metrics.Handler(reg, nil) })
	res := get(t, s.Handler(), "GET", "/metrics", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	for _, name := range []string{
		"kycbot_submissions_total", "kycbot_problems_total", "kycbot_verdict_seconds_bucket",
		"kycbot_deliveries_total", "kycbot_outbox_entries", "kycbot_telegram_rpc_errors_total",
		"kycbot_updates_in_flight", "kycbot_commands_total",
	} {
		if !strings.Contains(res.body, name) {
			t.Errorf("/metrics lacks %s:\n%s", name, res.body)
		}
	}
	checkSecurityHeaders(t, res)
	if res := get(t, s.Handler(), "POST", "/metrics", nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", res.StatusCode)
	}

	s, _ = newTestServer(t)
	if res := get(t, s.Handler(), "GET", "/metrics", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics without Options.Metrics: %d, want 404", res.StatusCode)
	}
}

// TestOpsHandler checks which handler serves which endpoint: OpsHandler
// the operations endpoints alone, Handler the pages and, unless
// Options.SeparateOps, the operations endpoints too (404 otherwise, like
// any unknown path).
func TestOpsHandler(t *testing.T) {
	metricsOK := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("kycbot_x 1\n")) })
	pages := []string{"/passport/" + idEN, "/passport/callback?r=" + idEN + "&tg_passport=cancel"}
	ops := []string{"/healthz", "/readyz", "/metrics"}
	for _, tc := range []struct {
		name     string
		separate bool
		ops      bool // OpsHandler, else Handler
		served   []string
		notFound []string
	}{
		{name: "Handler", served: append(pages[:len(pages):len(pages)], ops...)},
		{name: "OpsHandler", ops: true, served: ops, notFound: pages},
		{name: "Handler with SeparateOps", separate: true, served: pages, notFound: ops},
		{name: "OpsHandler with SeparateOps", separate: true, ops: true, served: ops, notFound: pages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, func(o *Options) { o.Metrics, o.SeparateOps = metricsOK, tc.separate })
			h := s.Handler()
			if tc.ops {
				h = s.OpsHandler()
			}
			for _, path := range tc.served {
				if res := get(t, h, "GET", path, nil); res.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d, want 200", path, res.StatusCode)
				}
			}
			for _, path := range append(tc.notFound, "/", "/passport/") {
				res := get(t, h, "GET", path, nil)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
				}
				checkSecurityHeaders(t, res)
			}
			// A path not served is unknown, whatever the method.
			for _, path := range tc.notFound {
				if res := get(t, h, "POST", path, nil); res.StatusCode != http.StatusNotFound {
					t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
				}
			}
		})
	}
	// OpsHandler serves no /metrics without Options.Metrics.
	s, _ := newTestServer(t, func(o *Options) { o.SeparateOps = true })
	if res := get(t, s.OpsHandler(), "GET", "/metrics", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics without Options.Metrics: %d, want 404", res.StatusCode)
	}
	if res := get(t, s.OpsHandler(), "GET", "/healthz", nil); res.StatusCode != http.StatusOK || res.body != "ok" {
		t.Errorf("GET /healthz: %d %q", res.StatusCode, res.body)
	}
}

// TestLogs checks that logs name requests by hash only and never carry
// nonces or request IDs.
func TestLogs(t *testing.T) {
	logs := &testkit.Logs{}
	s, b := newTestServer(t, func(o *Options) { o.Logger = logs.Logger() })
	h := s.Handler()
	get(t, h, "GET", "/passport/"+idEN, nil)
	get(t, h, "GET", "/passport/callback?r="+idEN+"&tg_passport=error&error=PUBLIC_KEY_INVALID", nil)
	get(t, h, "GET", "/passport/callback?r=ZZZZZZZZZZZZZZZZZZZZZZ&tg_passport=success", nil)
	b.reqErr = errors.New("storage down")
	get(t, h, "GET", "/passport/"+idRU, nil)
	out := logs.String()
	for _, secret := range []string{idEN, idRU, nonceEN, nonceRU, "ZZZZZZZZZZZZZZZZZZZZZZ"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "request="+idHash(idEN)) || !strings.Contains(out, "error_code=PUBLIC_KEY_INVALID") || !strings.Contains(out, "level=ERROR") {
		t.Errorf("logs lack the request hash or the alarm:\n%s", out)
	}
}

func TestServe(t *testing.T) {
	s, _ := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("healthz: %d %q", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestListenAndServeError(t *testing.T) {
	s, _ := newTestServer(t)
	if err := s.ListenAndServe(context.Background(), "256.0.0.1:bad"); err == nil {
		t.Error("ListenAndServe on a bad address succeeded")
	}
}

// TestNewHTTPServer: the server package bot runs Handler and OpsHandler
// on has the limits of Serve, so that slow clients cannot hold it.
func TestNewHTTPServer(t *testing.T) {
	h := http.NotFoundHandler()
	srv := NewHTTPServer(h, nil)
	for _, tt := range []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, 5 * time.Second},
		{"ReadTimeout", srv.ReadTimeout, 10 * time.Second},
		{"WriteTimeout", srv.WriteTimeout, 20 * time.Second},
		{"IdleTimeout", srv.IdleTimeout, time.Minute},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if srv.MaxHeaderBytes != 16<<10 {
		t.Errorf("MaxHeaderBytes = %d, want 16 KiB", srv.MaxHeaderBytes)
	}
	if srv.Handler == nil {
		t.Error("no handler")
	}
}
