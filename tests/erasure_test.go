package tests

import (
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestErasureCutShort: an erasure the process did not finish is finished
// by the bot's sweep once it is a minute old, and the business still
// learns of it, once: one cut short after the data was erased (the
// process died before queueing the event), one cut short before anything
// was erased (its data is erased then). An erasure that finished leaves
// nothing for the sweep.
func TestErasureCutShort(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	clk := testkit.NewClock(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	rcv := newReceiver(t, clk.Now)
	w := newWorld(t, worldOptions{clock: clk, bot: []bot.Option{bot.WithValiditySweep(50 * time.Millisecond)},
		configYAML: webhookConfig(rcv.srv.URL)})
	st := w.Bot().Store()

	erased, untouched := w.user("en", nil), w.user("en", nil)
	w.verifyUser(ctx, erased, "crm-1")
	w.verifyUser(ctx, untouched, "crm-2")
	rcv.wait(t, ctx, "both verified events", func() bool {
		return rcv.eventOfLocked(erased.User.ID, delivery.KindVerified) != "" &&
			rcv.eventOfLocked(untouched.User.ID, delivery.KindVerified) != ""
	}, nil)

	// The first: erasure begun, data erased, then the process died.
	if _, err := st.Erasures().Begin(ctx, erased.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteUser(ctx, erased.User.ID); err != nil {
		t.Fatal(err)
	}
	// The second: erasure begun, then the process died.
	if _, err := st.Erasures().Begin(ctx, untouched.User.ID); err != nil {
		t.Fatal(err)
	}
	// Within the minute an erasure may take, the sweep leaves both alone.
	time.Sleep(500 * time.Millisecond) // ten sweeps
	if id := rcv.eventOf(erased.User.ID, delivery.KindErased); id != "" {
		t.Fatalf("an erasure under way was reported (%s) before it was a minute old", id)
	}
	if s := w.status(ctx, untouched.User.ID); s.State != store.StateVerified {
		t.Fatalf("an erasure under way was taken over before it was a minute old: status %+v", s)
	}

	clk.Advance(2 * time.Minute)
	rcv.wait(t, ctx, "the erased events", func() bool {
		return rcv.eventOfLocked(erased.User.ID, delivery.KindErased) != "" &&
			rcv.eventOfLocked(untouched.User.ID, delivery.KindErased) != ""
	}, nil)
	if s := w.status(ctx, untouched.User.ID); s.State != store.StateNone {
		t.Errorf("the erasure cut short before anything was erased left the status %+v", s)
	}
	if open, err := st.Erasures().Stale(ctx, clk.Now().Add(time.Hour), 10); err != nil || len(open) != 0 {
		t.Errorf("erasures still open after the sweep: %+v, %v", open, err)
	}
	for _, u := range []int64{erased.User.ID, untouched.User.ID} {
		rcv.quiet(t, rcv.eventOf(u, delivery.KindErased))
		if _, ok := rcv.counts(rcv.eventOf(u, delivery.KindErased)); ok != 1 {
			t.Errorf("user %d: the erased event was delivered %d times, want once", u, ok)
		}
	}
}
