package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/web"
)

// backend is the web server's view of the store and the conversation.
type backend struct {
	b        *Bot
	commands *handlers.Commands
}

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

// RecordOutcome implements web.Backend: the conversation tells the user
// (and the admins, for a wrong public key).
func (k backend) RecordOutcome(ctx context.Context, o web.Outcome) error {
	r, err := k.b.store.Requests().Get(ctx, o.RequestID)
	if err != nil {
		return fmt.Errorf("outcome of a request: %w", err)
	}
	return k.commands.OnOutcome(ctx, handlers.Outcome{
		UserID: r.UserID, RequestID: r.ID, Result: o.Result, Error: o.Error, Lang: r.Lang,
	})
}

// Ready implements web.Backend (/readyz): the bot's Ready.
func (k backend) Ready(ctx context.Context) error { return k.b.Ready(ctx) }

// ErrNotReceiving is Ready's error while the bot is not receiving
// updates: Run has not started the updates manager yet, its session
// ended, or it is stopping (or Register has not run, or Close has).
var ErrNotReceiving = errors.New("telegram: not receiving updates (starting, reconnecting or stopping)")

// Ready reports whether the bot is ready to work, as /readyz does: it
// receives updates (ErrNotReceiving otherwise) and Redis answers a PING.
func (b *Bot) Ready(ctx context.Context) error {
	if !b.ready.Load() {
		return fmt.Errorf("bot: %w", ErrNotReceiving)
	}
	if err := b.store.Client().Ping(ctx).Err(); err != nil {
		return fmt.Errorf("bot: redis: %w", err)
	}
	return nil
}
