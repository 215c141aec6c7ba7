package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// workers runs update handlers off the updates manager's loop (which
// handles updates one at a time), at most n at once, and lets shutdown
// wait for them. Their context is the workers' own: it outlives the
// update that started the work and ends only when abort is called, so a
// submission being processed is finished rather than cut in half.
type workers struct {
	sem    chan struct{}
	wg     sync.WaitGroup
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
}

func newWorkers(n int, log *slog.Logger) *workers {
	ctx, cancel := context.WithCancel(context.Background())
	return &workers{sem: make(chan struct{}, n), log: log, ctx: ctx, cancel: cancel}
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
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		if err := f(w.ctx); err != nil {
			w.log.ErrorContext(w.ctx, "bot: update handler failed", slog.String("handler", what), slog.String("error", err.Error()))
		}
	}()
	return nil
}

// wait waits for the running handlers; when ctx ends first it aborts
// them (their context is cancelled) and waits for them to return.
func (w *workers) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		w.cancel()
		<-done
		return fmt.Errorf("bot: work in progress aborted: %w", ctx.Err())
	}
}

// retry calls f until it succeeds, the total time is used up or ctx ends;
// the pause starts at first and doubles up to a minute.
func retry(ctx context.Context, log *slog.Logger, total, first time.Duration, f func(context.Context) error) error {
	start := time.Now()
	pause := first
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
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
