package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
)

// instanceLease is how long an instance name stays taken after its process
// stopped renewing it (renewed every third of it).
const instanceLease = 15 * time.Second

// Run works the queue with the transport t until ctx ends: it learns who
// the bot is (t.Self), builds the handlers and the request page (Handler
// serves it from then on), delivers webhook events when the config has a
// webhook, watches the screening lists' files (screening.poll_interval),
// reminds the admins of the reviews left undecided
// (admin_notices.review_reminder),
// and handles the queued updates of every instance, at most
// WithConcurrency at once. The updates this instance held before a
// restart are resumed at once; those of an instance that stopped
// answering are taken over after WithClaimAfter.
//
// When ctx ends it stops taking updates, lets those being handled finish
// (WithShutdownTimeout), and hands the unfinished ones over to the other
// instances (they are handled again, in full and once). Run holds the
// instance name (WithInstance) while it runs, waiting up to a lease time
// for a process of the same name that just stopped; it fails when another
// running process holds it. A Bot runs at most once at a time.
func (b *Bot) Run(ctx context.Context, t Transport) error {
	if t == nil {
		return errors.New("bot: Run needs a transport (package bot/gotd)")
	}
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("bot: already running")
	}
	defer b.running.Store(false)
	self, err := t.Self(ctx)
	if err != nil {
		return fmt.Errorf("bot: who am I: %w", err)
	}
	release, err := b.HoldInstance(ctx, self.ID)
	if err != nil {
		return err
	}
	defer release()
	b.self.Store(&self)
	username := self.Username
	b.username.Store(&username)
	if _, err := b.wire(t, self); err != nil {
		return err
	}

	// The webhook sender runs beside the workers and stops after them.
	snd, err := b.sender()
	if err != nil {
		return err
	}
	sendCtx, stopSend := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSend()
	var sending sync.WaitGroup
	if snd != nil {
		sending.Go(func() {
			if err := snd.Run(sendCtx); err != nil && !errors.Is(err, context.Canceled) {
				b.log.ErrorContext(sendCtx, "bot: webhook sender stopped", slog.String("error", err.Error()))
			}
		})
	}
	// The screening lists are read again when their files change; the
	// admins are reminded of the reviews left undecided.
	var watching sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	watching.Go(func() { b.screener.Watch(watchCtx) })
	watching.Go(func() { b.remindLoop(watchCtx) })
	defer func() { stopWatch(); watching.Wait() }()
	sending.Go(func() { b.sweep(sendCtx) })
	b.log.InfoContext(ctx, "bot: working the queue", slog.String("instance", b.o.instance), slog.Int64("bot_id", self.ID))
	newWorkers(b).run(ctx)
	stopSend()
	sending.Wait()
	b.log.Info("bot: stopped working the queue", slog.String("instance", b.o.instance))
	return nil
}

// HoldInstance takes this process's instance name (WithInstance) among the
// instances of the bot botID, and keeps it until release is called: two
// processes of one name would resume each other's updates, and (in the
// standalone bot) share one Telegram session, which Telegram kills. When
// the name is taken it waits up to a lease time (15 s) for a process of the
// same name that stopped without giving it back (a crash, a kill), then
// fails with an error saying what to do. Run calls it; the standalone bot
// calls it before it logs in. A name the Bot already holds is held again
// (release then does nothing).
func (b *Bot) HoldInstance(ctx context.Context, botID int64) (release func(), err error) {
	b.instMu.Lock()
	defer b.instMu.Unlock()
	if b.instHeld {
		return func() {}, nil
	}
	name := "instance:" + strconv.FormatInt(botID, 10) + ":" + b.o.instance
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	holder := hex.EncodeToString(tok[:])
	leases := b.store.Leases()
	deadline := time.Now().Add(instanceLease + 2*time.Second)
	for waited := false; ; waited = true {
		ok, err := leases.Acquire(ctx, name, holder, instanceLease)
		if err != nil {
			return nil, fmt.Errorf("bot: take the instance name %q: %w", b.o.instance, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bot: the instance name %q is in use by another running process of this bot; give every process a name of its own (bot.WithInstance, kycbot run --instance)", b.o.instance)
		}
		if !waited {
			b.log.WarnContext(ctx, "bot: the instance name is taken; waiting for it (a process of this name may have just stopped)",
				slog.String("instance", b.o.instance))
		}
		if err := wait.Sleep(ctx, time.Second); err != nil {
			return nil, fmt.Errorf("bot: take the instance name %q: %w", b.o.instance, err)
		}
	}
	b.instHeld = true
	stop := make(chan struct{})
	var renewing sync.WaitGroup
	renewing.Go(func() {
		t := time.NewTicker(instanceLease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(context.Background(), instanceLease/3)
			ok, err := leases.Renew(rctx, name, holder, instanceLease)
			cancel()
			if err == nil && !ok {
				// Lost (Redis lost the key, or this process stalled past
				// the lease): take it again if it is free.
				ok, err = leases.Acquire(context.Background(), name, holder, instanceLease)
				if err == nil && !ok {
					b.log.Error("bot: another process took this instance's name while it was stalled; give every process a name of its own",
						slog.String("instance", b.o.instance))
				}
			}
			if err != nil {
				b.log.Warn("bot: cannot renew the instance name", slog.String("error", err.Error()))
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			renewing.Wait()
			rctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			defer cancel()
			if err := leases.Release(rctx, name, holder); err != nil {
				b.log.Warn("bot: cannot give the instance name back; it frees itself in 15 s", slog.String("error", err.Error()))
			}
			b.instMu.Lock()
			b.instHeld = false
			b.instMu.Unlock()
		})
	}, nil
}

// Self returns the bot's identity once Run has learned it (the zero Self
// before).
func (b *Bot) Self() Self {
	if s := b.self.Load(); s != nil {
		return *s
	}
	return Self{}
}

// ShutdownTimeout returns how long Run waits for the updates being handled
// when it is asked to stop (WithShutdownTimeout).
func (b *Bot) ShutdownTimeout() time.Duration { return b.o.shutdownTimeout }
