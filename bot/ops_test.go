package bot

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"
)

// With web.ops_listen set, Handler answers /healthz, /readyz and /metrics
// 404 and OpsHandler serves them, before Register and after; without it
// Handler serves them too (and OpsHandler still does, for embedders).
func TestOpsHandler(t *testing.T) {
	const callback = "/passport/callback?r=AAAAAAAAAAAAAAAAAAAAAA&tg_passport=cancel"
	for _, tc := range []struct {
		name       string
		opsListen  bool
		registered bool
		handler    map[string]int // path -> status of Handler
		ops        map[string]int // path -> status of OpsHandler
	}{
		{
			name: "ops_listen, before Register", opsListen: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "ops_listen, registered", opsListen: true, registered: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name:    "no ops_listen, before Register",
			handler: map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404},
		},
		{
			name: "no ops_listen, registered", registered: true,
			handler: map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mr := miniredis.RunT(t)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
			t.Cleanup(func() { _ = rdb.Close() })
			var change func(string) string
			if tc.opsListen {
				change = func(y string) string {
					return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", ops_listen: "127.0.0.1:9090"}`, 1)
				}
			}
			cfg := parseConfig(t, "kycbot-test:", "", "", change)
			if got := cfg.Web.OpsListen != ""; got != tc.opsListen {
				t.Fatalf("ops_listen set: %v, want %v", got, tc.opsListen)
			}
			ctx := context.Background()
			b, err := New(ctx, cfg, WithRedis(rdb), WithPrivateKey(keys.get(t)), WithBotUsername("acme_kyc_bot"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close(ctx) })
			if tc.registered {
				d := tg.NewUpdateDispatcher()
				if err := b.Register(ctx, &d, tg.NewClient(&fakeInvoker{})); err != nil {
					t.Fatal(err)
				}
			}
			for name, h := range map[string]struct {
				h    http.Handler
				want map[string]int
			}{"Handler": {b.Handler(), tc.handler}, "OpsHandler": {b.OpsHandler(), tc.ops}} {
				for path, status := range h.want {
					if res := get(t, h.h, path); res.status != status {
						t.Errorf("%s: GET %s: %d, want %d", name, path, res.status, status)
					}
				}
			}
		})
	}
}

// Run fails at once, naming web.ops_listen, when it cannot listen there.
func TestRunOpsListenTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := parseConfig(t, "kycbot-test:", "", "", func(y string) string {
		return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", ops_listen: "`+taken.Addr().String()+`"}`, 1)
	})
	b, err := New(context.Background(), cfg, WithRedis(rdb), WithPrivateKey(keys.get(t)), WithBotUsername("acme_kyc_bot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Run(ctx); err == nil || !strings.Contains(err.Error(), "bot: web.ops_listen:") {
		t.Errorf("Run with web.ops_listen taken: %v", err)
	}
}
