package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/chat"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/store"
)

// Limits of the workers.
const (
	// maxTries is how often an update may be handed out again (its worker
	// stopped, crashed or was killed while handling it) before it is given
	// up on: an update that brings every worker down must not do so
	// forever.
	maxTries = 8
	// readBlock is how long one read waits for new updates.
	readBlock = 2 * time.Second
	// storeRetry is the pause after a failed read or claim (Redis
	// unreachable).
	storeRetry = time.Second
	// quietRetryFor is how long after its arrival an update whose step
	// cannot reach Redis is handled again without the user being asked to
	// try again later (handlers.ContextWithRetry): about a Redis failover
	// (at most a quarter of the retry time).
	quietRetryFor = time.Minute
	// releaseTimeout bounds the calls a stopping instance makes to hand
	// its unfinished updates over.
	releaseTimeout = 5 * time.Second
)

// workers take updates from the queue and handle them, at most
// WithConcurrency at once: new ones (Read), those this instance held
// before a restart, and those whose instance stopped answering (Claim).
// While an update is handled its entry is touched every third of
// WithClaimAfter, so that no other instance takes it; it leaves the queue
// (Ack) once handled, or given up on. When Run is asked to stop, the
// workers stop taking updates, let those being handled finish (within
// WithShutdownTimeout, then cancel them) and hand the unfinished ones over
// to the other instances at once (Release).
type workers struct {
	b    *Bot
	q    store.Queue
	name string
	sem  chan struct{}
	log  *slog.Logger
	wg   sync.WaitGroup

	mu   sync.Mutex
	held map[string]bool // entries being handled, or cut short
}

func newWorkers(b *Bot) *workers {
	return &workers{b: b, q: b.store.Queue(), name: b.o.instance, sem: make(chan struct{}, b.o.concurrency),
		log: b.log.With(slog.String("instance", b.o.instance)), held: map[string]bool{}}
}

// run works the queue until ctx ends, then drains (see workers).
func (w *workers) run(ctx context.Context) {
	// The handlers' context outlives ctx while the work in progress
	// finishes.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var loops sync.WaitGroup
	loops.Go(func() { w.take(ctx, work) })
	touchCtx, stopTouch := context.WithCancel(work)
	touched := make(chan struct{})
	go func() { defer close(touched); w.touch(touchCtx) }()

	<-ctx.Done()
	loops.Wait()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	t := time.NewTimer(w.b.o.shutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.log.Warn("bot: the shutdown timeout cut updates short; another instance handles them")
		cancelWork()
		<-done
	}
	stopTouch()
	<-touched
	w.release()
}

// slots takes up to n free handler slots, waiting for the first one until
// ctx ends (0 then).
func (w *workers) slots(ctx context.Context, n int) int {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	got := 1
	for got < n {
		select {
		case w.sem <- struct{}{}:
			got++
		default:
			return got
		}
	}
	return got
}

// free gives back n slots.
func (w *workers) free(n int) {
	for range n {
		<-w.sem
	}
}

