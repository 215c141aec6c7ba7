package tests

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// TestShutdownMidSubmission: the bot is asked to stop while it downloads
// a user's scans, and the download outlasts the shutdown timeout, so the
// submission is cut short. After a restart the submission is processed
// again and finished: the user gets exactly one verdict, one verified
// audit event is recorded and OnVerified runs once; the message the user
// sent after sharing, already answered before the stop, is delivered
// again with the submission but not answered twice.
func TestShutdownMidSubmission(t *testing.T) {
	w := newWorld(t, worldOptions{bot: []bot.Option{bot.WithShutdownTimeout(time.Second)}})
	ctx := testContext(t)
	u := w.user("en", nil)
	link := w.requestLink(ctx, u)
	// At 1 KiB/s the scans take far longer than the shutdown timeout.
	w.shareSlowly(ctx, u, link, 1<<10)
	if err := u.Send(ctx, w.Account.ID, "/help"); err != nil {
		t.Fatal(err)
	}
	help := w.next(ctx, u).Text

	// The shutdown cuts the download short: Run reports the aborted work.
	if err := w.StopBot(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if !strings.Contains(w.logs.String(), "processed again after a restart") {
		t.Error("the logs do not tell that the updates state was rolled back")
	}
	w.Sandbox.SetBandwidth(0)
	if err := w.StartBot(ctx); err != nil {
		t.Fatal(err)
	}

	verified := w.text("en", i18n.MsgResultVerified, nil)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := u.WaitMessage(wctx, nil)
	if err != nil {
		t.Fatalf("no verdict after the restart: the submission was lost (%v)", err)
	}
	if m.Text != verified {
		t.Fatalf("after the restart the bot said %q", m.Text)
	}
	// Nothing more comes.
	quiet, cancelQuiet := context.WithTimeout(ctx, 3*time.Second)
	defer cancelQuiet()
	if extra, err := u.WaitMessage(quiet, nil); err == nil {
		t.Fatalf("a message after the verdict: %q", extra.Text)
	}

	if !strings.Contains(w.logs.String(), "update already handled") {
		t.Error("the message sent after the submission was not delivered again: the rollback did not reach it")
	}

	seen := map[string]int{}
	for _, m := range u.Messages() {
		if !m.Out {
			seen[m.Text]++
		}
	}
	for text, n := range seen {
		if n > 1 {
			t.Errorf("the bot sent %q %d times", text, n)
		}
	}
	if seen[help] != 1 || seen[verified] != 1 {
		t.Errorf("the answer to /help came %d times and the verdict %d times, want once each", seen[help], seen[verified])
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Errorf("status %s, want verified", st.State)
	}
	kinds := w.events(ctx, u.User.ID)
	if n := countKind(kinds, "verified"); n != 1 {
		t.Errorf("%d verified audit events, want exactly 1 (events %v)", n, kinds)
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if len(w.s.verified) != 1 {
		t.Errorf("OnVerified ran %d times, want once", len(w.s.verified))
	}
}
