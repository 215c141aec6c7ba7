package web

import (
	"bytes"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
)

var (
	expiresRE = regexp.MustCompile(`<p id="expires" class="expires small">(.*?)</p>`)
	qrSVGRE   = regexp.MustCompile(`(?s)<div class="code" role="img" aria-label="[^"]*">(<svg.*?</svg>)</div>`)
)

// expiresText returns the expiry sentence of a page as text, and the
// datetime attribute of its time.
func expiresText(t *testing.T, body string) (text, datetime string) {
	t.Helper()
	m := expiresRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no expiry line in the page:\n%s", body)
	}
	if d := regexp.MustCompile(`datetime="([^"]*)"`).FindStringSubmatch(m[1]); d != nil {
		datetime = d[1]
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")), datetime
}

func TestExpiryLine(t *testing.T) {
	cat := testCatalog(t)
	for _, tc := range []struct {
		name string
		left time.Duration
		lang string
		want string
	}{
		{"30 minutes", 30 * time.Minute, "en", "This link works until 12:30 UTC (about 30 minutes)."},
		{"rounded", 29*time.Minute + 40*time.Second, "en", "This link works until 12:29 UTC (about 30 minutes)."},
		{"last seconds", 10 * time.Second, "en", "This link works until 12:00 UTC (about 1 minute)."},
		{"89 minutes", 89 * time.Minute, "en", "This link works until 13:29 UTC (about 89 minutes)."},
		{"hours", 5*time.Hour + 10*time.Minute, "en", "This link works until 17:10 UTC (about 5 hours)."},
		{"90 minutes in hours", 90 * time.Minute, "en", "This link works until 13:30 UTC (about 2 hours)."},
		{"russian", 21 * time.Minute, "ru", "Ссылка действует до 12:21 UTC (осталось около 21 минуты)."},
		{"arabic", 2 * time.Minute, "ar", "يبقى هذا الرابط صالحًا حتى الساعة ١٢:٠٢ م UTC، أي لنحو دقيقتين."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := testNow.Add(tc.left)
			b := newFakeBackend(Request{ID: idEN, Nonce: nonceEN, Level: "basic", Lang: tc.lang, ExpiresAt: at})
			s, err := New(b, cat, testOptions(t, "https://kyc.acme.example"))
			if err != nil {
				t.Fatal(err)
			}
			res := get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
			text, datetime := expiresText(t, res.body)
			if text != tc.want {
				t.Errorf("expiry line %q, want %q", text, tc.want)
			}
			if want := at.UTC().Format(time.RFC3339); datetime != want {
				t.Errorf("datetime %q, want %q", datetime, want)
			}
		})
	}
	// No expiry known: no line.
	b := newFakeBackend(Request{ID: idEN, Nonce: nonceEN, Level: "basic", Lang: "en"})
	s, err := New(b, cat, testOptions(t, "https://kyc.acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	if res := get(t, s.Handler(), "GET", "/passport/"+idEN, nil); strings.Contains(res.body, `id="expires"`) {
		t.Error("a request without an expiry has an expiry line")
	}
}

func TestRequestPageQRCode(t *testing.T) {
	s, _ := newTestServer(t)
	res := get(t, s.Handler(), "GET", "/passport/"+idFA, nil)
	m := qrSVGRE.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no QR code in the page:\n%s", res.body)
	}
	grid, err := svgModules(m[1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeQR(grid)
	if want := "https://kyc.acme.example/passport/" + idFA; err != nil || got != want {
		t.Errorf("the QR code reads %q (%v), want the page's URL %q", got, err, want)
	}
	loc := testCatalog(t).Language("fa")
	for _, id := range []string{i18n.MsgPageQRTitle, i18n.MsgPageQRNote, i18n.MsgPageQRLabel, i18n.MsgPageWebNote} {
		if !strings.Contains(res.body, html.EscapeString(loc.Text(id, nil))) {
			t.Errorf("page lacks %s", id)
		}
	}
	// The other pages have no QR code: it would carry a useless link.
	if res := get(t, s.Handler(), "GET", "/passport/"+idOld, nil); strings.Contains(res.body, "<svg xmlns") {
		t.Error("the expired page has a QR code")
	}
}

// testPNG returns a small PNG logo.
func testPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 96, 32))
	for x := range 96 {
		for y := range 32 {
			img.Set(x, y, color.NRGBA{R: 0x1f, G: 0x6f, B: uint8(x), A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBrand(t *testing.T) {
	logo := testPNG(t)
	s, _ := newTestServer(t, func(o *Options) {
		o.BotName = "Acme Bank"
		o.Logo, o.LogoType = logo, "image/png"
	})
	h := s.Handler()
	logoURL := regexp.MustCompile(`<img id="logo" src="https://kyc\.acme\.example/passport/logo\?v=([0-9a-f]{12})" alt="">`)
	for _, path := range []string{"/passport/" + idEN, "/passport/" + idOld, "/passport/callback?r=" + idEN + "&tg_passport=success"} {
		res := get(t, h, "GET", path, nil)
		if !logoURL.MatchString(res.body) || !strings.Contains(res.body, "<span>Acme Bank</span></header>") {
			t.Errorf("%s: no brand header with the logo and the name:\n%s", path, res.body)
		}
		if !strings.Contains(res.body, " · Acme Bank</title>") {
			t.Errorf("%s: the title does not name the brand", path)
		}
		// The page may load the logo, from exactly its URL, and nothing
		// else.
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "; img-src data: https://kyc.acme.example/passport/logo;") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	res := get(t, h, "GET", "/passport/"+idEN, nil)
	if !strings.Contains(res.body, "\u2068Acme Bank\u2069 asks you to share:") {
		t.Error("the brand is not who is asking")
	}

	res = get(t, h, "GET", "/passport/logo?v=whatever", nil)
	if res.StatusCode != http.StatusOK || res.body != string(logo) {
		t.Fatalf("logo: status %d, %d bytes", res.StatusCode, len(res.body))
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "public, max-age=86400",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("logo %s = %q, want %q", k, got, want)
		}
	}

	// Without a brand: no header, the bot's username asks, no logo route
	// (the path is an unknown request).
	s, _ = newTestServer(t)
	res = get(t, s.Handler(), "GET", "/passport/"+idEN, nil)
	if strings.Contains(res.body, `class="brand"`) || !strings.Contains(res.body, "<title>Identity verification</title>") {
		t.Error("a page without a brand has a brand header or title")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "; img-src data:;") {
		t.Errorf("CSP without a logo %q", csp)
	}
	if res := get(t, s.Handler(), "GET", "/passport/logo", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("logo without a logo: status %d", res.StatusCode)
	}
}

func TestNewLogo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		logo       []byte
		typ, wantE string
	}{
		{"type without logo", nil, "image/png", "LogoType is set without a Logo"},
		{"too big", make([]byte, MaxLogoSize+1), "image/png", "at most 128 KiB"},
		{"wrong type", []byte("GIF89a"), "image/gif", `LogoType "image/gif" is not one of image/png, image/jpeg, image/svg+xml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, "https://kyc.acme.example")
			o.Logo, o.LogoType = tc.logo, tc.typ
			_, err := New(newFakeBackend(), testCatalog(t), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantE) {
				t.Errorf("New: %v, want %q", err, tc.wantE)
			}
		})
	}
}
