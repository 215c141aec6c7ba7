package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Two instances work one queue: every update is handled once, by one of
// them, and leaves the queue.
func TestWorkersHandleOnce(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	a, b := env.newBot(t, "a", "", ""), env.newBot(t, "b", "", "")
	ta, tb := newFakeTransport(), newFakeTransport()
	a.start(t, ta)
	b.start(t, tb)
	const n = 40
	for i := range n {
		a.enqueue(t, textUpdate(int64(2000+i), "/help"))
	}
	a.waitEmpty(t, 20*time.Second)
	keys := map[string]int{}
	for _, m := range append(ta.messages(0), tb.messages(0)...) {
		if !strings.HasPrefix(m.Text, a.text(i18n.MsgHelp)) {
			t.Errorf("message %q to %d, want the help", m.Text, m.To)
		}
		keys[m.Key]++
	}
	users := map[int64]int{}
	for _, m := range append(ta.messages(0), tb.messages(0)...) {
		users[m.To]++
	}
	if len(users) != n {
		t.Errorf("%d users answered, want %d", len(users), n)
	}
	for user, c := range users {
		if c != 1 {
			t.Errorf("user %d answered %d times", user, c)
		}
	}
	for k, c := range keys {
		if k == "" || c != 1 {
			t.Errorf("message key %q sent %d times", k, c)
		}
	}
	if p := env.pending(t); len(p) != 0 {
		t.Errorf("entries still pending: %+v", p)
	}
}

// An update whose handler takes several claim times stays with its
// instance, which touches it: the other instances do not take it.
func TestWorkersTouchKeepsEntry(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	const claimAfter = 1500 * time.Millisecond
	a := env.newBot(t, "a", "", "", WithClaimAfter(claimAfter))
	b := env.newBot(t, "b", "", "", WithClaimAfter(claimAfter))
	ta, tb := newFakeTransport(), newFakeTransport()
	started := make(chan struct{})
	var once sync.Once
	ta.send = func(ctx context.Context, _ handlers.User, _ handlers.Message) error {
		once.Do(func() { close(started) })
		select {
		case <-time.After(3 * claimAfter):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.start(t, ta)
	a.enqueue(t, textUpdate(1001, "/help"))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the update was not handled")
	}
	b.start(t, tb) // b claims every 750 ms what was idle for 1.5 s
	ta.waitMessages(t, 1001, 1, 4*claimAfter)
	a.waitEmpty(t, 5*time.Second)
	if got := tb.messages(0); len(got) != 0 {
		t.Errorf("the other instance took the update being handled: %+v", got)
	}
	if n := len(ta.messages(1001)); n != 1 {
		t.Errorf("the update was answered %d times", n)
	}
	if a.logged("another instance took over") || b.logged("taking over updates") {
		t.Errorf("an update was taken over:\na:\n%s\nb:\n%s", a.logs, b.logs)
	}
}

// A submission that cannot be handled now (ErrRetryLater) is retried
// within WithRetry; the user is told once that it takes longer, and asked
// to share again when the workers give up.
func TestWorkersRetryThenGiveUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		failures  int // OnVerified fails this many times with ErrRetryLater (-1: always)
		wantCalls func(int) bool
		want      []string // the messages and edits (of "received"), in order
		gaveUp    bool
	}{
		{name: "handled at once", failures: 0, wantCalls: func(n int) bool { return n == 1 },
			want: []string{i18n.MsgSubmissionReceived, i18n.MsgResultVerified}},
		{name: "handled on a retry", failures: 2, wantCalls: func(n int) bool { return n == 3 },
			want: []string{i18n.MsgSubmissionReceived, i18n.MsgSubmissionDelayed, i18n.MsgResultVerified}},
		{name: "given up", failures: -1, wantCalls: func(n int) bool { return n >= 3 },
			want: []string{i18n.MsgSubmissionReceived, i18n.MsgSubmissionDelayed, i18n.MsgSubmissionFailed}, gaveUp: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			var calls atomic.Int32
			hook := func(ctx context.Context, v Verified) error {
				if n := int(calls.Add(1)); tc.failures < 0 || n <= tc.failures {
					return fmt.Errorf("the CRM is down: %w", handlers.ErrRetryLater)
				}
				return nil
			}
			// Pauses of 100, 200, 400 and 800 ms: four attempts within
			// 1.2 s, the fifth would come too late.
			b := env.newBot(t, "a", "", "", WithOnVerified(hook), WithRetry(1200*time.Millisecond, 100*time.Millisecond))
			tr := newFakeTransport()
			sub := b.submission(t, 1001)
			b.enqueue(t, sub)
			b.start(t, tr)
			b.waitEmpty(t, 15*time.Second)
			got := tr.messages(1001)
			var texts []string
			for _, m := range got {
				texts = append(texts, m.Text)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("the user got %q, want %q", texts, tc.want)
			}
			for i, id := range tc.want {
				if got[i].Text != b.text(id) {
					t.Errorf("message %d: %q, want %s: %q", i, got[i].Text, id, b.text(id))
				}
			}
			if n := int(calls.Load()); !tc.wantCalls(n) {
				t.Errorf("OnVerified called %d times", n)
			}
			if tc.gaveUp != b.logged("gave up on an update that could not be handled in time") {
				t.Errorf("gave up: %v, want %v:\n%s", !tc.gaveUp, tc.gaveUp, b.logs)
			}
			// Given up, it stays given up: nothing more happens.
			n := calls.Load()
			time.Sleep(300 * time.Millisecond)
			if calls.Load() != n || len(tr.messages(1001)) != len(got) {
				t.Error("the update was handled again after it left the queue")
			}
			st, err := b.Store().Statuses().Get(context.Background(), 1001, "basic")
			if err != nil {
				t.Fatal(err)
			}
			if wantVerified := !tc.gaveUp; (st.State == store.StateVerified) != wantVerified {
				t.Errorf("status %q, verified wanted: %v", st.State, wantVerified)
			}
		})
	}
}

// An entry that does not read as an update is dropped (logged), not
// handed out forever.
func TestWorkersDropUnreadable(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	b := env.newBot(t, "a", "", "")
	if _, err := b.Store().Queue().Append(context.Background(), store.QueueItem{Key: "junk", UserID: 1001, Payload: []byte(`{"kind":"photo"}`), Keep: time.Minute}); err != nil {
		t.Fatal(err)
	}
	tr := newFakeTransport()
	b.start(t, tr)
	b.waitEmpty(t, 10*time.Second)
	if !b.logged("a queued update cannot be read; dropped") {
		t.Errorf("not logged:\n%s", b.logs)
	}
	if got := tr.messages(0); len(got) != 0 {
		t.Errorf("sent %+v", got)
	}
}
