package store

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRetryNotRun: Open's failover retries repeat only what provably
// never ran, within their time, and stop with the caller's context.
func TestRetryNotRun(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	readOnly := redis.NewStatusCmd(context.Background())
	readOnly.SetErr(redisError("READONLY You can't write against a read only replica."))
	for _, tc := range []struct {
		name  string
		errs  []error // what the tries return, in turn; then success
		calls int     // the tries; 0: at least two (how many fit in the wait depends on the machine's load)
		fails bool
	}{
		{"refused, then served", []error{refused, refused}, 3, false},
		{"read only, then served", []error{readOnly.Err()}, 2, false},
		{"loading", []error{redisError("LOADING Redis is loading the dataset in memory")}, 2, false},
		{"the answer was lost: may have run", []error{io.EOF}, 1, true},
		{"reset mid-command", []error{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, 1, true},
		{"a refusal of the command itself", []error{redisError("ERR wrong number of arguments")}, 1, true},
		{"refused for longer than the wait", []error{refused, refused, refused, refused, refused, refused}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			h := retryNotRun{wait: 160 * time.Millisecond, now: time.Now}
			cmd := redis.NewStatusCmd(context.Background())
			err := h.ProcessHook(func(context.Context, redis.Cmder) error {
				calls++
				if calls <= len(tc.errs) {
					cmd.SetErr(tc.errs[calls-1])
					return tc.errs[calls-1]
				}
				if cmd.Err() != nil {
					t.Errorf("try %d starts with the error of the last one: %v", calls, cmd.Err())
				}
				return nil
			})(context.Background(), cmd)
			if tc.calls == 0 && calls >= 2 && calls < len(tc.errs) {
				calls = tc.calls // tried again, then gave up before the errors ran out
			}
			if calls != tc.calls || (err != nil) != tc.fails {
				t.Errorf("%d tries, error %v; want %d tries, failing %t", calls, err, tc.calls, tc.fails)
			}
		})
	}
	t.Run("the caller's context ends the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		h := retryNotRun{wait: time.Hour, now: time.Now}
		err := h.ProcessPipelineHook(func(context.Context, []redis.Cmder) error {
			calls++
			cancel()
			return refused
		})(ctx, nil)
		if calls != 1 || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%d tries, error %v; want 1 try and the refusal", calls, err)
		}
	})
}

// redisError is an error as Redis answers it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}
