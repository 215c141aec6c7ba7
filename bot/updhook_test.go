package bot

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

type invokerFunc func(ctx context.Context, input bin.Encoder, output bin.Decoder) error

func (f invokerFunc) Invoke(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
	return f(ctx, input, output)
}

// TestUpdatesHookDoesNotWaitForTheManager: a call whose result carries
// updates returns while the updates manager cannot take them yet, and the
// manager gets them once it can.
func TestUpdatesHookDoesNotWaitForTheManager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := &tg.UpdateShortSentMessage{ID: 7, Pts: 10, PtsCount: 1}
	next := invokerFunc(func(_ context.Context, _ bin.Encoder, output bin.Decoder) error {
		output.(*tg.UpdatesBox).Updates = sent
		return nil
	})
	release := make(chan struct{})
	got := make(chan tg.UpdatesClass, 1)
	h := updatesHook{base: ctx, log: slog.New(slog.DiscardHandler), handle: func(ctx context.Context, u tg.UpdatesClass) error {
		select {
		case <-release: // the manager's queue is full until then
		case <-ctx.Done():
			return ctx.Err()
		}
		got <- u
		return nil
	}}
	invoke := h.Handle(next)
	returned := make(chan error, 1)
	go func() { returned <- invoke(ctx, &tg.MessagesSendMessageRequest{}, &tg.UpdatesBox{}) }()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call waited for the updates manager")
	}
	close(release)
	select {
	case u := <-got:
		if u != sent {
			t.Fatalf("the manager got %v, want the call's updates", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the updates never reached the manager")
	}
}

// TestUpdatesHookPassesErrorsAndOtherResults: a failed call returns its
// error, and results without updates are left alone.
func TestUpdatesHookPassesErrorsAndOtherResults(t *testing.T) {
	calls := 0
	h := updatesHook{base: context.Background(), log: slog.New(slog.DiscardHandler), handle: func(context.Context, tg.UpdatesClass) error {
		calls++
		return nil
	}}
	boom := context.DeadlineExceeded
	if err := h.Handle(invokerFunc(func(context.Context, bin.Encoder, bin.Decoder) error { return boom }))(context.Background(), &tg.MessagesSendMessageRequest{}, &tg.UpdatesBox{}); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the call's", err)
	}
	ok := invokerFunc(func(context.Context, bin.Encoder, bin.Decoder) error { return nil })
	if err := h.Handle(ok)(context.Background(), &tg.UsersGetUsersRequest{}, &tg.UserClassVector{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(ok)(context.Background(), &tg.MessagesSendMessageRequest{}, &tg.UpdatesBox{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if calls != 0 {
		t.Fatalf("the manager was called %d times for results without updates", calls)
	}
}