// take takes updates until ctx ends, at most as many as there are free
// handler slots (it waits for one): new ones (Read; first those this
// instance held before a restart) and, every half WithClaimAfter, those
// whose instance stopped answering or handed them over (Claim). Reads wait
// for new updates until the next claim is due, so that claims come on
// time, and one loop holds the free slots: a read waiting for updates does
// not keep them from a claim.
func (w *workers) take(ctx, work context.Context) {
	every := max(w.b.o.claimAfter/2, 500*time.Millisecond)
	nextClaim := time.Now().Add(every)
	pending := true
	for ctx.Err() == nil {
		n := w.slots(ctx, 64)
		if n == 0 {
			return
		}
		var entries []store.QueueEntry
		var err error
		if wait := time.Until(nextClaim); wait >= time.Millisecond {
			entries, err = w.q.Read(ctx, w.name, n, min(readBlock, wait), pending)
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "bot: cannot read the queue", slog.String("error", err.Error()))
			}
			if pending && len(entries) > 0 {
				w.log.InfoContext(ctx, "bot: resuming updates this instance held before it stopped", slog.Int("updates", len(entries)))
			}
			if pending && (err == nil && len(entries) < n || errors.Is(err, store.ErrQueueDecrypt)) {
				// All of this instance's earlier updates are taken (those
				// that do not open stay pending, for Claim by an instance
				// with the right key).
				pending = false
			}
		} else {
			nextClaim = time.Now().Add(every)
			entries, err = w.q.Claim(ctx, w.name, w.b.o.claimAfter, n)
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "bot: cannot take over the updates of stopped instances", slog.String("error", err.Error()))
			}
			if len(entries) > 0 {
				w.log.InfoContext(ctx, "bot: taking over updates of an instance that stopped answering", slog.Int("updates", len(entries)))
			}
		}
		w.free(n - len(entries))
		for _, e := range entries {
			w.start(work, e)
		}
		if err != nil && ctx.Err() == nil {
			_ = wait.Sleep(ctx, storeRetry)
		}
	}
}

// touch keeps the updates being handled with this instance.
func (w *workers) touch(ctx context.Context) {
	t := time.NewTicker(max(w.b.o.claimAfter/3, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := w.heldIDs()
		if len(ids) == 0 {
			continue
		}
		n, err := w.q.Touch(ctx, w.name, ids...)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.WarnContext(ctx, "bot: cannot renew the updates being handled; another instance may take them over", slog.String("error", err.Error()))
		case err == nil && n < len(ids):
			w.log.WarnContext(ctx, "bot: another instance took over updates this one is handling (it did not answer for too long); they may be handled twice, idempotently",
				slog.Int("updates", len(ids)-n))
		}
	}
}

func (w *workers) heldIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, len(w.held))
	for id := range w.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (w *workers) setHeld(id string, held bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if held {
		w.held[id] = true
	} else {
		delete(w.held, id)
	}
}

// release hands the updates cut short over to the other instances.
func (w *workers) release() {
	ids := w.heldIDs()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if _, err := w.q.Release(ctx, w.name, ids...); err != nil {
		w.log.ErrorContext(ctx, "bot: cannot hand the unfinished updates over; another instance takes them after the claim time",
			slog.Int("updates", len(ids)), slog.String("error", err.Error()))
		return
	}
	w.log.InfoContext(ctx, "bot: unfinished updates handed over to the other instances", slog.Int("updates", len(ids)))
}

// start handles e in a goroutine of its own; it holds a slot, which it
// gives back when done.
func (w *workers) start(ctx context.Context, e store.QueueEntry) {
	w.setHeld(e.ID, true)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.free(1)
		w.b.metrics.InFlight(1)
		defer w.b.metrics.InFlight(-1)
		if w.handle(ctx, e) {
			w.setHeld(e.ID, false)
		}
	}()
}

