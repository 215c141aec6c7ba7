package bot

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
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
// shutdown timeout and hands the update over: another instance takes it
// before its claim time (the entry was released), and a restart of the
// same instance resumes it at once. Either way the update is handled
// again, in full, once, under the same message key.
func TestWorkersTakeOverAfterRelease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		instance string
	}{
		{"another instance", "b"},
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
			if !strings.HasPrefix(got[0].Text, b.text(i18n.MsgHelp)) || got[0].Key != cut.Key {
				t.Errorf("taken over: %q with key %q, want the help with key %q", got[0].Text, got[0].Key, cut.Key)
			}
			b.waitEmpty(t, 5*time.Second)
			if n := len(tb.messages(1001)); n != 1 {
				t.Errorf("the update was answered %d times", n)
			}
		})
	}
}

// An instance that died without handing its update over (a crash: the
// entry stays with a consumer that no longer touches it) loses it to
// another instance once it was idle for the claim time, not before.
func TestWorkersClaimAfterCrash(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	const claimAfter = time.Second
	b := env.newBot(t, "b", "", "", WithClaimAfter(claimAfter))
	b.enqueue(t, textUpdate(1001, "/help"))
	before := time.Now()
	got, err := b.Store().Queue().Read(context.Background(), "crashed", 10, 0, false)
	if err != nil || len(got) != 1 {
		t.Fatalf("Read: %d entries, %v", len(got), err)
	}

	tr := newFakeTransport()
	b.start(t, tr)
	sent := tr.waitMessages(t, 1001, 1, 10*time.Second)
	if held := sent[0].At.Sub(before); held < claimAfter {
		t.Errorf("the entry was taken over after %v, before the claim time %v", held, claimAfter)
	}
	if sent[0].Key != got[0].Key+":"+i18n.MsgHelp {
		t.Errorf("message key %q, want the update's (%s)", sent[0].Key, got[0].Key)
	}
	b.waitEmpty(t, 5*time.Second)
	if !b.logged("taking over updates of an instance that stopped answering") {
		t.Errorf("the take-over is not logged:\n%s", b.logs)
	}
}

// An update handed out again and again (its workers keep dying) is given
// up on once it was handed out more than maxTries times: the user is asked
// to share again, and its handler does not run.
func TestWorkersMaxTries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		before int // times the entry was handed out again before
		gaveUp bool
	}{
		{"one try left", maxTries - 1, false},
		{"too many tries", maxTries, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			var calls atomic.Int32
			b := env.newBot(t, "b", "", "", WithClaimAfter(time.Second),
				WithOnVerified(func(context.Context, Verified) error { calls.Add(1); return nil }))
			b.enqueue(t, b.submission(t, 1001))
			// Earlier workers took the entry and died, the last one now.
			ctx := context.Background()
			q := b.Store().Queue()
			got, err := q.Read(ctx, "crashed", 10, 0, false)
			if err != nil || len(got) != 1 {
				t.Fatalf("Read: %d entries, %v", len(got), err)
			}
			for range tc.before {
				if _, err := q.Tried(ctx, got[0].ID); err != nil {
					t.Fatal(err)
				}
			}

			tr := newFakeTransport()
			b.start(t, tr)
			b.waitEmpty(t, 10*time.Second)
			msgs := tr.messages(1001)
			// Handled: "received", then the verdict edited into it.
			want := []string{i18n.MsgSubmissionReceived, i18n.MsgResultVerified}
			if tc.gaveUp {
				want = []string{i18n.MsgSubmissionFailed}
			}
			if len(msgs) != len(want) {
				t.Fatalf("the user got %+v, want %v", msgs, want)
			}
			for i, id := range want {
				if msgs[i].Text != b.text(id) {
					t.Errorf("message %d: %q, want %s", i, msgs[i].Text, id)
				}
			}
			if c := int(calls.Load()); tc.gaveUp != (c == 0) {
				t.Errorf("OnVerified called %d times (given up: %v)", c, tc.gaveUp)
			}
			if tc.gaveUp != b.logged("handed out again too often") {
				t.Errorf("given up not logged as such:\n%s", b.logs)
			}
		})
	}
}

// An update queued again under another stream ID, after a worker handled
// the first entry (a Redis failover lost that entry and its dedupe mark:
// the receiver queues the update again), has its effects once: the same
// message keys (Telegram's random_id drops the repeats), one audit event.
func TestWorkersUpdateQueuedAgain(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	b := env.newBot(t, "b", "", "")
	tr := newFakeTransport()
	b.start(t, tr)
	ctx := context.Background()
	u := b.submission(t, 1001)
	b.enqueue(t, u)
	first := tr.waitMessages(t, 1001, 1, 10*time.Second)
	b.waitEmpty(t, 10*time.Second)
	first = tr.messages(1001)
	handled := tr.editableCalls()
	// What the failover lost: the dedupe marks.
	if err := testkit.ScanAll(ctx, env.rdb, env.prefix+"{queue}:seen:", func(k string) { env.rdb.Del(ctx, k) }); err != nil {
		t.Fatal(err)
	}
	b.enqueue(t, u)
	time.Sleep(200 * time.Millisecond)
	b.waitEmpty(t, 10*time.Second)
	keys := map[string]bool{}
	for _, m := range first {
		keys[m.Key] = true
	}
	for _, m := range tr.messages(1001) {
		if !keys[m.Key] {
			t.Errorf("handling the update again sent a message under a new key %q (first: %v)", m.Key, keys)
		}
	}
	// Handled again: the "received" message was asked for again (and,
	// under the same key, not sent again), the verdict edited in again
	// (the same text: nothing changed).
	if n := tr.editableCalls(); n <= handled {
		t.Errorf("the update was not handled again (%d sends of the received message, %d before): the test proves nothing", n, handled)
	}
	if got := tr.messages(1001); len(got) != len(first) {
		t.Errorf("handling the update again changed the chat: %+v, before %+v", got, first)
	}
	verified := 0
	if err := b.Store().Audit().Events(ctx, func(e store.RecordedEvent) error {
		if e.Kind == "verified" && e.UserID == 1001 {
			verified++
		}
		return nil
	}, 1001); err != nil {
		t.Fatal(err)
	}
	if verified != 1 {
		t.Errorf("%d verified audit events, want 1", verified)
	}
}
