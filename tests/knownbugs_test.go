//go:build knownbugs

package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
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

// These end-to-end tests fail today: each shows a bug not fixed yet (see
// the issue notes). They build only with -tags knownbugs, so that CI stays
// meaningful without counting a skipped test as passing:
//
//	go test -race -tags knownbugs ./tests -run 'TestRedisDownMidFlight|TestFilesOnAnotherDC|TestDroppedConnections'

// TestRedisDownMidFlight: 20 users share at once while the bot's Redis
// hangs (SIGSTOP), then crashes (SIGKILL) and comes back from its
// append-only file. Every submission ends verified or with a clear
// message, none is left without an answer, and no user is told verified
// twice.
func TestRedisDownMidFlight(t *testing.T) {
	const n = 20
	srv := startRedisServer(t)
	client, err := store.Open(testContext(t), store.Config{Addrs: []string{srv.addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	w := newWorld(t, worldOptions{redis: client})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	users := w.users(n, "en")
	links := make([]string, n)
	for i, u := range users {
		page, _ := w.request(ctx, u, "")
		link, err := u.OpenURL(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		links[i] = link
	}

	verified := w.text("en", i18n.MsgResultVerified, nil)
	delayed := w.text("en", i18n.MsgSubmissionDelayed, nil)
	clear := map[string]bool{ // the answers that end a submission
		verified: true,
		w.text("en", i18n.MsgSubmissionFailed, nil): true,
		w.text("en", i18n.MsgErrorTryLater, nil):    true,
		w.text("en", i18n.MsgErrorInternal, nil):    true,
	}
	verdicts := make(chan int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			err := u.FillForm(ctx, links[i])
			<-sem
			if err != nil && !strings.Contains(err.Error(), "callback URL") {
				errs[i] = err // the web server may answer 503 while Redis is down
				return
			}
			if _, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return !m.Out && clear[m.Text] }); err != nil {
				errs[i] = fmt.Errorf("user %d got no verdict: %w", u.User.ID, err)
				return
			}
			verdicts <- u.User.ID
		}()
	}

	// The outage, once a few submissions are through: the server hangs,
	// then crashes, and comes back from its append-only file.
	for range 3 {
		select {
		case <-verdicts:
		case <-ctx.Done():
			t.Fatal("no submission went through before the outage")
		}
	}
	srv.signal(t, syscall.SIGSTOP)
	time.Sleep(2 * time.Second)
	srv.signal(t, syscall.SIGCONT)
	for range 2 {
		select {
		case <-verdicts:
		case <-ctx.Done():
			t.Fatal("no submission went through after the hang")
		}
	}
	srv.kill()
	time.Sleep(2 * time.Second)
	srv.start(t)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// Nothing more comes; then each user's last message is a clear
	// answer, and those told verified are verified, once.
	time.Sleep(2 * time.Second)
	events := w.auditByUser(ctx, "verified")
	var told, failed int
	for _, u := range users {
		var last string
		count := 0
		for _, m := range u.Messages() {
			if m.Out {
				continue
			}
			last = m.Text
			if m.Text == verified {
				count++
			}
		}
		switch {
		case last == delayed || !clear[last]:
			t.Errorf("user %d: the last message is %q, not a verdict: the submission was lost", u.User.ID, last)
		case last == verified:
			told++
		default:
			failed++
		}
		if count > 1 {
			t.Errorf("user %d was told verified %d times", u.User.ID, count)
		}
		st := w.status(ctx, u.User.ID)
		if count == 1 && (st.State != store.StateVerified || events[u.User.ID] != 1) {
			// The handler tells the user verified even when recording the
			// status or the audit event failed (handlers/passport.go,
			// verified: both errors are only logged).
			t.Errorf("user %d was told verified, but the status is %q and %d verified audit events were recorded", u.User.ID, st.State, events[u.User.ID])
		}
	}
	t.Logf("%d of %d verified, %d asked to share again", told, n, failed)
}

// TestFilesOnAnotherDC: the scans live on DC 4 (FILE_MIGRATE_4 on DC 2):
// the bot follows them there; the user is verified with byte-equal scans.
func TestFilesOnAnotherDC(t *testing.T) {
	// A short shutdown: with the bug below the download never ends.
	w := newWorld(t, worldOptions{sandbox: sandbox.Options{FilesDC: 4}, bot: []bot.Option{bot.WithShutdownTimeout(5 * time.Second)}})
	ctx := testContext(t)
	u := w.user("en", nil)
	page, _ := w.request(ctx, u, "")
	w.share(ctx, u, page)
	vctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	m, err := u.WaitMessage(vctx, nil)
	if err != nil {
		// BUG (bot/run.go, Run): the floodwait.Waiter middleware sends every
		// call from one loop, synchronously; FILE_MIGRATE_4 makes gotd
		// export the bot's authorization to DC 4 (auth.exportAuthorization)
		// through the same middlewares, from inside the upload.getFile the
		// loop is sending: a deadlock (gotd/td#1842, gotd/contrib#773), and
		// every other call of the bot hangs behind it.
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
func TestDroppedConnections(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	u := w.user("en", nil)
	page, _ := w.request(ctx, u, "")
	link, err := u.OpenURL(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	// Slow downloads, so that the connections drop in the middle.
	w.Sandbox.SetBandwidth(1 << 10)
	t.Cleanup(func() { w.Sandbox.SetBandwidth(0) })
	before := w.Sandbox.Calls(tg.UploadGetFileRequestTypeID)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	for w.Sandbox.Calls(tg.UploadGetFileRequestTypeID) == before {
		if ctx.Err() != nil {
			t.Fatal("the bot did not start downloading the scans")
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	if n := countKind(w.events(ctx, u.User.ID), "verified"); n != 1 {
		t.Errorf("%d verified events, want 1", n)
	}
	// And the user is told. The user's connection dropped too: a
	// Telegram app fetches what it missed (updates.getDifference).
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	m, err := u.WaitMessage(wctx, nil)
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
		// BUG (sandbox/simuser.go, SimUser.handleUpdates): a message
		// pushed while the user's connection was down reaches the user's
		// account (the difference holds it) but never the simulated app:
		// the sandbox then sends tg.UpdatesTooLong, which handleUpdates
		// drops instead of fetching updates.getDifference as an app does.
		t.Fatalf("the user's app never showed the verdict (%v); the account's last messages: %q", err, missed)
	}
	if m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("the bot said %q, want verified", m.Text)
	}
}
