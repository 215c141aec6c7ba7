package bot

import (
	"net/http"
	"strings"
	"testing"
)

// With web.ops_listen set, Handler answers /healthz, /readyz and /metrics
// 404 and OpsHandler serves them, before Run and while it runs; without it
// Handler serves them too (and OpsHandler still does, for embedders).
func TestOpsHandler(t *testing.T) {
	const callback = "/passport/callback?r=AAAAAAAAAAAAAAAAAAAAAA&tg_passport=cancel"
	for _, tc := range []struct {
		name      string
		opsListen bool
		running   bool
		handler   map[string]int // path -> status of Handler
		ops       map[string]int // path -> status of OpsHandler
	}{
		{
			name: "ops_listen, before Run", opsListen: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "ops_listen, running", opsListen: true, running: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name:    "no ops_listen, before Run",
			handler: map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404},
		},
		{
			name: "no ops_listen, running", running: true,
			handler: map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var change func(string) string
			if tc.opsListen {
				change = func(y string) string {
					return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", ops_listen: "127.0.0.1:9090"}`, 1)
				}
			}
			b, _ := miniBot(t, change)
			if got := b.Config().Web.OpsListen != ""; got != tc.opsListen {
				t.Fatalf("ops_listen set: %v, want %v", got, tc.opsListen)
			}
			if tc.running {
				b.start(t, newFakeTransport())
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
			if res := get(t, b.OpsHandler(), "/metrics"); !strings.Contains(res.body, "kycbot_updates_in_flight") {
				t.Errorf("/metrics lacks the bot's series:\n%.300s", res.body)
			}
		})
	}
}
