package runner

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"golang.org/x/time/rate"

	"github.com/kycbot/kycbot/handlers"
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

// sendLimit applies a rate limit (a priorityLimit) to the calls that act
// on chats and users: messages, callback answers, Passport errors,
// commands. Telegram's limits for bots are about those.
// Downloads of scans and the fetching of updates go through unlimited:
// held behind the messages they would only slow every verification down
// under load, and Telegram answers them with FLOOD_WAIT, which the bot
// waits out, if it ever minds.
type sendLimit struct {
	limit *priorityLimit
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

// noticeMaxWait bounds how long an admin notice waits for the users'
// calls to let it through: past it, it takes its turn like them (so that
// notices are late under sustained load, never lost).
const noticeMaxWait = 30 * time.Second

// priorityLimit is a rate limit that serves users' answers before admin
// notices (the calls whose context handlers.IsNotice marks). A notice
// waits for its turn only while no other call waits for one (up to
// noticeMaxWait), one notice at a time: a burst of notices never keeps a
// user's answer waiting longer than the one notice already taking its
// turn.
type priorityLimit struct {
	lim limiter
	// notice is held by the notice waiting for the limiter.
	notice chan struct{}

	mu sync.Mutex
	// waiting counts the other calls waiting for the limiter; idle is
	// closed while it is zero.
	waiting int
	idle    chan struct{}
	// notices counts the notices waiting (for tests).
	notices int
}

// limiter gives each caller of Wait its turn (a *rate.Limiter).
type limiter interface {
	Wait(ctx context.Context) error
}

// newPriorityLimit returns a limit of r calls per second, burst at once.
func newPriorityLimit(r rate.Limit, burst int) *priorityLimit {
	return newPriority(rate.NewLimiter(r, burst))
}

// newPriority returns the priorityLimit of the turns lim gives.
func newPriority(lim limiter) *priorityLimit {
	idle := make(chan struct{})
	close(idle)
	return &priorityLimit{lim: lim, notice: make(chan struct{}, 1), idle: idle}
}

// Handle implements telegram.Middleware.
func (p *priorityLimit) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if err := p.wait(ctx); err != nil {
			return err
		}
		return next.Invoke(ctx, input, output)
	}
}

// wait waits for the turn of a call in ctx.
func (p *priorityLimit) wait(ctx context.Context) error {
	if !handlers.IsNotice(ctx) {
		p.mu.Lock()
		if p.waiting++; p.waiting == 1 {
			p.idle = make(chan struct{})
		}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			if p.waiting--; p.waiting == 0 {
				close(p.idle)
			}
			p.mu.Unlock()
		}()
		return p.lim.Wait(ctx)
	}
	p.mu.Lock()
	p.notices++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.notices--
		p.mu.Unlock()
	}()
	select {
	case p.notice <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.notice }()
	late := time.NewTimer(noticeMaxWait)
	defer late.Stop()
	for {
		p.mu.Lock()
		idle, busy := p.idle, p.waiting > 0
		p.mu.Unlock()
		if !busy {
			break
		}
		select {
		case <-idle:
			continue
		case <-late.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		break
	}
	return p.lim.Wait(ctx)
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
