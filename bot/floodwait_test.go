package bot

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// scriptedInvoker answers the calls with errs in turn, repeating the last.
type scriptedInvoker struct {
	errs  []error
	calls int
}

func (s *scriptedInvoker) Invoke(context.Context, bin.Encoder, bin.Decoder) error {
	err := s.errs[min(s.calls, len(s.errs)-1)]
	s.calls++
	return err
}

// TestFloodWaiter: FLOOD_WAIT is waited out and the call sent again, up to
// the longest wait and the number of waits; other errors pass; the wait
// ends with the call's context.
func TestFloodWaiter(t *testing.T) {
	peerInvalid := tgerr.New(400, "PEER_ID_INVALID")
	tests := []struct {
		name string
		errs []error
		// ctxTimeout, when set, ends the call's context that soon; the
		// real sleep is used.
		ctxTimeout time.Duration
		wantErr    func(error) bool
		wantCalls  int
		wantWaits  []time.Duration // what the callback is told
		wantSleeps []time.Duration
	}{
		{
			name: "success", errs: []error{nil},
			wantErr: func(err error) bool { return err == nil }, wantCalls: 1,
		},
		{
			name: "waits out a short FLOOD_WAIT and retries", errs: []error{tgerr.New(420, "FLOOD_WAIT_2"), tgerr.New(420, "FLOOD_WAIT_3"), nil},
			wantErr: func(err error) bool { return err == nil }, wantCalls: 3,
			wantWaits: []time.Duration{2 * time.Second, 3 * time.Second}, wantSleeps: []time.Duration{2 * time.Second, 3 * time.Second},
		},
		{
			name: "FLOOD_WAIT_0 waits a second", errs: []error{tgerr.New(420, "FLOOD_WAIT_0"), nil},
			wantErr: func(err error) bool { return err == nil }, wantCalls: 2,
			wantWaits: []time.Duration{time.Second}, wantSleeps: []time.Duration{time.Second},
		},
		{
			name: "FLOOD_PREMIUM_WAIT", errs: []error{tgerr.New(420, "FLOOD_PREMIUM_WAIT_4"), nil},
			wantErr: func(err error) bool { return err == nil }, wantCalls: 2,
			wantWaits: []time.Duration{4 * time.Second}, wantSleeps: []time.Duration{4 * time.Second},
		},
		{
			name: "the max is waited out", errs: []error{tgerr.New(420, "FLOOD_WAIT_300"), nil},
			wantErr: func(err error) bool { return err == nil }, wantCalls: 2,
			wantWaits: []time.Duration{MaxFloodWait}, wantSleeps: []time.Duration{MaxFloodWait},
		},
		{
			name: "gives up beyond the max", errs: []error{tgerr.New(420, "FLOOD_WAIT_301"), nil},
			wantErr:   func(err error) bool { return tgerr.Is(err, tgerr.ErrFloodWait) },
			wantCalls: 1, wantWaits: []time.Duration{301 * time.Second},
		},
		{
			name: "gives up after the retries", errs: []error{tgerr.New(420, "FLOOD_WAIT_1")},
			wantErr:   func(err error) bool { return tgerr.Is(err, tgerr.ErrFloodWait) },
			wantCalls: floodRetries + 1,
			wantWaits: slices.Repeat([]time.Duration{time.Second}, floodRetries+1), wantSleeps: slices.Repeat([]time.Duration{time.Second}, floodRetries),
		},
		{
			name: "passes a Telegram error", errs: []error{peerInvalid, nil},
			wantErr: func(err error) bool { return err == peerInvalid }, wantCalls: 1,
		},
		{
			name: "passes a network error", errs: []error{io.ErrUnexpectedEOF, nil},
			wantErr: func(err error) bool { return err == io.ErrUnexpectedEOF }, wantCalls: 1,
		},
		{
			name: "the wait ends with the context", errs: []error{tgerr.New(420, "FLOOD_WAIT_60"), nil},
			ctxTimeout: 50 * time.Millisecond,
			wantErr:    func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			wantCalls:  1, wantWaits: []time.Duration{time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var waits, sleeps []time.Duration
			w := newFloodWaiter(MaxFloodWait, func(_ context.Context, d time.Duration) { waits = append(waits, d) })
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			} else {
				w.sleep = func(ctx context.Context, d time.Duration) error {
					sleeps = append(sleeps, d)
					return ctx.Err()
				}
			}
			next := &scriptedInvoker{errs: tt.errs}
			start := time.Now()
			err := w.Handle(next)(ctx, &tg.HelpGetConfigRequest{}, &tg.Config{})
			if !tt.wantErr(err) {
				t.Errorf("error %v", err)
			}
			if next.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", next.calls, tt.wantCalls)
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("the callback was told %v, want %v", waits, tt.wantWaits)
			}
			if !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("slept %v, want %v", sleeps, tt.wantSleeps)
			}
			if tt.ctxTimeout > 0 && time.Since(start) > 10*time.Second {
				t.Errorf("the call returned %s after its context ended", time.Since(start))
			}
		})
	}
}
