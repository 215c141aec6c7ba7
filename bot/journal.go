package bot

import (
	"context"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/store"
)

// The journal of submissions in progress (see store.HoldSubmission): the
// instance that processes a submission holds an entry for it, with the
// update, under a lease it renews while it works; it releases the entry
// once the processing ended in a final way, and leaves it (the lease
// ends at once) when the shutdown cuts it short. A sweeper in every Run
// claims the entries whose lease ended (an instance stopped, crashed or
// was killed) and processes them again under the update ID that owns
// their dedupe mark, so that the processing resumes wherever it stopped.
const (
	// JournalLease is how long an instance holds a submission without
	// renewing it: another instance takes over a submission at most this
	// long (plus the sweep interval) after its instance died. Renewed
	// every third of it.
	JournalLease = time.Minute
	// DefaultJournalSweep is how often Run claims the submissions left in
	// the journal (WithJournalSweep).
	DefaultJournalSweep = 30 * time.Second
	// journalMargin is how long past the request TTL and the retry window
	// a journal entry lives before it expires on its own.
	journalMargin = time.Hour
	// journalClaimBatch is how many entries one sweep claims at most.
	journalClaimBatch = 16
	// journalInfo is the HKDF info string of the journal key.
	journalInfo = "kycbot journal v1"
)

// JournalKey derives the 32-byte key that seals the journal of
// submissions in progress (store.WithJournalKey) from the bot's Passport
// private key: HKDF-SHA256 over the key's PKCS#1 DER, info "kycbot
// journal v1". Every instance has the same key file, hence the same key.
func JournalKey(key *rsa.PrivateKey) []byte {
	k, err := hkdf.Key(sha256.New, x509.MarshalPKCS1PrivateKey(key), nil, journalInfo, 32)
	if err != nil {
		// Only a length beyond 255 hash sizes fails.
		panic("bot: hkdf: " + err.Error())
	}
	return k
}

// journalKeep is how long a journal entry lives at most.
func (b *Bot) journalKeep() time.Duration {
	return b.current().cfg.Passport.RequestTTL + b.o.retryFor + journalMargin
}

// processSubmission runs the passport handler on the submission u (with
// the retries of WithRetry) while holding it in the journal: lease is the
// hold of a submission taken from the journal, or the zero lease for a
// fresh one, held once its dedupe mark is this delivery's. The entry is
// released when the processing ends, and left when the shutdown cuts it
// short (the error then wraps errCutShort).
func (b *Bot) processSubmission(ctx context.Context, w *wiring, e tg.Entities, u *tg.UpdateNewMessage, lease store.JournalLease) error {
	msg := u.Message.(*tg.MessageService)
	log := handlers.LoggerFromContext(ctx, b.log)
	j := &journalHold{b: b, log: log, userID: msg.PeerID.(*tg.PeerUser).UserID, msgID: msg.ID, owner: handlers.UpdateIDFromContext(ctx)}
	if lease.Held() {
		j.start(ctx, lease)
	}
	defer j.stopRenewing()
	err := retry(ctx, log, b.o.retryFor, b.o.retryBase, func(ctx context.Context) error {
		return w.passport.OnNewMessage(j.hold(ctx, e, u), e, u)
	})
	if errors.Is(err, handlers.ErrRetryLater) {
		if ctx.Err() != nil {
			// Aborted by the shutdown before the user was told the
			// outcome: left in the journal for another instance, and over
			// for the next start (Run has it delivered again).
			j.end(true)
			return fmt.Errorf("%w: %w", errCutShort, err)
		}
		// Never processed: the user, told that it takes longer, must not
		// be left waiting.
		b.metrics.Submission(handlers.SubmissionFailed, "gave_up", "")
		w.passport.GiveUp(ctx, e, u)
	}
	j.end(false)
	return err
}

// journalHold is one delivery's hold on its submission's journal entry.
type journalHold struct {
	b      *Bot
	log    *slog.Logger
	userID int64
	msgID  int
	owner  string // the delivery's update ID

	mu    sync.Mutex
	lease store.JournalLease
	stop  chan struct{} // closes to stop the renewals
	done  chan struct{} // closed once they stopped
}

// hold holds the journal entry unless held already: once the delivery
// owns the submission's dedupe mark (a duplicate delivery holds nothing;
// the handler drops it). When Redis fails, the processing goes on
// unjournaled and the next attempt tries again. It returns ctx marked
// (handlers.ContextMarked) when it has just made the dedupe mark, so that
// the handler does not make it again.
func (j *journalHold) hold(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) context.Context {
	if j.held() || j.owner == "" {
		return ctx
	}
	first, err := j.b.store.MarkUpdate(ctx, j.userID, j.msgID, handlers.UpdateMarkTTL, store.MarkedBy(j.owner))
	if err != nil || !first {
		return ctx // the handler tells the duplicate, or fails the same way
	}
	j.startHeld(ctx, e, u)
	return handlers.ContextMarked(ctx)
}

