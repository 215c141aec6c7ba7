package bot

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
)

// blockingSend makes a transport's Send wait until its context ends (a
// handler that is slow, or stuck); started gets a value when it starts
// waiting.
func blockingSend(started chan<- handlers.Message) func(context.Context, handlers.User, handlers.Message) error {
	return func(ctx context.Context, _ handlers.User, m handlers.Message) error {
		select {
		case started <- m:
		default:
		}
		<-ctx.Done()
		return fmt.Errorf("fake telegram: %w", ctx.Err())
	}
}

// An instance stopped while a handler is stuck cuts it short after its
// shutdown timeout and hands the update over; a restart of the same
// instance resumes it at once. The update is handled again, in full,
// once, under the same message key.
func TestWorkersTakeOverAfterRelease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		instance string
	}{
		{"the same instance restarted", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			a := env.newBot(t, "a", "", "", WithClaimAfter(time.Second), WithShutdownTimeout(100*time.Millisecond))
			ta := newFakeTransport()
			started := make(chan handlers.Message, 1)
			ta.send = blockingSend(started)
			ra := a.start(t, ta)
			a.enqueue(t, textUpdate(1001, "/help"))
			var cut handlers.Message
			select {
			case cut = <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the update was not handled")
			}
			if err := ra.stop(); err != nil {
				t.Fatal(err)
			}
			if !a.logged("the shutdown timeout cut updates short") || !a.logged("unfinished updates handed over") {
				t.Errorf("the hand-over is not logged:\n%s", a.logs)
			}
			p := env.pending(t)
			if len(p) != 1 || p[0].Consumer != "a" || p[0].Idle < 300*24*time.Hour {
				t.Fatalf("after the stop the queue holds %+v, want one entry of a, released (idle for a year)", p)
			}

			// Its claim time is 4 s: checked every 2 s, an entry that was
			// not released would be idle for less than that at the first
			// check, and taken only at the second.
			const claimAfter = 4 * time.Second
			b := env.newBot(t, tc.instance, "", "", WithClaimAfter(claimAfter))
			tb := newFakeTransport()
			b.start(t, tb)
			got := tb.waitMessages(t, 1001, 1, claimAfter-time.Second)
			if got[0].Text != b.text(i18n.MsgHelp) || got[0].Key != cut.Key {
				t.Errorf("taken over: %q with key %q, want the help with key %q", got[0].Text, got[0].Key, cut.Key)
			}
			b.waitEmpty(t, 5*time.Second)
			if n := len(tb.messages(1001)); n != 1 {
				t.Errorf("the update was answered %d times", n)
			}
		})
	}
}
