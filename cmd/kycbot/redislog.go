package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
)

// redisLog carries go-redis's own log lines (a Sentinel switching masters,
// a cluster node failing) into the logger of 'kycbot run', so that they
// come in its format (text or JSON) instead of as bare lines on stderr.
// main installs one with redis.SetLogger, go-redis's logger being
// process-wide; 'kycbot run' points it at its logger (env.redisLog).
type redisLog struct {
	to atomic.Pointer[slog.Logger]
}

// Printf implements go-redis's internal.Logging. The lines name
// addresses and states, never keys or values.
func (r *redisLog) Printf(ctx context.Context, format string, v ...any) {
	l := r.to.Load()
	if l == nil {
		l = slog.Default()
	}
	l.WarnContext(ctx, "redis: "+strings.TrimSpace(fmt.Sprintf(format, v...)), slog.String("component", "go-redis"))
}
