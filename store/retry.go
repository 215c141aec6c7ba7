package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// FailoverWait bounds how long Open's clients in sentinel and cluster
// modes keep trying a command that was never run (see retryNotRun):
// while a failover promotes a replica, the old master refuses
// connections or answers READONLY, a cluster answers CLUSTERDOWN or
// TRYAGAIN. Sentinel's failover takes down-after-milliseconds plus the
// election (30 s and a few seconds with Redis's defaults); the bot keeps
// the work and tries again for longer than that (bot.DefaultRetryFor), so
// this only spares the common short failover a round of "try later".
const FailoverWait = 10 * time.Second

// Backoff between the tries of retryNotRun: from retryFirstPause,
// doubling, at most retryMaxPause.
const (
	retryFirstPause = 50 * time.Millisecond
	retryMaxPause   = time.Second
)

// retryNotRun is a go-redis hook that runs a command (or a pipeline)
// again, with backoff, for up to wait, when its error proves it never ran
// (notRun): so retrying never runs a write twice, unlike go-redis's own
// retries, which also repeat commands whose answer was lost. The caller's
// context still ends it.
type retryNotRun struct {
	wait time.Duration
	now  func() time.Time
}

var _ redis.Hook = retryNotRun{}

func (retryNotRun) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h retryNotRun) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil {
			return nil // the common case: nothing to allocate or time
		}
		return h.retry(ctx, []redis.Cmder{cmd}, err, func() error { return next(ctx, cmd) })
	}
}

func (h retryNotRun) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err == nil {
			return nil
		}
		return h.retry(ctx, cmds, err, func() error { return next(ctx, cmds) })
	}
}

// retry calls run again after err, the error of cmds' first run, until
// it succeeds or fails otherwise than by notRun errors only, ctx ends or
// h.wait has passed.
func (h retryNotRun) retry(ctx context.Context, cmds []redis.Cmder, err error, run func() error) error {
	until := h.now().Add(h.wait)
	pause := retryFirstPause
	for {
		if err == nil || !allNotRun(err, cmds) || h.now().Add(pause).After(until) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, retryMaxPause)
		for _, c := range cmds {
			c.SetErr(nil)
		}
		err = run()
	}
}

// allNotRun reports whether err and every failed command of cmds failed
// without running. In a pipeline to a replica (READONLY), reads succeed
// and writes are refused: running the reads again is harmless. A
// transaction that Redis discarded (EXECABORT) because a command was
// refused did not run either.
func allNotRun(err error, cmds []redis.Cmder) bool {
	refused := false
	for _, e := range append([]error{err}, cmdErrs(cmds)...) {
		switch {
		case e == nil, errors.Is(e, redis.Nil), redis.IsExecAbortError(e):
		case notRun(e):
			refused = true
		default:
			return false
		}
	}
	return refused
}

func cmdErrs(cmds []redis.Cmder) []error {
	errs := make([]error, len(cmds))
	for i, c := range cmds {
		errs[i] = c.Err()
	}
	return errs
}
