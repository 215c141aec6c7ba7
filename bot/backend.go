package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/web"
)

// backend is the web server's view of the store and the queue.
type backend struct{ b *Bot }

// Request implements web.Backend.
func (k backend) Request(ctx context.Context, id string) (web.Request, error) {
	r, err := k.b.store.Requests().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return web.Request{}, fmt.Errorf("%w: %w", web.ErrNotFound, err)
	}
	if err != nil {
		return web.Request{}, err
	}
	return web.Request{ID: r.ID, Nonce: r.Nonce, Level: r.Level, Lang: r.Lang, ExpiresAt: r.ExpiresAt}, nil
}

// RecordOutcome implements web.Backend: the outcome is queued, like any
// kycbot update, and the conversation answers it (and alarms the admins
// for a wrong public key). The same outcome reported again (a reloaded
// page) is dropped by the queue. While Redis is unreachable (a failover)
// it tries again until ctx ends.
func (k backend) RecordOutcome(ctx context.Context, o web.Outcome) error {
	pause := 100 * time.Millisecond
	for {
		err := k.recordOutcome(ctx, o)
		if err == nil || !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		if werr := wait.Sleep(ctx, pause); werr != nil {
			return err
		}
		pause = min(2*pause, 2*time.Second)
	}
}

func (k backend) recordOutcome(ctx context.Context, o web.Outcome) error {
	r, err := k.b.store.Requests().Get(ctx, o.RequestID)
	if err != nil {
		return fmt.Errorf("outcome of a request: %w", err)
	}
	return k.b.Enqueue(ctx, Update{Kind: KindOutcome, From: handlers.User{ID: r.UserID},
		Outcome: &PageOutcome{RequestID: r.ID, Result: o.Result, Error: o.Error, Lang: r.Lang}})
}

// Ready implements web.Backend (/readyz): the bot's Ready.
func (k backend) Ready(ctx context.Context) error { return k.b.Ready(ctx) }

// ErrNotReceiving is Ready's error while the bot does not work the queue:
// Run has not started (or Telegram is not connected), or it is stopping.
var ErrNotReceiving = errors.New("telegram: not working the queue (starting, reconnecting or stopping)")

// Ready reports whether the bot is ready to work, as /readyz does: Run
// works the queue (ErrNotReceiving otherwise) and Redis answers a PING.
func (b *Bot) Ready(ctx context.Context) error {
	if !b.running.Load() || b.wiring() == nil {
		return fmt.Errorf("bot: %w", ErrNotReceiving)
	}
	if err := b.store.Client().Ping(ctx).Err(); err != nil {
		return fmt.Errorf("bot: redis: %w", err)
	}
	return nil
}
