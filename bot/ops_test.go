package bot

import (
	"cmp"
	"net/http"
	"strings"
	"testing"
)

// Unless web.ops_listen is public (by default, or set to an address),
// Handler answers /healthz, /readyz and /metrics 404 and OpsHandler serves
// them, before Run and while it runs; with ops_listen public Handler
// serves them too (and OpsHandler still does, for embedders).
func TestOpsHandler(t *testing.T) {
	const callback = "/passport/callback?r=AAAAAAAAAAAAAAAAAAAAAA&tg_passport=cancel"
	for _, tc := range []struct {
		name      string
		opsListen string // "": not written
		running   bool
		handler   map[string]int // path -> status of Handler
		ops       map[string]int // path -> status of OpsHandler
	}{
		{
			name:    "default, before Run",
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "default, running", running: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "ops_listen, before Run", opsListen: "127.0.0.1:9091",
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "ops_listen, running", opsListen: "127.0.0.1:9091", running: true,
			handler: map[string]int{"/healthz": 404, "/readyz": 404, "/metrics": 404, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404, "/": 404},
		},
		{
			name: "ops_listen public, before Run", opsListen: "public",
			handler: map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 503},
			ops:     map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, callback: 404},
		},
		{
			name: "ops_listen public, running", opsListen: "public", running: true,
			handler: map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 200},
			ops:     map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, callback: 404},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var change func(string) string
			if tc.opsListen != "" {
				change = func(y string) string {
					return strings.Replace(y, `listen: "127.0.0.1:0"}`, `listen: "127.0.0.1:0", ops_listen: "`+tc.opsListen+`"}`, 1)
				}
			}
			b, _ := miniBot(t, change)
			if got, want := b.Config().Web.OpsListen, cmp.Or(tc.opsListen, "127.0.0.1:9090"); got != want {
				t.Fatalf("ops_listen = %q, want %q", got, want)
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
