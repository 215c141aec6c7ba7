package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/sandbox"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// The running bot (Run, on the local Telegram) is ready, serves its
// metrics (Telegram errors counted by the middleware among them) and
// reloads its config; a refused reload leaves it running as it was.
func TestRunReadyMetricsReload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local Telegram")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	base := "http://" + env.Info().WebAddr.String()
	b := env.Bot()

	if status, body := httpGet(t, base+"/readyz"); status != http.StatusOK || body != "ok" {
		t.Errorf("/readyz: %d %q", status, body)
	}
	if status, _ := httpGet(t, base+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d", status)
	}

	// A new admin: the commands are registered with Telegram again.
	next := *env.Config
	next.Admins = []int64{987654321}
	if err := b.Reload(ctx, &next); err != nil {
		t.Fatal(err)
	}
	if b.Config() != &next {
		t.Error("the reloaded config is not in force")
	}
	refused := next
	refused.Web.Listen = "127.0.0.1:1"
	if err := b.Reload(ctx, &refused); !errors.Is(err, bot.ErrReloadRefused) || !strings.Contains(err.Error(), "web.listen") {
		t.Errorf("Reload of web.listen: %v", err)
	}

	status, body := httpGet(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	// The first login asks for the status of a session Telegram does not
	// know yet (AUTH_KEY_UNREGISTERED): the middleware counted it.
	for _, want := range []string{"go_goroutines", "process_", "kycbot_updates_in_flight", "kycbot_verdict_seconds_count",
		`kycbot_telegram_rpc_errors_total{code="401",method="users.getUsers",type="AUTH_KEY_UNREGISTERED"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}

	if err := env.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(ctx); !errors.Is(err, bot.ErrNotReceiving) {
		t.Errorf("Ready after stopping: %v", err)
	}
}

// With web.ops_listen set, the running bot serves /healthz, /readyz and
// /metrics on that address only (404 on web.listen), and the request page
// on web.listen as before.
func TestRunOpsListen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the local Telegram")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const publicURL = `public_url: "{{PUBLIC_URL}}"`
	yml := demo.DefaultConfig()
	if !strings.Contains(yml, publicURL) {
		t.Fatalf("the demo config has no %s", publicURL)
	}
	// Port 0 on both: two free ports, not the same address.
	yml = strings.Replace(yml, publicURL, publicURL+"\n  ops_listen: 127.0.0.1:0", 1)
	env, err := demo.Start(ctx, demo.Options{ConfigYAML: yml})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	info := env.Info()
	if info.OpsAddr == nil || info.OpsAddr.String() == info.WebAddr.String() {
		t.Fatalf("Info: OpsAddr %v, WebAddr %v", info.OpsAddr, info.WebAddr)
	}
	public, ops := "http://"+info.WebAddr.String(), "http://"+info.OpsAddr.String()

	for path, want := range map[string]string{"/readyz": "ok", "/healthz": "ok", "/metrics": "kycbot_updates_in_flight"} {
		if status, body := httpGet(t, ops+path); status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("ops %s: %d, want 200 with %q:\n%.300s", path, status, want, body)
		}
		if status, _ := httpGet(t, public+path); status != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404", path, status)
		}
	}

	// The request page is on the public address, not on the ops one.
	u, err := env.NewUser(ctx, sandbox.UserSpec{Phone: fmt.Sprintf("4916%09d", time.Now().UnixNano()%1e9), LangCode: "en"}, sandbox.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Start(ctx, env.Account.Username, "ops-test"); err != nil {
		t.Fatal(err)
	}
	var button sandbox.Button
	if _, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool {
		for _, row := range m.Buttons {
			for _, b := range row {
				if b.URL != "" {
					button = b
					return true
				}
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(button.URL, public+"/passport/") {
		t.Fatalf("the button opens %s, want the request page on %s", button.URL, public)
	}
	if status, body := httpGet(t, button.URL); status != http.StatusOK || !strings.Contains(body, "telegrampassport") {
		t.Errorf("request page: %d\n%.300s", status, body)
	}
	if _, err := u.OpenURL(ctx, button.URL); err != nil {
		t.Errorf("the request page has no Passport link: %v", err)
	}
	if status, _ := httpGet(t, ops+strings.TrimPrefix(button.URL, public)); status != http.StatusNotFound {
		t.Errorf("request page on the ops address: %d, want 404", status)
	}

	if err := env.StopBot(); err != nil {
		t.Fatal(err)
	}
	// The ops server stopped with Run.
	if res, err := http.Get(ops + "/healthz"); err == nil {
		res.Body.Close()
		t.Error("the ops server still answers after Run returned")
	}
}
