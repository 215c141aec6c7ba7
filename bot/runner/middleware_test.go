package runner

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
)

// invokeFunc is a tg.Invoker.
type invokeFunc func(ctx context.Context, input bin.Encoder, output bin.Decoder) error

func (f invokeFunc) Invoke(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
	return f(ctx, input, output)
}

// turns is a limiter whose turns the test hands out, one at a time, to
// the callers in the order they came.
type turns struct {
	c       chan struct{}
	mu      sync.Mutex
	waiting int
}

func (l *turns) Wait(ctx context.Context) error {
	l.mu.Lock()
	l.waiting++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waiting--
		l.mu.Unlock()
	}()
	select {
	case <-l.c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// until waits for cond (synchronization only: no time is asserted).
func until(t *testing.T, mu *sync.Mutex, cond func() bool) {
	t.Helper()
	for range 10000 {
		mu.Lock()
		ok := cond()
		mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the calls never got there")
}

// A burst of admin notices does not keep a user's answer waiting: asked
// for while twenty notices wait for the send budget, the answer gets the
// next turn but the one a notice already waits for; the notices all go
// out after it.
func TestPriorityLimit(t *testing.T) {
	for _, tt := range []struct {
		name     string
		priority bool
		maxIndex int // of the user's answer among the calls sent
		minIndex int
	}{
		{name: "notices behind", priority: true, maxIndex: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const notices = 20
			lim := &turns{c: make(chan struct{})}
			var (
				mu    sync.Mutex
				order []string
			)
			next := invokeFunc(func(ctx context.Context, _ bin.Encoder, _ bin.Decoder) error {
				name := "user"
				if handlers.IsNotice(ctx) {
					name = "notice"
				}
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return nil
			})
			var p *priorityLimit
			call := func(ctx context.Context) error {
				if err := lim.Wait(ctx); err != nil {
					return err
				}
				return next.Invoke(ctx, &tg.MessagesSendMessageRequest{}, nil)
			}
			if tt.priority {
				p = newPriority(lim)
				h := p.Handle(next)
				call = func(ctx context.Context) error { return h(ctx, &tg.MessagesSendMessageRequest{}, nil) }
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			for i := range notices {
				wg.Go(func() {
					if err := call(handlers.ContextWithNotice(ctx)); err != nil {
						t.Error(err)
					}
				})
				if !tt.priority { // one after the other, in the limiter
					until(t, &lim.mu, func() bool { return lim.waiting == i+1 })
				}
			}
			if tt.priority { // one notice waits in the limiter, the others for it
				until(t, &p.mu, func() bool { return p.notices == notices })
				until(t, &lim.mu, func() bool { return lim.waiting == 1 })
			}
			user := make(chan error, 1)
			lim.mu.Lock()
			before := lim.waiting
			lim.mu.Unlock()
			go func() { user <- call(ctx) }()
			until(t, &lim.mu, func() bool { return lim.waiting == before+1 })
			for range notices + 1 {
				lim.c <- struct{}{}
			}
			if err := <-user; err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if len(order) != notices+1 {
				t.Fatalf("%d calls sent, want %d", len(order), notices+1)
			}
			if i := slices.Index(order, "user"); i < tt.minIndex || i > tt.maxIndex {
				t.Errorf("the user's answer went out after %d notices, want %d to %d: %v", i, tt.minIndex, tt.maxIndex, order)
			}
		})
	}
}
