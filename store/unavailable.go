package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// markUnavailable makes *err wrap ErrUnavailable when it says that Redis
// could not be reached. Every exported method that talks to Redis defers
// it, so that callers can tell "Redis is down, retry later" from a
// refusal with errors.Is.
func markUnavailable(err *error) {
	if *err != nil && !errors.Is(*err, ErrUnavailable) && unreachable(*err) {
		*err = fmt.Errorf("%w: %w", ErrUnavailable, *err)
	}
}

// unreachable reports whether err comes from the connection to Redis
// rather than from Redis's answer: a refused, reset or timed out
// connection, the connection pool's timeout, or a server that cannot
// serve now (loading its data, a replica that lost its master or was a
// master until a failover, a cluster without all its slots or moving
// one, too few replicas for min-replicas-to-write). The caller's own
// context ending is not counted: it is reported as such.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // refused, unreachable host, i/o timeout, ...
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, ErrNotMaster):
		return true
	}
	return refusedByServer(err)
}

// refusedByServer reports whether Redis refused a command without running
// it because it cannot serve it now: LOADING, MASTERDOWN, CLUSTERDOWN,
// READONLY (a replica, such as a master a failover demoted), TRYAGAIN (a
// slot being moved) or NOREPLICAS.
func refusedByServer(err error) bool {
	return redis.IsLoadingError(err) || redis.IsMasterDownError(err) || redis.IsClusterDownError(err) ||
		redis.IsReadOnlyError(err) || redis.IsTryAgainError(err) || redis.IsNoReplicasError(err)
}

// notRun reports whether err proves that the command was never run: the
// connection could not be made (dial) or reached a server that is not the
// master (ErrNotMaster), no connection of the pool came free, or Redis
// refused it (refusedByServer). Running it again cannot
// run it twice.
func notRun(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, ErrNotMaster) || refusedByServer(err)
}
