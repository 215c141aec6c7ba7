package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// countKind counts the audit events of a kind about a user.
func countKind(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

// TestRestart: the bot stops after the user's submission is sent and
// starts again; the submission is processed exactly once after the
// restart.
func TestRestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	u := w.user("en", nil)
	link := w.requestLink(ctx, u)
	if err := w.StopBot(); err != nil {
		t.Fatal(err)
	}
	// The app shares while the bot is down; returning to the callback URL
	// fails since the bot's web server is down too, as on a real phone.
	if err := u.FillForm(ctx, link); err != nil && !strings.Contains(err.Error(), "callback URL") {
		t.Fatal(err)
	}
	if err := w.StartBot(ctx); err != nil {
		t.Fatal(err)
	}
	m := w.next(ctx, u)
	if m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("after the restart the bot said %q", m.Text)
	}
	// Nothing more comes: one verification, one message.
	quiet, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if extra, err := u.WaitMessage(quiet, nil); err == nil {
		t.Fatalf("a second message after the restart: %q", extra.Text)
	}
	if n := countKind(w.events(ctx, u.User.ID), "verified"); n != 1 {
		t.Fatalf("%d verified events, want exactly 1", n)
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if len(w.s.verified) != 1 {
		t.Fatalf("OnVerified ran %d times, want once", len(w.s.verified))
	}
}

// TestDuplicateUpdate: the same update delivered twice is processed once.
// The bot's saved updates state is rolled back to before the submission
// (as after a crash between processing and saving the state), so Telegram
// delivers the submission again after the restart.
func TestDuplicateUpdate(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	u := w.user("en", nil)
	page, _ := w.request(ctx, u, "")
	states := w.Bot().Store().Sessions().StateStorage()
	before, ok, err := states.GetState(ctx, w.Account.ID)
	if err != nil || !ok {
		t.Fatalf("no updates state saved for the bot: %v", err)
	}
	w.share(ctx, u, page)
	if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("first delivery: %q", m.Text)
	}
	if err := w.StopBot(); err != nil {
		t.Fatal(err)
	}
	after, _, err := states.GetState(ctx, w.Account.ID)
	if err != nil || after.Pts <= before.Pts {
		t.Fatalf("state did not advance: before %+v after %+v (%v)", before, after, err)
	}
	if err := states.SetState(ctx, w.Account.ID, before); err != nil {
		t.Fatal(err)
	}
	if err := w.StartBot(ctx); err != nil {
		t.Fatal(err)
	}
	// The bot catches up past the submission again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, _, err := states.GetState(ctx, w.Account.ID)
		if err == nil && s.Pts >= after.Pts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not catch up: pts %d, want %d", s.Pts, after.Pts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	quiet, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if extra, err := u.WaitMessage(quiet, nil); err == nil {
		t.Fatalf("the duplicate was answered: %q", extra.Text)
	}
	if n := countKind(w.events(ctx, u.User.ID), "verified"); n != 1 {
		t.Fatalf("%d verified events, want exactly 1", n)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Fatalf("status %s", st.State)
	}
}

// TestUpdatesStateOnStop: the receiver writes gotd's updates state
// behind and writes what it held back when it stops. With the changes
// held back for an hour, a verification's updates reach Redis only
// through that last write: right after a graceful stop, Redis holds at
// least the pts of the submission the bot handled (the update of the
// verdict message itself may reach the bot after the stop: Telegram sends
// it again at the next start).
func TestUpdatesStateOnStop(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{runner: runner.Options{StateFlushDelay: time.Hour}})
	ctx := testContext(t)
	st := store.New(w.Redis, store.WithPrefix(w.Config.Redis.Prefix)).Sessions().StateStorage()
	u := w.user("en", nil)
	link := w.requestLink(ctx, u)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	shared, ok := w.Sandbox.Pts(w.Account.ID) // the submission's service message is in
	if !ok {
		t.Fatal("the sandbox has no pts for the bot")
	}
	if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("the bot said %q, want verified", m.Text)
	}
	before, _, err := st.GetState(ctx, w.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Pts >= shared {
		t.Fatalf("pts %d in Redis while the bot runs, at least the submission's %d: the changes were not held back", before.Pts, shared)
	}
	if err := w.StopBot(); err != nil {
		t.Fatal(err)
	}
	after, found, err := st.GetState(ctx, w.Account.ID)
	if err != nil || !found || after.Pts < shared {
		t.Fatalf("right after the stop, the stored updates state is %+v (found %v, %v), want pts at least %d", after, found, err, shared)
	}
}
