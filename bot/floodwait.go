package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// floodRetries is how many FLOOD_WAITs of one call the bot waits out
// before the call fails (gotd/contrib's floodwait.Waiter default).
const floodRetries = 5

// floodWaiter is the client middleware that waits out FLOOD_WAIT (and
// FLOOD_PREMIUM_WAIT) in the calling goroutine, then sends the call again.
// A wait longer than max, or more than retries waits for one call, fail
// the call with Telegram's error. onWait runs for every FLOOD_WAIT.
//
// It replaces gotd/contrib's floodwait.Waiter, whose scheduler sends the
// calls one at a time from a single loop: a call answered FILE_MIGRATE_X
// makes gotd send auth.exportAuthorization through the same middlewares
// from inside that call, and the loop, busy sending it, never sends the
// export. The download and every later call of the bot hang
// (gotd/td#1842, gotd/contrib#773).
type floodWaiter struct {
	max     time.Duration
	retries int
	onWait  func(ctx context.Context, d time.Duration)
	// sleep waits d, or fails when ctx ends first (sleepContext; the
	// tests replace it).
	sleep func(ctx context.Context, d time.Duration) error
}

// newFloodWaiter returns a floodWaiter that waits up to max, floodRetries
// times per call, and calls onWait (which may be nil) for every FLOOD_WAIT.
func newFloodWaiter(max time.Duration, onWait func(ctx context.Context, d time.Duration)) floodWaiter {
	return floodWaiter{max: max, retries: floodRetries, onWait: onWait, sleep: sleepContext}
}

// Handle implements telegram.Middleware.
func (w floodWaiter) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		for waits := 0; ; waits++ {
			err := next.Invoke(ctx, input, output)
			d, ok := tgerr.AsFloodWait(err)
			if !ok {
				return err
			}
			// Telegram may answer FLOOD_WAIT_0: wait a second, as TDLib.
			d = max(d, time.Second)
			if w.onWait != nil {
				w.onWait(ctx, d)
			}
			if d > w.max {
				return fmt.Errorf("telegram asked to wait %s, longer than %s: %w", d, w.max, err)
			}
			if waits >= w.retries {
				return fmt.Errorf("telegram asked to wait again after %d waits: %w", waits, err)
			}
			if err := w.sleep(ctx, d); err != nil {
				return fmt.Errorf("wait out FLOOD_WAIT: %w", err)
			}
		}
	}
}

// sleepContext waits d, or returns ctx's error when ctx ends first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
