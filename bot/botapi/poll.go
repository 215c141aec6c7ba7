package botapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/internal/wait"
)

// DefaultPollTimeout is the long poll's timeout (WithPollTimeout).
const DefaultPollTimeout = 30 * time.Second

// Pauses of Poll after a failure: a getUpdates that failed (doubling up
// to pollMaxPause), a conflict (409: another consumer), a handler of the
// host that failed.
const (
	pollFirstPause = time.Second
	pollMaxPause   = 30 * time.Second
	conflictPause  = 5 * time.Second
)

// confirmWithin bounds the last getUpdates of a stopping Poll.
const confirmWithin = 5 * time.Second

// PollOption configures Poll.
type PollOption func(*poll)

// WithPollTimeout sets the long poll's timeout (default
// DefaultPollTimeout; whole seconds).
func WithPollTimeout(d time.Duration) PollOption {
	return func(p *poll) {
		if d >= 0 {
			p.timeout = int(d / time.Second)
		}
	}
}

// WithAllowedUpdates sets the kinds of updates Telegram sends
// (allowed_updates; Telegram keeps the last list given). kycbot needs
// "message" and "callback_query".
func WithAllowedUpdates(kinds ...string) PollOption {
	return func(p *poll) { p.allowed = kinds }
}

// WithDeleteWebhook makes Poll delete the bot's webhook before it starts
// (getUpdates fails with 409 while one is set), dropping the updates not
// delivered yet when dropPending.
func WithDeleteWebhook(dropPending bool) PollOption {
	return func(p *poll) { p.deleteWebhook, p.dropPending = true, dropPending }
}

type poll struct {
	timeout       int
	allowed       []string
	deleteWebhook bool
	dropPending   bool
}

// Poll receives the bot's updates with getUpdates (long polling) until
// ctx ends, then returns nil: kycbot's go to its queue (Take), every
// other update to next, in order. An update is confirmed to Telegram
// (the offset moves past it) only once it is in the queue, or next
// returned nil for it: when next fails, Poll pauses and receives the
// same updates again (kycbot's are dropped by the queue as repeats), so
// nothing is lost when the process stops or crashes; the host may see an
// update again after a crash. next may be nil: the other updates are
// dropped.
//
// Only one consumer may call getUpdates for a bot, and not while a
// webhook is set: Telegram answers 409, which Poll logs and waits out
// (WithDeleteWebhook deletes the webhook first). Flood control (429) is
// waited out. An invalid token (401, 404) ends Poll with the error.
func Poll(ctx context.Context, kyc *bot.Bot, c *Client, next func(ctx context.Context, raw json.RawMessage) error, opts ...PollOption) error {
	p := &poll{timeout: int(DefaultPollTimeout / time.Second)}
	for _, o := range opts {
		o(p)
	}
	log := kyc.Logger()
	if p.deleteWebhook {
		if err := c.DeleteWebhook(ctx, p.dropPending); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("botapi: poll: %w", err)
		}
	}
	var offset int64
	defer func() {
		if offset != 0 {
			confirm(ctx, c, offset)
		}
	}()
	pause, conflicts := pollFirstPause, 0
	for ctx.Err() == nil {
		ups, err := c.GetUpdates(ctx, GetUpdatesParams{Offset: offset, Timeout: p.timeout, AllowedUpdates: p.allowed})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d, fatal := pollFailed(ctx, log, err, &pause, &conflicts)
			if fatal {
				return fmt.Errorf("botapi: poll: %w", err)
			}
			if wait.Sleep(ctx, d) != nil {
				return nil
			}
			continue
		}
		if conflicts > 0 {
			log.InfoContext(ctx, "botapi: receiving updates again")
		}
		pause, conflicts = pollFirstPause, 0
		var failed bool
		offset, failed = handleBatch(ctx, kyc, next, ups, offset)
		if ctx.Err() != nil {
			return nil
		}
		if failed && wait.Sleep(ctx, pollFirstPause) != nil {
			return nil
		}
	}
	return nil
}

// handleBatch gives each update to kycbot or next, in order, and returns
// the offset past the last one handled, and whether one failed (the
// batch stops there).
func handleBatch(ctx context.Context, kyc *bot.Bot, next func(context.Context, json.RawMessage) error, ups []json.RawMessage, offset int64) (int64, bool) {
	log := kyc.Logger()
	for _, raw := range ups {
		var head struct {
			UpdateID *int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.UpdateID == nil {
			log.ErrorContext(ctx, "botapi: poll: an update without update_id; skipped")
			continue
		}
		taken, err := Take(ctx, kyc, raw)
		if taken && err != nil {
			// Only when ctx ended: the update is received again next time.
			return offset, true
		}
		if !taken && next != nil {
			if err := next(ctx, raw); err != nil {
				log.WarnContext(ctx, "botapi: poll: the host's handler failed; the update will be received again", slog.Int64("update_id", *head.UpdateID), slog.String("error", err.Error()))
				return offset, true
			}
		}
		offset = *head.UpdateID + 1
	}
	return offset, false
}

// pollFailed logs a failed getUpdates and returns the pause before the
// next one, or true when polling cannot go on (the token is refused).
func pollFailed(ctx context.Context, log *slog.Logger, err error, pause *time.Duration, conflicts *int) (time.Duration, bool) {
	e, ok := AsError(err)
	switch {
	case ok && (e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound):
		log.ErrorContext(ctx, "botapi: poll: the bot token is refused", slog.String("error", err.Error()))
		return 0, true
	case ok && e.Code == http.StatusConflict:
		if *conflicts == 0 {
			log.WarnContext(ctx, "botapi: poll: Telegram refuses getUpdates: another process receives this bot's updates (getUpdates or a webhook); waiting (delete the webhook, WithDeleteWebhook, or stop the other consumer)",
				slog.String("error", err.Error()))
		}
		*conflicts++
		return conflictPause, false
	case ok && e.Code == http.StatusTooManyRequests:
		log.WarnContext(ctx, "botapi: poll: flood control; waiting", slog.Duration("wait", e.RetryAfter))
		return max(e.RetryAfter, time.Second), false
	}
	log.WarnContext(ctx, "botapi: poll: getUpdates failed; trying again", slog.Duration("pause", *pause), slog.String("error", err.Error()))
	d := *pause
	*pause = min(*pause*2, pollMaxPause)
	return d, false
}

// confirm tells Telegram that the updates before offset were handled (a
// getUpdates that returns at once), so that they are not delivered again
// after a restart; on failure they are, and the queue drops kycbot's.
func confirm(ctx context.Context, c *Client, offset int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmWithin)
	defer cancel()
	_, _ = c.GetUpdates(ctx, GetUpdatesParams{Offset: offset, Limit: 1})
}
