package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kycbot/kycbot/web"
)

// Paths of the operations endpoints.
const (
	healthPath  = "/healthz"
	readyPath   = "/readyz"
	metricsPath = "/metrics"
)

// opsShutdownTimeout bounds the graceful shutdown of the operations server
// (its requests are short: /readyz and /metrics give Redis two seconds).
const opsShutdownTimeout = 5 * time.Second

// OpsHandler returns the handler of the operations endpoints alone: GET
// /healthz, GET /readyz and GET /metrics (see Handler); any other path
// gets 404. When web.ops_listen is set, Run serves it there and Handler
// leaves those endpoints out. A program embedding the bot that runs its
// own HTTP servers serves it where only its monitoring reaches it, such as
// on 127.0.0.1:9090 (whatever web.ops_listen says; set it to have Handler
// answer them 404). Before Register has run it answers /healthz with 200,
// /metrics with the metrics and /readyz with 503.
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
// (before Register has run): GET /healthz with 200 and GET /metrics with
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
// OpsHandler alone (web.ops_listen is set; it cannot change with Reload).
func (b *Bot) separateOps() bool { return b.current().cfg.Web.OpsListen != "" }

// isOpsPath reports whether path is one of the operations endpoints.
func isOpsPath(path string) bool {
	return path == healthPath || path == readyPath || path == metricsPath
}

// serveOps starts Run's operations server, OpsHandler on addr
// (web.ops_listen), and returns its address and a function that shuts it
// down gracefully. With addr empty there is none: the address is nil and
// stop does nothing.
func (b *Bot) serveOps(ctx context.Context, addr string) (_ net.Addr, stop func(), _ error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("bot: web.ops_listen: %w", err)
	}
	srv := web.NewHTTPServer(b.OpsHandler(), slog.NewLogLogger(b.log.Handler(), slog.LevelWarn))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.ErrorContext(ctx, "bot: ops server stopped", slog.String("error", err.Error()))
		}
	}()
	return ln.Addr(), func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			b.log.WarnContext(sctx, "bot: ops server shutdown", slog.String("error", err.Error()))
			_ = srv.Close()
		}
		<-done
	}, nil
}

// opsAttr is the log attribute of the operations server's address: none
// (the zero Attr, which handlers drop) when there is no such server.
func opsAttr(a net.Addr) slog.Attr {
	if a == nil {
		return slog.Attr{}
	}
	return slog.String("ops", a.String())
}
