package bot

import (
	"context"
	"log/slog"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// updatesHook hands the updates that come back with the results of the
// bot's own calls (messages.sendMessage, ...) to the updates manager, so
// that its pts stays in step, without making the call wait for the
// manager.
//
// gotd's hook.UpdateHook pushes them synchronously into the manager's
// queue (ten entries). The manager's loop is the one that starts the
// handlers, and it waits for a free slot while every slot is taken
// (workers.do); with the queue full, the handlers' own calls then wait
// for the loop, which waits for them: the bot hangs for good. Here the
// push happens in a goroutine of its own, and the call returns at once.
// Such goroutines are few (one per call with updates of a running
// handler) and end when the loop takes the updates or base ends.
type updatesHook struct {
	base   context.Context // the client's: outlives the call
	handle func(context.Context, tg.UpdatesClass) error
	log    *slog.Logger
}

// Handle implements telegram.Middleware.
func (h updatesHook) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if err := next.Invoke(ctx, input, output); err != nil {
			return err
		}
		box, ok := output.(*tg.UpdatesBox)
		if !ok || box.Updates == nil {
			return nil
		}
		u := box.Updates
		go func() {
			if err := h.handle(h.base, u); err != nil && h.base.Err() == nil {
				h.log.WarnContext(h.base, "bot: updates of a call not handled", slog.String("error", err.Error()))
			}
		}()
		return nil
	}
}
