// Package wait holds the one pause the bot's loops share: Sleep, which
// waits a while unless the context ends first (the workers' retries, the
// runner's leases, the hook's enqueue retries, the webhook sender's
// backoff).
package wait

import (
	"context"
	"time"
)

// Sleep waits d, or returns ctx's error as soon as ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
