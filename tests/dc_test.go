package tests

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// TestFilesOnAnotherDC: the scans live on DC 4 (FILE_MIGRATE_4 on DC 2):
// the bot follows them there; the user is verified with byte-equal scans.
//
// This used to hang: gotd/contrib's floodwait.Waiter sent every call from
// one loop, and the auth.exportAuthorization gotd makes for FILE_MIGRATE_4
// went through it from inside the upload.getFile the loop was sending
// (gotd/td#1842, gotd/contrib#773). bot.Run now waits out FLOOD_WAIT in
// the calling goroutine.
func TestFilesOnAnotherDC(t *testing.T) {
	t.Parallel()
	// A short shutdown, so that a hanging download fails fast.
	w := newWorld(t, worldOptions{sandbox: sandbox.Options{FilesDC: 4}, bot: []bot.Option{bot.WithShutdownTimeout(5 * time.Second)}})
	ctx := testContext(t)
	u := w.user("en", nil)
	page, _ := w.request(ctx, u, "")
	w.share(ctx, u, page)
	vctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	m, err := u.WaitMessage(vctx, w.notReceived)
	if err != nil {
		t.Fatalf("no verdict within 45s: the download from DC 4 hangs (%v)", err)
	}
	if m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("the bot said %q, want verified", m.Text)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Fatalf("status %s", st.State)
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if len(w.s.verified) != 1 {
		t.Fatalf("OnVerified ran %d times", len(w.s.verified))
	}
	dl := u.Profile()[passport.TypeDriverLicense]
	for kind, scan := range map[passport.TargetKind]*sandbox.Scan{
		passport.TargetFrontSide: dl.FrontSide, passport.TargetReverseSide: dl.ReverseSide, passport.TargetSelfie: dl.Selfie,
	} {
		key := verify.ScanKey{Element: passport.TypeDriverLicense, Target: passport.TargetOf(kind)}
		if got := w.s.verified[0].files[key]; !bytes.Equal(got, scanBytes(t, scan)) {
			t.Errorf("the %s delivered (%d bytes) differs from the one uploaded to DC 4", key.Target, len(got))
		}
	}
}

// TestDroppedConnections: every connection to DC 2 drops while the bot
// downloads the scans; the bot gets through (verified, once), and the
// user is told.
//
// This used to fail now and then: the verdict pushed while the user's
// connection was down reached the account but not the simulated app,
// which dropped the updatesTooLong that followed instead of fetching
// updates.getDifference. sandbox.SimUser now fetches the difference.
func TestDroppedConnections(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	u := w.user("en", nil)
	link := w.requestLink(ctx, u)
	w.shareSlowly(ctx, u, link, 1<<10) // so that the connections drop in the middle
	if n := w.Sandbox.DropConnections(sandbox.MainDC); n == 0 {
		t.Fatal("no connection to drop")
	}
	w.Sandbox.SetBandwidth(0)
	// The bot gets through: the submission is verified, once.
	for w.status(ctx, u.User.ID).State != store.StateVerified {
		if ctx.Err() != nil {
			t.Fatal("the submission was not verified after the connections dropped")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And the user is told. The user's connection dropped too: a
	// Telegram app fetches what it missed (updates.getDifference).
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	m, err := u.WaitMessage(wctx, w.notReceived)
	if err != nil {
		var missed []string
		if st, err := u.API().UpdatesGetState(ctx); err == nil {
			d, err := u.API().UpdatesGetDifference(ctx, &tg.UpdatesGetDifferenceRequest{Pts: st.Pts - 2, Date: st.Date})
			if d, ok := d.(*tg.UpdatesDifference); ok && err == nil {
				for _, msg := range d.NewMessages {
					if msg, ok := msg.(*tg.Message); ok && !msg.Out {
						missed = append(missed, msg.Message)
					}
				}
			}
		}
		t.Fatalf("the user's app never showed the verdict (%v); the account's last messages: %q", err, missed)
	}
	verified := w.text("en", i18n.MsgResultVerified, nil)
	if m.Text != verified {
		t.Fatalf("the bot said %q, want verified", m.Text)
	}
	// The audit event is recorded after the status and before the
	// verdict is sent: count it now.
	if n := countKind(w.events(ctx, u.User.ID), "verified"); n != 1 {
		t.Errorf("%d verified events, want 1", n)
	}
	// Once: a message both pushed and fetched shows once.
	time.Sleep(500 * time.Millisecond)
	count := 0
	for _, m := range u.Messages() {
		if !m.Out && m.Text == verified { // the verdict is edited into "received"
			count++
		}
	}
	if count != 1 {
		t.Errorf("the app shows the verdict %d times", count)
	}
}
