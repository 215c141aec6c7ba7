package tests

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// TestShutdownMidSubmission: the bot is asked to stop while it downloads
// a user's scans, and the download outlasts the shutdown timeout, so the
// submission is cut short: it stays in the queue, handed over. After a
// restart the instance resumes it at once and finishes it: the user gets
// exactly one verdict, one verified audit event is recorded and
// OnVerified runs once; the message the user sent after sharing, already
// answered before the stop, is not answered twice.
func TestShutdownMidSubmission(t *testing.T) {
	t.Parallel()
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
	if !strings.Contains(w.logs.String(), "unfinished updates handed over") {
		t.Error("the logs do not tell that the unfinished submission was handed over")
	}
	w.Sandbox.SetBandwidth(0)
	if err := w.StartBot(ctx); err != nil {
		t.Fatal(err)
	}

	verified := w.text("en", i18n.MsgResultVerified, nil)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := u.WaitMessage(wctx, w.notReceived)
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

	w.verifiedOnce(ctx, u, verified, help)
}

// TestShutdownMidSubmissionOtherInstance: a rolling deploy. Instance A
// alone receives a submission and downloads its scans slowly; instance B
// starts; A is stopped and its shutdown timeout cuts the submission
// short. B takes the receiver's lease and answers another user, and takes
// the submission over from the queue, where A handed it over, and
// finishes it: the user gets exactly one verdict, one verified audit
// event is recorded and OnVerified runs once.
func TestShutdownMidSubmissionOtherInstance(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{bot: []bot.Option{bot.WithShutdownTimeout(time.Second), bot.WithClaimAfter(time.Second)}})
	ctx := testContext(t)
	u := w.user("en", nil)
	link := w.requestLink(ctx, u)
	// At 1 KiB/s the scans take far longer than the shutdown timeout.
	w.shareSlowly(ctx, u, link, 1<<10)
	verified := w.text("en", i18n.MsgResultVerified, nil)

	if _, err := w.StartInstance(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	// A stops; the download is cut short.
	if err := w.StopBot(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	w.Sandbox.SetBandwidth(0)
	// B receives now: it answers another user.
	other := w.user("en", nil)
	if _, err := other.Start(ctx, w.Account.Username, ""); err != nil {
		t.Fatal(err)
	}
	w.next(ctx, other)
	if err := other.Send(ctx, w.Account.ID, "/help"); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := u.WaitMessage(wctx, w.notReceived)
	if err != nil {
		t.Fatalf("no verdict from the other instance: the submission was lost (%v)", err)
	}
	if m.Text != verified {
		t.Fatalf("the other instance said %q", m.Text)
	}
	if !strings.Contains(w.logs.String(), "taking over updates of an instance that stopped answering") {
		t.Error("the logs do not tell that the submission was taken over")
	}
	// Nothing more comes.
	quiet, cancelQuiet := context.WithTimeout(ctx, 3*time.Second)
	defer cancelQuiet()
	if extra, err := u.WaitMessage(quiet, nil); err == nil {
		t.Fatalf("a message after the verdict: %q", extra.Text)
	}

	w.verifiedOnce(ctx, u, verified)
}

// verifiedOnce checks that u was verified exactly once: no message of
// the bot came twice, each of once (the verdict among them) came once,
// the status is verified, one verified audit event, one OnVerified call.
// (The texts are the caller's: the world's bot may be stopped.)
func (w *world) verifiedOnce(ctx context.Context, u *sandbox.SimUser, once ...string) {
	t := w.t
	t.Helper()
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
	for _, text := range once {
		if seen[text] != 1 {
			t.Errorf("%q came %d times, want once", text, seen[text])
		}
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
