package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/kycbot/kycbot/handlers"
)

// workers runs update handlers off the updates manager's loop (which
// handles updates one at a time), at most n at once, and lets shutdown
// wait for them. Their context is the workers' own: it outlives the
// update that started the work and ends only when abort is called, so a
// submission being processed is finished rather than cut in half.
//
// Each handler gets a logger of its own in its context
// (handlers.ContextWithLogger) with a random "update_id" and the kind of
// handler, so that every record of one update's processing can be told
// apart from the others running at the same time. The update ID is in the
// context too (handlers.ContextWithUpdateID): the passport handler holds
// its dedupe mark in that name, so that the retries of one update are not
// taken for duplicates of it.
type workers struct {
	sem chan struct{}
	// running counts the handlers running; idle is closed whenever it
	// drops to zero. (A sync.WaitGroup cannot be used: updates keep
	// arriving, and Add, while Wait waits during a shutdown.)
	mu       sync.Mutex
	running  int
	idle     chan struct{}
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	inFlight func(delta int) // the handlers running; may be nil
	rand     io.Reader       // of the update IDs (crypto/rand)
}

func newWorkers(n int, log *slog.Logger, inFlight func(delta int)) *workers {
	ctx, cancel := context.WithCancel(context.Background())
	return &workers{sem: make(chan struct{}, n), log: log, ctx: ctx, cancel: cancel, inFlight: inFlight, rand: rand.Reader}
}

// updateIDBytes is the size of an update ID (hex-encoded in the logs).
const updateIDBytes = 6

// newID returns a fresh update ID: 12 random hex digits.
func (w *workers) newID() string {
	var b [updateIDBytes]byte
	if _, err := io.ReadFull(w.rand, b[:]); err != nil {
		return "000000000000"
	}
	return hex.EncodeToString(b[:])
}

func (w *workers) add(delta int) {
	if w.inFlight != nil {
		w.inFlight(delta)
	}
}

// do runs f in a new goroutine once a slot is free. It blocks while every
// slot is taken (back pressure on the updates manager) and gives up when
// ctx ends first.
func (w *workers) do(ctx context.Context, what string, f func(context.Context) error) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("bot: %s not started: %w", what, ctx.Err())
	case <-w.ctx.Done():
		return fmt.Errorf("bot: %s not started: shutting down: %w", what, w.ctx.Err())
	}
	w.begin()
	id := w.newID()
	log := w.log.With(slog.String("update_id", id), slog.String("handler", what))
	go func() {
		defer w.end()
		defer func() { <-w.sem }()
		w.add(1)
		defer w.add(-1)
		ctx := handlers.ContextWithUpdateID(handlers.ContextWithLogger(w.ctx, log), id)
		if err := f(ctx); err != nil {
			log.ErrorContext(ctx, "bot: update handler failed", slog.String("error", err.Error()))
		}
	}()
	return nil
}

func (w *workers) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running == 0 {
		w.idle = make(chan struct{})
	}
	w.running++
}

func (w *workers) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running--
	if w.running == 0 {
		close(w.idle)
	}
}

// untilIdle returns a channel closed once no handler runs.
func (w *workers) untilIdle() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return w.idle
}

// wait waits until no handler runs (handlers started meanwhile
// included); when ctx ends first it aborts them (their context is
// cancelled) and waits for them to return.
func (w *workers) wait(ctx context.Context) error {
	for {
		select {
		case <-w.untilIdle():
			w.mu.Lock()
			idle := w.running == 0
			w.mu.Unlock()
			if idle {
				return nil
			}
		case <-ctx.Done():
			w.cancel()
			for {
				<-w.untilIdle()
				w.mu.Lock()
				idle := w.running == 0
				w.mu.Unlock()
				if idle {
					return fmt.Errorf("bot: work in progress aborted: %w", ctx.Err())
				}
			}
		}
	}
}

// retry calls f until it succeeds, fails for good (an error that does not
// wrap handlers.ErrRetryLater, returned as it is), the total time is used
// up or ctx ends; the pause starts at first and doubles up to a minute.
func retry(ctx context.Context, log *slog.Logger, total, first time.Duration, f func(context.Context) error) error {
	start := time.Now()
	pause := first
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil || !errors.Is(err, handlers.ErrRetryLater) {
			return err
		}
		if time.Since(start)+pause > total {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		log.WarnContext(ctx, "bot: will retry", slog.Int("attempt", attempt), slog.Duration("pause", pause), slog.String("error", err.Error()))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up after %d attempts: %w (last error: %w)", attempt, ctx.Err(), err)
		case <-t.C:
		}
		pause = min(pause*2, time.Minute)
	}
}
