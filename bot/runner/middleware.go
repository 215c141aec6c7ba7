package runner

import (
	"context"
	"log/slog"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// floodLog logs every FLOOD_WAIT (beneath gotd/contrib's flood waiter,
// which waits them out in the calling goroutine).
type floodLog struct{ log *slog.Logger }

// Handle implements telegram.Middleware.
func (f floodLog) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		err := next.Invoke(ctx, input, output)
		if d, ok := tgerr.AsFloodWait(err); ok {
			f.log.WarnContext(ctx, "runner: telegram asked to wait", slog.Duration("wait", d))
		}
		return err
	}
}

// sendLimit applies a rate limit (gotd/contrib's ratelimit middleware) to
// the calls that act on chats and users: messages, callback answers,
// Passport errors, commands. Telegram's limits for bots are about those.
// Downloads of scans and the fetching of updates go through unlimited:
// held behind the messages they would only slow every verification down
// under load, and Telegram answers them with FLOOD_WAIT, which the bot
// waits out, if it ever minds.
type sendLimit struct {
	limit telegram.Middleware
}

// Handle implements telegram.Middleware.
func (s sendLimit) Handle(next tg.Invoker) telegram.InvokeFunc {
	limited := s.limit.Handle(next)
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if unlimited(input) {
			return next.Invoke(ctx, input, output)
		}
		return limited(ctx, input, output)
	}
}

// unlimited reports whether a call goes around the rate limit.
func unlimited(input bin.Encoder) bool {
	switch input.(type) {
	case *tg.UploadGetFileRequest, *tg.UploadGetFileHashesRequest,
		*tg.UploadGetCDNFileRequest, *tg.UploadGetCDNFileHashesRequest, *tg.UploadReuploadCDNFileRequest,
		*tg.UpdatesGetDifferenceRequest, *tg.UpdatesGetChannelDifferenceRequest, *tg.UpdatesGetStateRequest:
		return true
	}
	return false
}

// updatesHook hands the updates that come back with the results of the
// bot's own calls (messages.sendMessage, ...) to the updates manager, so
// that its pts stays in step, without making the call wait for the
// manager.
//
// gotd's hook.UpdateHook pushes them synchronously into the manager's
// queue (ten entries), whose loop hands updates to the hook one at a
// time: under load the calls of the workers would wait for the loop. Here
// the push happens in a goroutine of its own, and the call returns at
// once.
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
				h.log.WarnContext(h.base, "runner: updates of a call not handled", slog.String("error", err.Error()))
			}
		}()
		return nil
	}
}

// minLevel drops records below min (gotd's debug logs are verbose).
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}
func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(a), min: m.min}
}
func (m minLevel) WithGroup(n string) slog.Handler { return minLevel{h: m.h.WithGroup(n), min: m.min} }
