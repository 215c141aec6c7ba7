package bot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// web.brand reaches the pages: the business's name heads them and names
// their title, and the logo is served by the bot itself.
func TestBrandOnPages(t *testing.T) {
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>`)
	file := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(file, logo, 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := miniBot(t, func(y string) string {
		return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", brand: {name: "Acme Bank", logo_file: "`+file+`"}}`, 1)
	})
	b.start(t, newFakeTransport())
	res := get(t, b.Handler(), "/passport/callback?r=AAAAAAAAAAAAAAAAAAAAAA&tg_passport=cancel")
	if res.status != 200 || !strings.Contains(res.body, `<span>Acme Bank</span></header>`) || !strings.Contains(res.body, " · Acme Bank</title>") {
		t.Errorf("callback page: status %d, no brand:\n%s", res.status, res.body)
	}
	if !strings.Contains(res.body, `<img id="logo" src="`+b.Config().Web.PublicURL+`/passport/logo?v=`) {
		t.Errorf("callback page without the logo:\n%s", res.body)
	}
	if res := get(t, b.Handler(), "/passport/logo"); res.status != 200 || res.body != string(logo) {
		t.Errorf("logo: status %d, body %q", res.status, res.body)
	}
}

// web.brand reloads: the pages show the new name at once.
func TestBrandReloads(t *testing.T) {
	b, _ := miniBot(t, nil)
	b.start(t, newFakeTransport())
	const callback = "/passport/callback?r=AAAAAAAAAAAAAAAAAAAAAA&tg_passport=cancel"
	if res := get(t, b.Handler(), callback); strings.Contains(res.body, `class="brand"`) {
		t.Fatalf("a brand before the reload:\n%s", res.body)
	}
	next := parseConfig(t, "kycbot-test:", "", "", func(y string) string {
		return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", brand: {name: "Acme Bank"}}`, 1)
	})
	if err := b.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	if res := get(t, b.Handler(), callback); !strings.Contains(res.body, `<span>Acme Bank</span></header>`) {
		t.Errorf("no brand after the reload:\n%s", res.body)
	}
}
