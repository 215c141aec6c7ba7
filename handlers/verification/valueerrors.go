package verification

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// DefaultValueErrorsPauses are the pauses between the attempts of
// users.setSecureValueErrors (Config.ValueErrorsPauses): four attempts in
// about seven seconds.
var DefaultValueErrorsPauses = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// MaxValueErrorsWait is the longest FLOOD_WAIT the flow waits out between
// two attempts of users.setSecureValueErrors: Telegram asking for longer
// ends the attempts (the chat message then lists the problems itself).
const MaxValueErrorsWait = 30 * time.Second

// setValueErrors shows errs in the user's Telegram Passport form, trying
// again after each pause of the flow's ValueErrorsPauses (or after the
// FLOOD_WAIT Telegram asks for, when longer and at most
// MaxValueErrorsWait). It returns the last error when every attempt
// failed, and ctx's error when ctx ended first.
func (p *run) setValueErrors(ctx context.Context, errs []tg.SecureValueErrorClass) error {
	pauses := p.f.cfg.ValueErrorsPauses
	for attempt := 0; ; attempt++ {
		err := p.f.cfg.Telegram.SetSecureValueErrors(ctx, p.sub.User, errs)
		if err == nil || ctx.Err() != nil || attempt >= len(pauses) {
			return err
		}
		pause := pauses[attempt]
		if d, ok := tgerr.AsFloodWait(err); ok {
			if d > MaxValueErrorsWait {
				return err
			}
			pause = max(pause, d)
		}
		p.log.WarnContext(ctx, "verification: users.setSecureValueErrors failed; trying again",
			slog.Int("attempt", attempt+1), slog.Duration("pause", pause), slog.String("error", err.Error()))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}
