package web

import (
	"bytes"
	"cmp"
	"context"
	"image/png"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kycbot/kycbot/i18n"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// Phone emulated by TestPageInChromium: the CSS viewport of an iPhone 13/14
// (and close to most Android phones), at a device pixel ratio of 2.
const (
	phoneWidth  = 390
	phoneHeight = 844
	phoneScale  = 2
)

// Desktop emulated by TestPageInChromium: a common laptop screen, with a
// mouse (fine pointer, hover).
const (
	desktopWidth  = 1366
	desktopHeight = 900
)

// device is a screen TestPageInChromium emulates.
type device struct {
	width, height int64
	scale         float64
	phone         bool // touch screen, mobile viewport
}

var (
	phone   = device{phoneWidth, phoneHeight, phoneScale, true}
	desktop = device{desktopWidth, desktopHeight, 1, false}
)

// uaDesktop is Chrome on Linux.
const uaDesktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

const (
	uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// browserPage is what TestPageInChromium reads from a loaded page.
type browserPage struct {
	Lang      string  `json:"lang"`
	Dir       string  `json:"dir"`
	Text      string  `json:"text"`
	Location  string  `json:"location"`
	ButtonW   float64 `json:"buttonW"`
	ButtonH   float64 `json:"buttonH"`
	BackHref  string  `json:"backHref"`
	Scripts   int     `json:"scripts"`
	PageWidth float64 `json:"pageWidth"`
}

// readPage reads the page's language, direction, text and layout through
// the DOM.
const readPage = `(() => {
  const b = document.getElementById("open") || document.getElementById("back");
  const r = b ? b.getBoundingClientRect() : {width: 0, height: 0};
  const back = document.getElementById("back");
  return {
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    text: document.body.innerText,
    location: location.href,
    buttonW: r.width,
    buttonH: r.height,
    backHref: back ? back.getAttribute("href") : "",
    scripts: document.scripts.length,
    pageWidth: document.documentElement.scrollWidth,
  };
})()`

// layout is what TestPageInChromium reads of the request page's parts:
// where they are, whether they show, the expiry as shown, the QR code's
// markup.
type layout struct {
	Main     rect    `json:"main"`
	Card     rect    `json:"card"`
	QR       rect    `json:"qr"`
	QRCode   rect    `json:"qrCode"`
	QRSVG    string  `json:"qrSvg"`
	Logo     rect    `json:"logo"`
	LogoW    float64 `json:"logoNaturalWidth"`
	Brand    string  `json:"brand"`
	Expires  string  `json:"expires"`
	Time     string  `json:"time"`
	WebNote  rect    `json:"webNote"`
	Viewport float64 `json:"viewport"`
}

// rect is an element's box in CSS pixels (all zero when it is not shown).
type rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"width"`
	H float64 `json:"height"`
}

const readLayout = `(() => {
  const box = (sel) => {
    const e = document.querySelector(sel);
    if (!e) return {x: 0, y: 0, width: 0, height: 0};
    const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height};
  };
  const text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText : ""; };
  const svg = document.querySelector("#qr svg");
  const logo = document.getElementById("logo");
  return {
    main: box("main"), card: box(".primary > .card"), qr: box("#qr"), qrCode: box("#qr svg"),
    qrSvg: svg ? svg.outerHTML : "",
    logo: box("#logo"), logoNaturalWidth: logo ? logo.naturalWidth : 0,
    brand: text("#brand"), expires: text("#expires"), time: text("#expires-at"),
    webNote: box("#web-note"), viewport: document.documentElement.clientWidth,
  };
})()`

// testLogoSVG is the logo of TestPageInChromium's business.
var testLogoSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">` +
	`<rect width="40" height="40" rx="10" fill="#d9480f"/><path d="M10 30 20 10 30 30z" fill="#fff"/></svg>`)