// handle handles one update, retrying it while its handler cannot now
// (within WithRetry), and reports whether it left the queue.
func (w *workers) handle(ctx context.Context, e store.QueueEntry) (done bool) {
	log := w.log.With(slog.String("update_id", e.ID))
	ctx = handlers.ContextWithLogger(ctx, log)
	u, err := decodeUpdate(e.Payload)
	if err != nil {
		log.ErrorContext(ctx, "bot: a queued update cannot be read; dropped", slog.String("error", err.Error()))
		return w.ack(ctx, log, e)
	}
	log = log.With(slog.String("handler", u.Kind))
	ctx = handlers.ContextWithLogger(ctx, log)
	wd := w.b.wiring() // Reload: the update finishes with these handlers
	if e.Again {
		n, err := w.q.Tried(ctx, e.ID)
		if err == nil && n > maxTries {
			log.ErrorContext(ctx, "bot: an update was handed out again too often (it may bring its workers down); given up on", slog.Int("tries", n))
			w.giveUp(ctx, wd, e, u)
			return w.ack(ctx, log, e)
		}
	}
	pause := w.b.o.retryBase
	quiet := min(quietRetryFor, w.b.o.retryFor/4)
	for attempt := 1; ; attempt++ {
		hctx := ctx
		if w.b.o.now().Sub(e.Appended)+pause <= quiet {
			// Redis unreachable: retry without asking the user to.
			hctx = handlers.ContextWithRetry(ctx)
		}
		err := w.dispatch(hctx, wd, e, u)
		switch {
		case err == nil:
			return w.ack(ctx, log, e)
		case ctx.Err() != nil:
			// Cut short, whatever the handler made of its cancelled calls
			// (a chat answer fails with context.Canceled, not
			// ErrRetryLater): the update is handled again, in full.
			log.WarnContext(ctx, "bot: update cut short by the shutdown; it stays in the queue", slog.String("error", err.Error()))
			return false
		case !errors.Is(err, handlers.ErrRetryLater):
			log.ErrorContext(ctx, "bot: update handler failed", slog.String("error", err.Error()))
			return w.ack(ctx, log, e)
		case w.b.o.now().Sub(e.Appended)+pause > w.b.o.retryFor:
			log.ErrorContext(ctx, "bot: gave up on an update that could not be handled in time", slog.Int("attempts", attempt), slog.String("error", err.Error()))
			w.giveUp(ctx, wd, e, u)
			return w.ack(ctx, log, e)
		}
		log.WarnContext(ctx, "bot: will retry", slog.Int("attempt", attempt), slog.Duration("pause", pause), slog.String("error", err.Error()))
		if wait.Sleep(ctx, pause) != nil {
			log.WarnContext(ctx, "bot: update cut short by the shutdown; it stays in the queue")
			return false
		}
		pause = min(pause*2, time.Minute)
	}
}

// dispatch hands an update to its handler.
func (w *workers) dispatch(ctx context.Context, wd *wiring, e store.QueueEntry, u Update) error {
	switch u.Kind {
	case KindSubmission:
		_, err := wd.flow.Process(ctx, verification.Submission{ID: e.Key, User: u.From, MsgID: u.MsgID, Encrypted: u.Submission, Received: e.Appended})
		return err
	case KindMessage:
		return wd.chat.OnMessage(ctx, handlers.TextMessage{ID: e.Key, From: u.From, MsgID: u.MsgID, Text: u.Text})
	case KindCallback:
		return wd.chat.OnCallback(ctx, handlers.CallbackQuery{ID: e.Key, From: u.From, QueryID: u.QueryID, Data: u.Data})
	case KindOutcome:
		o := u.Outcome
		return wd.chat.OnOutcome(ctx, chat.Outcome{ID: e.Key, User: u.From, RequestID: o.RequestID, Result: o.Result, Error: o.Error, Lang: o.Lang})
	case KindReview:
		d := u.Review
		_, err := wd.flow.Decide(ctx, verification.Decision{ID: e.Key, UserID: u.From.ID, ReviewID: d.ReviewID, Admin: d.Admin,
			Action: d.Action, Reason: d.Reason, Fix: d.Fix})
		return err
	}
	return nil
}

// giveUp ends an update the workers stop trying: a submission's user is
// asked to share again.
func (w *workers) giveUp(ctx context.Context, wd *wiring, e store.QueueEntry, u Update) {
	if u.Kind == KindSubmission {
		wd.flow.GiveUp(ctx, verification.Submission{ID: e.Key, User: u.From, MsgID: u.MsgID, Encrypted: u.Submission, Received: e.Appended})
	}
}

// ack takes a handled update out of the queue, and reports true: the
// workers are done with it. When Redis fails the update stays in the
// queue, untouched, and another Claim hands it out again after
// WithClaimAfter; handling it again is safe (the failure is logged).
func (w *workers) ack(ctx context.Context, log *slog.Logger, e store.QueueEntry) bool {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := w.q.Ack(actx, e.ID); err != nil {
		log.WarnContext(ctx, "bot: cannot remove a handled update from the queue; it will be handled again (idempotently)", slog.String("error", err.Error()))
	}
	return true
}
