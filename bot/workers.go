package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotd/td/tg"

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
//
// The workers also keep the books a shutdown needs (see leftovers): the
// passport submissions being handled, with their update's position, and
// those the shutdown cut short or kept from starting, which Run has
// delivered again after a restart.
type workers struct {
	sem chan struct{}
	// running counts the handlers running; idle is closed whenever it
	// drops to zero. (A sync.WaitGroup cannot be used: updates keep
	// arriving, and Add, while Wait waits during a shutdown.)
	mu      sync.Mutex
	running int
	idle    chan struct{}
	// stopped: the handlers were aborted, or shutdown found none left;
	// no handler starts any more.
	stopped bool
	// subs are the passport submissions being handled, by update ID;
	// left those cut short or kept from starting by the shutdown.
	subs map[string]submission
	left []leftover
	// floor is the common pts gotd's updates manager last loaded or
	// stored (ptsFloor, under Run), or -1.
	floor atomic.Int64

	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc
	inFlight func(delta int) // the handlers running; may be nil
	rand     io.Reader       // of the update IDs (crypto/rand)
}

func newWorkers(n int, log *slog.Logger, inFlight func(delta int)) *workers {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workers{sem: make(chan struct{}, n), log: log, ctx: ctx, cancel: cancel, inFlight: inFlight, rand: rand.Reader,
		subs: map[string]submission{}}
	w.floor.Store(-1)
	return w
}

// errCutShort is wrapped by the error of a submission handler that the
// shutdown cut short before the user was told the outcome: the
// submission is left over (under Run, to be processed again after a
// restart).
var errCutShort = errors.New("bot: cut short by the shutdown before the user was told the outcome")

// A submission is the update of a passport submission, as the shutdown's
// books know it.
type submission struct {
	// pos is the update's position in the bot's common update sequence:
	// the pts after which updates.getDifference delivers it again (see
	// position); -1 when unknown.
	pos    int
	userID int64
	msgID  int
	// owner, when set, is the update ID the handler is to run under: that
	// of the delivery whose processing a submission taken from the
	// journal resumes (the owner of its dedupe mark). Such a submission,
	// when cut short, is left in the journal rather than over.
	owner string
}

// A leftover is a submission the shutdown cut short or kept from
// starting.
type leftover struct {
	submission
	// updateID is the update ID of the handler cut short, which holds the
	// submission's dedupe mark (handlers.ContextWithUpdateID); "" for a
	// submission that never started.
	updateID string
}

// position returns where the update u stands in the common update
// sequence: the pts after which getDifference delivers it, pts -
// pts_count. gotd's updates manager gives the messages it fetched with
// getDifference no pts (-1); for those it returns floor, the pts the
// manager had stored when it dispatched them, which is at or before
// theirs (the manager stores the new pts once the handlers returned).
func position(u *tg.UpdateNewMessage, floor int) int {
	if u.Pts > 0 && u.PtsCount >= 0 && u.PtsCount <= u.Pts {
		return u.Pts - u.PtsCount
	}
	return max(floor, -1)
}

// earliest returns the smallest known position among left; ok is false
// when none is known.
func earliest(left []leftover) (pos int, ok bool) {
	for _, l := range left {
		if l.pos >= 0 && (!ok || l.pos < pos) {
			pos, ok = l.pos, true
		}
	}
	return pos, ok
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
// ctx ends first, or once the workers stopped.
func (w *workers) do(ctx context.Context, what string, f func(context.Context) error) error {
	return w.start(ctx, what, nil, f)
}

// doSubmission is do for the passport submission sub: the workers
// remember it while f runs, and leave it over when the shutdown keeps it
// from starting or cuts it short (f's error wraps errCutShort).
func (w *workers) doSubmission(ctx context.Context, sub submission, f func(context.Context) error) error {
	return w.start(ctx, "passport", &sub, f)
}

func (w *workers) start(ctx context.Context, what string, sub *submission, f func(context.Context) error) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		w.refuse(sub)
		return fmt.Errorf("bot: %s not started: %w", what, ctx.Err())
	case <-w.ctx.Done():
		w.refuse(sub)
		return fmt.Errorf("bot: %s not started: shutting down: %w", what, w.ctx.Err())
	}
	id := w.newID()
	if sub != nil && sub.owner != "" {
		id = sub.owner
	}
	if !w.begin(id, sub) {
		<-w.sem
		return fmt.Errorf("bot: %s not started: shutting down: %w", what, context.Canceled)
	}
	log := w.log.With(slog.String("update_id", id), slog.String("handler", what))
	go func() {
		cut := false
		defer func() { w.end(id, cut) }()
		defer func() { <-w.sem }()
		w.add(1)
		defer w.add(-1)
		ctx := handlers.ContextWithUpdateID(handlers.ContextWithLogger(w.ctx, log), id)
		err := f(ctx)
		switch {
		case err == nil:
		case sub != nil && errors.Is(err, errCutShort):
			cut = true
			log.WarnContext(ctx, "bot: update handler cut short by the shutdown; the submission is left over")
		default:
			log.ErrorContext(ctx, "bot: update handler failed", slog.String("error", err.Error()))
		}
	}()
	return nil
}

// begin counts a handler in, and remembers its submission (if any); it
// refuses once the workers stopped, leaving the submission over.
func (w *workers) begin(id string, sub *submission) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		w.leaveLocked(sub, "")
		return false
	}
	if w.running == 0 {
		w.idle = make(chan struct{})
	}
	w.running++
	if sub != nil {
		w.subs[id] = *sub
	}
	return true
}

// end counts the handler id out; its submission is forgotten, or left
// over when it was cut short.
func (w *workers) end(id string, cut bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sub, ok := w.subs[id]; ok {
		delete(w.subs, id)
		if cut {
			w.leaveLocked(&sub, id)
		}
	}
	w.running--
	if w.running == 0 {
		close(w.idle)
	}
}

// refuse leaves over a submission (if any) that the shutdown kept from
// starting.
func (w *workers) refuse(sub *submission) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leaveLocked(sub, "")
}

func (w *workers) leaveLocked(sub *submission, updateID string) {
	if sub != nil && sub.owner == "" {
		w.left = append(w.left, leftover{submission: *sub, updateID: updateID})
	}
}

// leftovers returns the submissions the shutdown cut short or kept from
// starting, in the order they were left over.
func (w *workers) leftovers() []leftover {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.left)
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
// cancelled; no handler starts any more) and waits for them to return.
func (w *workers) wait(ctx context.Context) error { return w.drain(ctx, false) }

// shutdown is the last wait: once no handler runs, none starts any more
// either, so that the submissions still dispatched are left over
// (leftovers) instead of running unwaited for.
func (w *workers) shutdown(ctx context.Context) error { return w.drain(ctx, true) }

func (w *workers) drain(ctx context.Context, last bool) error {
	for {
		select {
		case <-w.untilIdle():
			if w.idleNow(last) {
				return nil
			}
		case <-ctx.Done():
			w.mu.Lock()
			w.stopped = true
			w.mu.Unlock()
			w.cancel()
			for {
				<-w.untilIdle()
				if w.idleNow(true) {
					return fmt.Errorf("bot: work in progress aborted: %w", ctx.Err())
				}
			}
		}
	}
}

// idleNow reports whether no handler runs; with stop, none starts from
// then on.
func (w *workers) idleNow(stop bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running != 0 {
		return false
	}
	if stop {
		w.stopped = true
	}
	return true
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
		if ctx.Err() != nil {
			return fmt.Errorf("gave up after %d attempts: %w (last error: %w)", attempt, ctx.Err(), err)
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