// TestPageInChromium loads the request, expired and callback pages, served
// by the real server, in headless Chromium at phone size, and checks what a
// user's browser gets: the deep link of the button, the language and
// direction, that nothing is requested from another host, and a screenshot.
func TestPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must install Debian's chromium (scripts/test.sh does)", chromiumPath)
		}
		t.Skipf("%s is missing: install it with apt-get install chromium to run this test", chromiumPath)
	}
	// KYCBOT_SCREENSHOTS (or KYCBOT_TEST_OUT) keeps the screenshots in a
	// folder of one's choice, such as /work/screens.
	outDir := cmp.Or(os.Getenv("KYCBOT_SCREENSHOTS"), os.Getenv("KYCBOT_TEST_OUT"))
	if outDir == "" {
		outDir = t.TempDir()
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cat := testCatalog(t)

	// The real server, on a loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	backend := newFakeBackend(testRequests()...)
	opts := testOptions(t, base)
	opts.BotName = "Acme Bank"
	opts.Logo, opts.LogoType = testLogoSVG, "image/svg+xml"
	srv, err := New(backend, cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stopSrv()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	// Headless Chromium with a fresh profile and nothing running in the
	// background.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(phoneWidth, phoneHeight),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		// A mouse, as on a desktop (headless Chromium has no pointing
		// device); the phones' touch emulation makes the pointer coarse.
		chromedp.Flag("blink-settings", "primaryPointerType=4,primaryHoverType=2,availablePointerTypes=4,availableHoverTypes=2"),
	)
	defer cancelAlloc()

	// Every request the tab makes, as Chromium reports it.
	var mu sync.Mutex
	var requested []string
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}))
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tabCtx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	var (
		loadOn       func(t *testing.T, dev device, path, ua, acceptLanguage string, status int64) browserPage
		screenshotOf func(t *testing.T, dev device, name string)
	)

	// The user is in Tokyo (UTC+9, no summer time): the page shows the
	// link's expiry in the browser's time zone.
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatalf("time zone: %v", err)
	}

	// load emulates a phone with the given User-Agent and Accept-Language,
	// loads path, checks the status and reads the page.
	load := func(t *testing.T, path, ua, acceptLanguage string, status int64) browserPage {
		t.Helper()
		return loadOn(t, phone, path, ua, acceptLanguage, status)
	}
	loadOn = func(t *testing.T, dev device, path, ua, acceptLanguage string, status int64) browserPage {
		t.Helper()
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: ua, AcceptLanguage: acceptLanguage,
		}); err != nil {
			t.Fatalf("user agent: %v", err)
		}
		viewport := []chromedp.EmulateViewportOption{chromedp.EmulateScale(dev.scale)}
		if dev.phone {
			viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(dev.width, dev.height, viewport...)); err != nil {
			t.Fatalf("emulate the screen: %v", err)
		}
		res, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+path))
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		if res.Status != status {
			t.Errorf("%s: status %d, want %d", path, res.Status, status)
		}
		// Give the auto-open script time to try the deep link: the page
		// must stay as it is (a browser without Telegram ignores tg:).
		if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		p, err := chromedp.Run(ctx, chromedp.Evaluate[browserPage](readPage))
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if p.Location != base+path {
			t.Errorf("the page moved to %q", p.Location)
		}
		if p.PageWidth > float64(dev.width) {
			t.Errorf("the page is %.0f px wide on a %d px screen", p.PageWidth, dev.width)
		}
		if p.ButtonW < phoneWidth-100 || p.ButtonH < 48 {
			t.Errorf("the button is %.0fx%.0f px: too small a tap target", p.ButtonW, p.ButtonH)
		}
		return p
	}

	// screenshot saves a full-page PNG and checks it has the phone's width.
	screenshot := func(t *testing.T, name string) {
		t.Helper()
		screenshotOf(t, phone, name)
	}
	screenshotOf = func(t *testing.T, dev device, name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if w, want := img.Bounds().Dx(), int(float64(dev.width)*dev.scale); w != want {
			t.Errorf("screenshot is %d px wide, want %d", w, want)
		}
		path := filepath.Join(outDir, name+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	for _, tc := range []struct {
		name, id, ua, lang, dir, prefix string
	}{
		{"request-ru", idRU, uaAndroid, "ru", "ltr", "tg:resolve?domain=telegrampassport&"},
		{"request-fa", idFA, uaIPhone, "fa", "rtl", "tg://resolve?domain=telegrampassport&"},
		{"request-en", idEN, uaIPhone, "en", "ltr", "tg://resolve?domain=telegrampassport&"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, "/passport/"+tc.id, tc.ua, "de-DE,de;q=0.9", 200)
			href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("open"), "href"))
			if err != nil || !href.Exists {
				t.Fatalf("read the button's href: %v (exists %v)", err, href.Exists)
			}
			if !strings.HasPrefix(href.Value, tc.prefix) {
				t.Errorf("link %.60q does not start with %q", href.Value, tc.prefix)
			}
			var req Request
			for _, r := range testRequests() {
				if r.ID == tc.id {
					req = r
				}
			}
			checkLink(t, href.Value, base, req)
			// The auto-open script tried exactly this link.
			tried := false
			for deadline := time.Now().Add(2 * time.Second); !tried && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				mu.Lock()
				tried = slices.Contains(requested, href.Value)
				mu.Unlock()
			}
			if !tried {
				t.Error("the page did not try to open the deep link by itself")
			}
			if p.Lang != tc.lang || p.Dir != tc.dir {
				t.Errorf("<html lang=%q dir=%q>, want lang=%q dir=%q", p.Lang, p.Dir, tc.lang, tc.dir)
			}
			loc := cat.Language(tc.lang)
			for _, id := range []string{i18n.MsgPageTitle, i18n.MsgPageOpenButton, i18n.MsgPagePasswordTitle, i18n.MsgPageFallback, i18n.MsgPagePrivacy} {
				if want := loc.Text(id, nil); !strings.Contains(p.Text, want) {
					t.Errorf("page text lacks %s %q", id, want)
				}
			}
			if p.Scripts != 1 {
				t.Errorf("page has %d scripts, want its one inline script", p.Scripts)
			}
			// The expiry, in Tokyo's time; no QR code on a phone, but the
			// note on Telegram Web.
			l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](readLayout))
			if err != nil {
				t.Fatal(err)
			}
			if want := loc.Plural(i18n.MsgPageExpiresMinutes, 30, map[string]any{"Time": l.Time}); l.Time == "" || l.Expires != want {
				t.Errorf("expiry line %q, want %q", l.Expires, want)
			}
			if tc.lang == "en" && strings.Join(strings.Fields(strings.ReplaceAll(l.Time, "\u202f", " ")), " ") != "9:30 PM" {
				t.Errorf("expiry time %q, want 9:30 PM (12:30 UTC in Tokyo)", l.Time)
			}
			if l.QR.W != 0 || l.WebNote.H == 0 {
				t.Errorf("on a phone the QR code is %.0f px wide (want hidden), the Telegram Web note %.0f px high", l.QR.W, l.WebNote.H)
			}
			if l.Brand != "Acme Bank" || l.LogoW == 0 {
				t.Errorf("brand %q, logo loaded %v", l.Brand, l.LogoW > 0)
			}
			screenshot(t, tc.name)
		})
	}

	// On a desktop computer: the page waits for the button or the QR code
	// (no jump to tg:, which shows nothing without the app), in a centered
	// two-column layout, the QR code beside the card (on the left in
	// right-to-left languages), reading as the page's own URL.
	for _, tc := range []struct {
		name, id, lang, dir string
	}{
		{"request-en-desktop", idEN, "en", "ltr"},
		{"request-ar-desktop", idAR, "ar", "rtl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			mark := len(requested)
			mu.Unlock()
			p := loadOn(t, desktop, "/passport/"+tc.id, uaDesktop, "en-US,en", 200)
			if p.Lang != tc.lang || p.Dir != tc.dir {
				t.Errorf("<html lang=%q dir=%q>, want lang=%q dir=%q", p.Lang, p.Dir, tc.lang, tc.dir)
			}
			href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("open"), "href"))
			if err != nil || !strings.HasPrefix(href.Value, "tg://resolve?domain=telegrampassport&") {
				t.Fatalf("button link %.60q (%v)", href.Value, err)
			}
			mu.Lock()
			jumped := slices.Contains(requested[mark:], href.Value)
			mu.Unlock()
			if jumped {
				t.Error("the page jumped to the deep link on a desktop")
			}
			l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](readLayout))
			if err != nil {
				t.Fatal(err)
			}
			// Centered: as much room on the left as on the right, and
			// wider than a phone.
			if left, right := l.Main.X, l.Viewport-l.Main.X-l.Main.W; l.Main.W < 900 || math.Abs(left-right) > 2 {
				t.Errorf("main is %.0f px wide at x=%.0f in %.0f px: not a centered desktop layout", l.Main.W, l.Main.X, l.Viewport)
			}
			if l.QRCode.W < 180 || l.QRCode.H != l.QRCode.W {
				t.Errorf("the QR code is %.0fx%.0f px: too small to scan", l.QRCode.W, l.QRCode.H)
			}
			if l.QRCode.Y+l.QRCode.H > desktopHeight {
				t.Errorf("the QR code ends at y=%.0f, below the %d px screen", l.QRCode.Y+l.QRCode.H, desktopHeight)
			}
			beside := l.QR.X >= l.Card.X+l.Card.W
			if tc.dir == "rtl" {
				beside = l.QR.X+l.QR.W <= l.Card.X
			}
			if !beside || l.QR.Y > l.Card.Y+10 {
				t.Errorf("QR code at %+v, card at %+v: want it beside the card, at the %s", l.QR, l.Card, map[string]string{"ltr": "right", "rtl": "left"}[tc.dir])
			}
			grid, err := svgModules(l.QRSVG)
			if err != nil {
				t.Fatalf("QR code: %v", err)
			}
			if got, err := decodeQR(grid); err != nil || got != base+"/passport/"+tc.id {
				t.Errorf("the QR code reads %q (%v), want the page's URL", got, err)
			}
			loc := cat.Language(tc.lang)
			for _, id := range []string{i18n.MsgPageOpenButton, i18n.MsgPageQRTitle, i18n.MsgPageQRNote, i18n.MsgPageWebNote} {
				if want := loc.Text(id, nil); !strings.Contains(p.Text, want) {
					t.Errorf("page text lacks %s %q", id, want)
				}
			}
			if want := loc.Plural(i18n.MsgPageExpiresMinutes, 30, map[string]any{"Time": l.Time}); l.Time == "" || strings.Contains(l.Time, "UTC") || l.Expires != want {
				t.Errorf("expiry line %q, want %q in local time", l.Expires, want)
			}
			if l.Brand != "Acme Bank" || l.LogoW == 0 || l.Logo.H < 40 {
				t.Errorf("brand %q, logo loaded %v, %.0f px high", l.Brand, l.LogoW > 0, l.Logo.H)
			}
			screenshotOf(t, desktop, tc.name)
		})
	}

	t.Run("request-en-dark", func(t *testing.T) {
		dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, dark); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
				t.Error(err)
			}
		}()
		load(t, "/passport/"+idEN, uaIPhone, "", 200)
		bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
		if err != nil || bg != "rgb(14, 22, 33)" {
			t.Errorf("dark background %q (%v)", bg, err)
		}
		screenshot(t, "request-en-dark")
	})

	t.Run("expired-de", func(t *testing.T) {
		p := load(t, "/passport/"+idOld, uaIPhone, "de-CH,de,en", 404)
		loc := cat.Language("de")
		if p.Lang != "de" || p.Dir != "ltr" {
			t.Errorf("<html lang=%q dir=%q>", p.Lang, p.Dir)
		}
		for _, id := range []string{i18n.MsgPageExpiredTitle, i18n.MsgPageExpired, i18n.MsgPageBackButton} {
			if want := loc.Text(id, nil); !strings.Contains(p.Text, want) {
				t.Errorf("page text lacks %s %q", id, want)
			}
		}
		if p.BackHref != "https://t.me/acme_kyc_bot" || p.Scripts != 0 {
			t.Errorf("back link %q, %d scripts", p.BackHref, p.Scripts)
		}
		screenshot(t, "expired-de")
	})

	t.Run("callback-ar", func(t *testing.T) {
		path := "/passport/callback?r=" + idAR + "&tg_passport=error&error=PUBLIC_KEY_INVALID"
		p := load(t, path, uaAndroid, "en", 200)
		loc := cat.Language("ar")
		if p.Lang != "ar" || p.Dir != "rtl" {
			t.Errorf("<html lang=%q dir=%q>", p.Lang, p.Dir)
		}
		for _, id := range []string{i18n.MsgPageCallbackErrorTitle, i18n.MsgPageCallbackError, i18n.MsgPageBackButton} {
			if want := loc.Text(id, nil); !strings.Contains(p.Text, want) {
				t.Errorf("page text lacks %s %q", id, want)
			}
		}
		got := backend.recorded()
		if len(got) != 1 || got[0] != (Outcome{RequestID: idAR, Result: ResultError, Error: CodePublicKeyInvalid, At: testNow}) {
			t.Errorf("recorded %+v", got)
		}
		// The command reads "/verify", not "verify/": its slash is drawn on
		// the left of its first letter, right-to-left text around it.
		if side, err := chromedp.Run(ctx, chromedp.Evaluate[string](slashSide)); err != nil || side != "left" {
			t.Errorf("the slash of /verify is on the %q of the word (%v)", side, err)
		}
		screenshot(t, "callback-ar")
	})

	t.Run("callback-success-ru", func(t *testing.T) {
		p := load(t, "/passport/callback?r="+idRU+"&tg_passport=success", uaAndroid, "", 200)
		if want := cat.Language("ru").Text(i18n.MsgPageCallbackSuccess, nil); !strings.Contains(p.Text, want) {
			t.Errorf("page text lacks %q", want)
		}
		screenshot(t, "callback-success-ru")
	})

	// Nothing went anywhere but this server. The auto-open script's tg:
	// navigation is the one allowed exception (a browser without Telegram
	// drops it); data: URLs never leave the browser.
	host := strings.TrimPrefix(base, "http://")
	mu.Lock()
	defer mu.Unlock()
	if len(requested) == 0 {
		t.Fatal("Chromium reported no requests at all")
	}
	for _, raw := range requested {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			t.Errorf("request to an unparsable URL %q", raw)
		case u.Scheme == "tg" || u.Scheme == "data":
		case u.Scheme != "http" || u.Host != host:
			t.Errorf("request to another host: %s", raw)
		}
	}
	t.Logf("%d requests, all to %s or tg:", len(requested), host)
}

// slashSide finds the first "/verify" of the page's text and says on which
// side of its "v" the browser drew the slash: "left", "right" or "none".
const slashSide = `(() => {
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const i = n.data.indexOf("/verify");
		if (i < 0) continue;
		const box = (from) => { const r = document.createRange(); r.setStart(n, from); r.setEnd(n, from + 1); return r.getBoundingClientRect(); };
		return box(i).left < box(i + 1).left ? "left" : "right";
	}
	return "none";
})()`
