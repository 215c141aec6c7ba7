package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/web"
)

// opsShutdownTimeout bounds the graceful shutdown of the operations server
// (its requests are short: /readyz and /metrics give Redis two seconds).
const opsShutdownTimeout = 5 * time.Second

// serveOps starts the operations server, the bot's OpsHandler on addr
// (web.ops_listen), and returns its address and a function that shuts it
// down gracefully. With addr empty (ops_listen: public) there is none: the
// address is nil and stop does nothing. An address it cannot bind (taken
// by another instance on this machine) fails it with an error saying to
// set web.ops_listen. It serves from the start of Run until it returns, so
// that /healthz and /metrics answer while the instance logs in and drains.
func (r *Runner) serveOps(ctx context.Context, addr string) (_ net.Addr, stop func(), _ error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("runner: web.ops_listen: %w: /healthz, /readyz and /metrics cannot be served on %s; if another instance or program on this machine uses it, set web.ops_listen to a free private port (such as 127.0.0.1:9091, or 127.0.0.1:0 for any free one), or to %q to serve them on web.listen",
			err, addr, config.OpsPublic)
	}
	srv := web.NewHTTPServer(r.kyc.OpsHandler(), slog.NewLogLogger(r.log.Handler(), slog.LevelWarn))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.ErrorContext(ctx, "runner: ops server stopped", slog.String("error", err.Error()))
		}
	}()
	return ln.Addr(), func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			r.log.WarnContext(sctx, "runner: ops server shutdown", slog.String("error", err.Error()))
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