// startHeld holds the entry of a submission whose dedupe mark this
// delivery has just made, and starts renewing it.
func (j *journalHold) startHeld(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) {
	l, err := j.b.store.HoldSubmission(ctx, store.JournalEntry{
		UserID: j.userID, MsgID: j.msgID, Owner: j.owner, Update: u, User: e.Users[j.userID],
	}, JournalLease, j.b.journalKeep())
	if err != nil {
		j.log.WarnContext(ctx, "bot: cannot record the submission in the journal; processing it anyway", slog.String("error", err.Error()))
		return
	}
	j.start(ctx, l)
}

func (j *journalHold) held() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lease.Held()
}

// start takes the lease l and renews it every third of JournalLease until
// stopRenewing.
func (j *journalHold) start(ctx context.Context, l store.JournalLease) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lease, j.stop, j.done = l, make(chan struct{}), make(chan struct{})
	stop, done := j.stop, j.done
	ctx = context.WithoutCancel(ctx) // renewed until the handler returns, even while aborted
	go func() {
		defer close(done)
		t := time.NewTicker(JournalLease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(ctx, JournalLease/3)
			err := j.b.store.RenewSubmission(rctx, l, JournalLease)
			cancel()
			if errors.Is(err, store.ErrNotFound) {
				j.log.WarnContext(ctx, "bot: the submission's journal entry was taken over by another instance (its lease ran out)")
				return
			}
			if err != nil {
				j.log.WarnContext(ctx, "bot: cannot renew the submission's journal lease", slog.String("error", err.Error()))
			}
		}
	}()
}

// stopRenewing stops the renewals and waits for them.
func (j *journalHold) stopRenewing() {
	j.mu.Lock()
	stop, done := j.stop, j.done
	j.stop = nil
	j.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// end releases the entry, or leaves it when cut short.
func (j *journalHold) end(cut bool) {
	j.stopRenewing()
	j.mu.Lock()
	l := j.lease
	j.lease = store.JournalLease{}
	j.mu.Unlock()
	if !l.Held() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	if cut {
		if err := j.b.store.LeaveSubmission(ctx, l); err != nil && !errors.Is(err, store.ErrNotFound) {
			j.log.ErrorContext(ctx, "bot: cannot leave the submission in the journal; another instance takes it once its lease runs out",
				slog.String("error", err.Error()))
		}
		return
	}
	if err := j.b.store.ReleaseSubmission(ctx, l); err != nil {
		j.log.WarnContext(ctx, "bot: cannot release the submission's journal entry; another instance will process it again (idempotently) once its lease runs out",
			slog.String("error", err.Error()))
	}
}

// sweepJournal claims the submissions left in the journal once started
// is closed (the updates manager is up), then every WithJournalSweep,
// until ctx ends, and processes them through the workers.
func (b *Bot) sweepJournal(ctx context.Context, started <-chan struct{}) {
	select {
	case <-ctx.Done():
		return
	case <-started:
	}
	t := time.NewTicker(b.o.journalSweep)
	defer t.Stop()
	for {
		b.sweepOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepOnce claims and processes the submissions whose lease ran out.
func (b *Bot) sweepOnce(ctx context.Context) {
	w := b.wiring()
	if w == nil {
		return
	}
	for {
		claimed, err := b.store.ClaimSubmissions(ctx, JournalLease, journalClaimBatch)
		if err != nil && ctx.Err() == nil {
			b.log.ErrorContext(ctx, "bot: cannot take over the submissions left in the journal", slog.String("error", err.Error()))
		}
		for _, c := range claimed {
			b.takeOver(ctx, w, c)
		}
		if err != nil || len(claimed) < journalClaimBatch {
			return
		}
	}
}

// takeOver processes a submission claimed from the journal as a fresh
// one, under the update ID that owns its dedupe mark.
func (b *Bot) takeOver(ctx context.Context, w *wiring, c store.ClaimedSubmission) {
	e := tg.Entities{Users: map[int64]*tg.User{}, Chats: map[int64]*tg.Chat{}, Channels: map[int64]*tg.Channel{}}
	if c.User != nil {
		e.Users[c.UserID] = c.User
	}
	b.log.InfoContext(ctx, "bot: taking over a submission left in the journal by a stopped instance")
	sub := submission{pos: -1, userID: c.UserID, msgID: c.MsgID, owner: c.Owner}
	err := b.work.doSubmission(ctx, sub, func(ctx context.Context) error {
		return b.processSubmission(ctx, w, e, c.Update, c.Lease)
	})
	if err != nil {
		// Not started (stopping): left for another instance at once.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
		defer cancel()
		if err := b.store.LeaveSubmission(lctx, c.Lease); err != nil && !errors.Is(err, store.ErrNotFound) {
			b.log.WarnContext(lctx, "bot: cannot leave a submission in the journal", slog.String("error", err.Error()))
		}
	}
}
