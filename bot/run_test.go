package bot_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/demo"
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
