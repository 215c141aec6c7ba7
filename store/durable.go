package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WaitTimeout bounds how long a write waits for its replicas
// (WithReplicas); it stays below IOTimeout, which bounds the answer.
const WaitTimeout = 300 * time.Millisecond

// durable sends fn's commands in one round trip, on one connection,
// followed by WAIT for the store's replicas (WithReplicas); without
// replicas to wait for it is a plain pipeline. The error is the first
// command's error, or ErrUnavailable when fewer replicas than asked
// acknowledged the writes within WaitTimeout: they may be lost if the
// master fails now, and the caller repeats them.
func (s *Store) durable(ctx context.Context, fn func(p redis.Pipeliner)) error {
	var wait *redis.Cmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fn(p)
		if s.replicas > 0 {
			wait = p.Do(ctx, "wait", s.replicas, WaitTimeout.Milliseconds())
		}
		return nil
	})
	if err != nil || wait == nil {
		return err
	}
	if got, err := wait.Int64(); err != nil || got < int64(s.replicas) {
		return fmt.Errorf("%w: %d of the %d replicas to wait for acknowledged the write within %v (a failover now could lose it)",
			ErrUnavailable, got, s.replicas, WaitTimeout)
	}
	return nil
}

// runDurable runs script as Script.Run does (EVALSHA, EVAL when Redis does
// not have it), and waits for the store's replicas in the same round trip
// (see durable). A script that ran but whose write the replicas did not
// acknowledge returns ErrUnavailable.
func (s *Store) runDurable(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.replicas == 0 {
		return script.Run(ctx, s.rdb, keys, args...)
	}
	var c *redis.Cmd
	err := s.durable(ctx, func(p redis.Pipeliner) { c = script.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
		err = s.durable(ctx, func(p redis.Pipeliner) { c = script.Eval(ctx, p, keys, args...) })
	}
	if err != nil && c.Err() == nil {
		c.SetErr(err)
	}
	return c
}
