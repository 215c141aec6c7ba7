package bot

import (
	"net/http"
)

// Handler returns the web server (request page, Passport callback,
// /healthz, /readyz and /metrics): mount it at the root of the server
// web.public_url reaches. Before Run has started it answers /healthz with
// 200, /metrics with the metrics and everything else with 503. Unless
// web.ops_listen is public it leaves /healthz, /readyz and /metrics out,
// answering them 404: OpsHandler serves them.
func (b *Bot) Handler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w := b.wiring(); w != nil {
			w.web.Handler().ServeHTTP(rw, r)
			return
		}
		if b.separateOps() && isOpsPath(r.URL.Path) {
			http.NotFound(rw, r)
			return
		}
		if !b.serveStarting(rw, r) {
			rw.Header().Set("Retry-After", "10") // scan links, among others, work once Run has started
			http.Error(rw, "starting", http.StatusServiceUnavailable)
		}
	})
}

// Paths of the operations endpoints.
const (
	healthPath  = "/healthz"
	readyPath   = "/readyz"
	metricsPath = "/metrics"
)

// OpsHandler returns the handler of the operations endpoints alone: GET
// /healthz, GET /readyz and GET /metrics (see Handler); any other path
// gets 404. The standalone bot serves it on web.ops_listen (default
// 127.0.0.1:9090) and Handler leaves those endpoints out, unless
// ops_listen is public. A program embedding the bot that runs its own HTTP
// servers serves it where only its monitoring reaches it, such as on
// 127.0.0.1:9090 (whatever web.ops_listen says; with ops_listen public,
// Handler serves them too). Before Run has started it answers
// /healthz with 200, /metrics with the metrics and /readyz with 503.
func (b *Bot) OpsHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w := b.wiring(); w != nil {
			w.web.OpsHandler().ServeHTTP(rw, r)
			return
		}
		if !b.serveStarting(rw, r) {
			if r.Method == http.MethodGet && r.URL.Path == readyPath {
				http.Error(rw, "starting", http.StatusServiceUnavailable)
				return
			}
			http.NotFound(rw, r)
		}
	})
}

// serveStarting answers the operations endpoints that need no wiring
// (before Run has started): GET /healthz with 200 and GET /metrics with
// the metrics. It reports whether it answered.
func (b *Bot) serveStarting(rw http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch r.URL.Path {
	case healthPath:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = rw.Write([]byte("ok"))
		return true
	case metricsPath:
		b.metricsHTTP.ServeHTTP(rw, r)
		return true
	}
	return false
}

// separateOps reports whether the operations endpoints are served by
// OpsHandler alone (web.ops_listen is not public; it cannot change with
// Reload).
func (b *Bot) separateOps() bool { return b.current().cfg.Web.SeparateOps() }

// isOpsPath reports whether path is one of the operations endpoints.
func isOpsPath(path string) bool {
	return path == healthPath || path == readyPath || path == metricsPath
}
