package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
)

// TestTelegramFaults: FLOOD_WAIT on users.setSecureValueErrors and on
// messages.sendMessage changes nothing the user sees: the problems are
// still flagged and listed, the fixed submission and the next one
// verified. When Telegram never takes the marks, the chat says so and
// lists the problems itself. (Connections dropped during the download:
// TestDroppedConnections in dc_test.go.)
func TestTelegramFaults(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	p := sandbox.SampleProfile("faults-2044")
	dl := p[passport.TypeDriverLicense]
	dl.Fields["expiry_date"] = "01.01.2020"
	dl.Selfie = &sandbox.Scan{Text: "faults/selfie", Width: 200, Height: 200}
	u := w.user("en", p)
	verified := w.text("en", i18n.MsgResultVerified, nil)
	// again makes the user verifiable again (an admin's /kyc_reset) and
	// asks for a new request.
	again := func(t *testing.T) string {
		t.Helper()
		if err := w.Bot().Store().Statuses().Reset(ctx, u.User.ID, w.Config.DefaultLevelName); err != nil {
			t.Fatal(err)
		}
		if err := u.Send(ctx, w.Account.ID, "/verify"); err != nil {
			t.Fatal(err)
		}
		for {
			m := w.next(ctx, u)
			if b, ok := urlButton(m); ok {
				return b.URL
			}
		}
	}

	t.Run("flood wait on setSecureValueErrors", func(t *testing.T) {
		w := w.sub(t)
		page, _ := w.request(ctx, u, "")
		before := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID)
		w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 1, 2)
		t.Cleanup(func() { w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 0, 0) })
		link := w.share(ctx, u, page)
		m := w.next(ctx, u)
		if !strings.HasPrefix(m.Text, w.Bot().Catalog().Language("en").Plural(i18n.MsgResultFixHeader, 2, nil)) {
			t.Fatalf("the bot said %q, want the list of two problems", m.Text)
		}
		if calls := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID) - before; calls != 3 {
			t.Errorf("users.setSecureValueErrors called %d times, want 3 (two flood waits, then the call)", calls)
		}
		if errs := w.Sandbox.SecureValueErrors(u.User.ID, w.Account.ID); len(errs) != 2 {
			t.Errorf("Telegram holds %d errors, want the 2 problems", len(errs))
		}
		if ve, err := u.Errors(ctx, link); err != nil || len(ve) != 2 {
			t.Errorf("the Passport form shows %d errors (%v), want 2", len(ve), err)
		}
		retry, ok := urlButton(m)
		if !ok {
			t.Fatal("no button to try again")
		}
		if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
			el.Fields["expiry_date"] = "01.01.2035"
			el.Selfie = &sandbox.Scan{Text: "faults/selfie-2", Width: 480, Height: 480}
		}); err != nil {
			t.Fatal(err)
		}
		w.share(ctx, u, retry.URL)
		if m := w.next(ctx, u); m.Text != verified {
			t.Fatalf("after the fixes the bot said %q", m.Text)
		}
	})

	t.Run("setSecureValueErrors never goes through", func(t *testing.T) {
		w := w.sub(t)
		if err := w.Bot().Store().Statuses().Reset(ctx, u.User.ID, w.Config.DefaultLevelName); err != nil {
			t.Fatal(err)
		}
		if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
			el.Fields["expiry_date"] = "01.01.2020"
			el.Selfie = &sandbox.Scan{Text: "faults/small-selfie", Width: 200, Height: 200}
		}); err != nil {
			t.Fatal(err)
		}
		page, _ := w.request(ctx, u, "")
		// Telegram refuses every call: more flood waits than the bot's
		// attempts and gotd's waiter together make.
		w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 1, 1000)
		t.Cleanup(func() { w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 0, 0) })
		before := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID)
		link := w.share(ctx, u, page)
		m := w.next(ctx, u)
		en := w.Bot().Catalog().Language("en")
		if !strings.HasPrefix(m.Text, en.Plural(i18n.MsgResultFixUnmarked, 2, nil)) {
			t.Fatalf("the bot said %q, want the problems listed with a word that they are not marked in Telegram Passport", m.Text)
		}
		if n := strings.Count(m.Text, "\n• "); n != 2 {
			t.Errorf("the chat message lists %d problems, want the 2 itself:\n%s", n, m.Text)
		}
		if calls := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID) - before; calls < 4 {
			t.Errorf("users.setSecureValueErrors called %d times, want one per attempt at least (4)", calls)
		}
		if ve, err := u.Errors(ctx, link); err != nil || len(ve) != 0 {
			t.Errorf("the Passport form shows %d errors (%v), want none: Telegram refused them", len(ve), err)
		}
		w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 0, 0)
		retry, ok := urlButton(m)
		if !ok {
			t.Fatal("no button to try again")
		}
		if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
			el.Fields["expiry_date"] = "01.01.2035"
			el.Selfie = &sandbox.Scan{Text: "faults/selfie-3", Width: 480, Height: 480}
		}); err != nil {
			t.Fatal(err)
		}
		w.share(ctx, u, retry.URL)
		if m := w.next(ctx, u); m.Text != verified {
			t.Fatalf("after the fixes the bot said %q", m.Text)
		}
	})

	t.Run("flood wait on sendMessage", func(t *testing.T) {
		w := w.sub(t)
		page := again(t)
		// The user is done sending: from now on the bot's messages wait.
		before := w.Sandbox.Calls(tg.MessagesSendMessageRequestTypeID)
		w.Sandbox.FloodWait(tg.MessagesSendMessageRequestTypeID, 1, 2)
		t.Cleanup(func() { w.Sandbox.FloodWait(tg.MessagesSendMessageRequestTypeID, 0, 0) })
		w.share(ctx, u, page)
		if m := w.next(ctx, u); m.Text != verified {
			t.Fatalf("the bot said %q, want verified", m.Text)
		}
		if calls := w.Sandbox.Calls(tg.MessagesSendMessageRequestTypeID) - before; calls < 3 {
			t.Errorf("messages.sendMessage called %d times, want at least 3 (two flood waits, then the message)", calls)
		}
		quiet, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if extra, err := u.WaitMessage(quiet, nil); err == nil {
			t.Errorf("a second message after the flood wait: %q", extra.Text)
		}
	})

}
