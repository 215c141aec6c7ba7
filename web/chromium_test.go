package web

import (
	"bytes"
	"context"
	"image/png"
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
	outDir := os.Getenv("KYCBOT_TEST_OUT")
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
	srv, err := New(backend, cat, testOptions(t, base))
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

	// load emulates a phone with the given User-Agent and Accept-Language,
	// loads path, checks the status and reads the page.
	load := func(t *testing.T, path, ua, acceptLanguage string, status int64) browserPage {
		t.Helper()
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: ua, AcceptLanguage: acceptLanguage,
		}); err != nil {
			t.Fatalf("user agent: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight,
			chromedp.EmulateScale(phoneScale), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
			t.Fatalf("emulate a phone: %v", err)
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
		if p.PageWidth > phoneWidth {
			t.Errorf("the page is %.0f px wide on a %d px phone", p.PageWidth, phoneWidth)
		}
		if p.ButtonW < phoneWidth-100 || p.ButtonH < 48 {
			t.Errorf("the button is %.0fx%.0f px: too small a tap target", p.ButtonW, p.ButtonH)
		}
		return p
	}

	// screenshot saves a full-page PNG and checks it has the phone's width.
	screenshot := func(t *testing.T, name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if w := img.Bounds().Dx(); w != phoneWidth*phoneScale {
			t.Errorf("screenshot is %d px wide, want %d", w, phoneWidth*phoneScale)
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
			screenshot(t, tc.name)
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
