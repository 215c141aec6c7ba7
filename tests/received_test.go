package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
)

// TestReceivedThenVerdict: as soon as a submission arrives the user sees
// that it was received and is being checked; that message then turns into
// the verdict (edited, not a new message). Here the selfie is blurry (out
// of focus, at a size that passes): the verdict lists it, measured blurry,
// with the button to try again, and the Passport form pins it to the
// selfie; after a sharp selfie the next submission's "received" turns
// into verified.
func TestReceivedThenVerdict(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	p := sandbox.SampleProfile("received-2049")
	p[passport.TypeDriverLicense].Selfie = &sandbox.Scan{Text: "received/selfie", Width: 480, Height: 480, Blur: 3}
	u := w.user("de", p)
	page, _ := w.request(ctx, u, "")
	link := w.share(ctx, u, page)

	de := w.Bot().Catalog().Language("de")
	fromBot := func(m sandbox.ChatMessage) bool { return !m.Out }
	received, err := u.WaitMessage(ctx, fromBot)
	if err != nil {
		t.Fatal(err)
	}
	if received.Edited || received.Text != de.Text(i18n.MsgSubmissionReceived, nil) {
		t.Fatalf("first answer to the submission: %+v, want the received message %q", received, de.Text(i18n.MsgSubmissionReceived, nil))
	}
	verdict, err := u.WaitMessage(ctx, fromBot)
	if err != nil {
		t.Fatal(err)
	}
	blurry := de.Problem("image_blurry", string(passport.TypeDriverLicense), "selfie", nil)
	if !verdict.Edited || verdict.ID != received.ID {
		t.Fatalf("the verdict came as %+v, want an edit of the received message %d", verdict, received.ID)
	}
	if !strings.HasPrefix(verdict.Text, de.Plural(i18n.MsgResultFixHeader, 1, nil)) || !strings.Contains(verdict.Text, blurry) {
		t.Errorf("the verdict %q does not list the blurry selfie %q", verdict.Text, blurry)
	}
	retry, ok := urlButton(verdict)
	if !ok {
		t.Fatalf("the edited verdict has no button to try again: %+v", verdict)
	}
	errs, err := u.Errors(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Type != passport.TypeDriverLicense || errs[0].Target != "selfie" || errs[0].Text != blurry {
		t.Errorf("Passport errors %+v: want one, the selfie's %q", errs, blurry)
	}
	quietly(t, ctx, u)

	// Fixed: a sharp selfie; the second submission's own "received"
	// message turns into verified.
	if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
		el.Selfie = &sandbox.Scan{Text: "received/selfie-2", Width: 480, Height: 480}
	}); err != nil {
		t.Fatal(err)
	}
	w.share(ctx, u, retry.URL)
	second, err := u.WaitMessage(ctx, fromBot)
	if err != nil {
		t.Fatal(err)
	}
	if second.Edited || second.ID == received.ID || second.Text != de.Text(i18n.MsgSubmissionReceived, nil) {
		t.Fatalf("first answer to the second submission: %+v, want a new received message", second)
	}
	final, err := u.WaitMessage(ctx, fromBot)
	if err != nil {
		t.Fatal(err)
	}
	if !final.Edited || final.ID != second.ID || final.Text != de.Text(i18n.MsgResultVerified, nil) {
		t.Fatalf("the verdict came as %+v, want verified edited into message %d", final, second.ID)
	}
	quietly(t, ctx, u)
}

// quietly fails the test when the bot says anything more within a
// second.
func quietly(t *testing.T, ctx context.Context, u *sandbox.SimUser) {
	t.Helper()
	quiet, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if extra, err := u.WaitMessage(quiet, func(m sandbox.ChatMessage) bool { return !m.Out }); err == nil {
		t.Errorf("a message after the verdict: %+v", extra)
	}
}
