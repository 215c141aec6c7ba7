package tests

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// badgeOf returns the verification badge viewer sees on u's profile
// (users.getFullUser), and whether there is one.
func badgeOf(ctx context.Context, t testing.TB, viewer, u *sandbox.SimUser) (tg.BotVerification, bool) {
	t.Helper()
	full, err := viewer.API().UsersGetFullUser(ctx, &tg.InputUser{UserID: u.User.ID, AccessHash: u.User.AccessHash})
	if err != nil {
		t.Fatalf("users.getFullUser: %v", err)
	}
	return full.FullUser.GetBotVerification()
}

// waitText waits for a message from the bot that starts with prefix.
func waitText(ctx context.Context, t testing.TB, u *sandbox.SimUser, prefix string) sandbox.ChatMessage {
	t.Helper()
	m, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return !m.Out && strings.HasPrefix(m.Text, prefix) })
	if err != nil {
		t.Fatalf("no message starting %q: %v", prefix, err)
	}
	return m
}

// TestBadgeRevoke, on both transports (the bot on MTProto, and the bot on
// the Bot API through the sandbox's Bot API front: verifyUser and
// removeUserVerification): with the badge on and the bot approved as a
// verifier, a verified user carries the bot's badge, which another user
// sees in users.getFullUser; an admin revokes the verification with
// /kyc_revoke: the status is revoked, the badge is gone, the user is
// told, the admin is answered, the revocation is audited, and the
// business gets the verified then the revoked event, once each, in that
// order.
func TestBadgeRevoke(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, transport string }{
		{"mtproto", config.TransportMTProto},
		{"botapi", config.TransportBotAPI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testBadgeRevoke(t, tc.transport)
		})
	}
}

func testBadgeRevoke(t *testing.T, transport string) {
	clk := &testkit.Clock{}
	rcv := newReceiver(t, clk.Now)
	yml := strings.Replace(webhookConfig(rcv.srv.URL), "\ntelegram:\n", "\ntelegram:\n  transport: "+transport+"\n", 1)
	w := newWorld(t, worldOptions{clock: clk, configYAML: yml + "badge:\n  enabled: true\n"})
	if w.Config.Telegram.Transport != transport {
		t.Fatalf("the bot runs on transport %q, want %q", w.Config.Telegram.Transport, transport)
	}
	ctx := testContext(t)
	if err := w.Sandbox.SetBotVerifier(w.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	admin := w.admin(ctx)
	u := w.user("en", nil)
	other := w.user("de", nil)
	if _, ok := badgeOf(ctx, t, other, u); ok {
		t.Fatal("a badge before any verification")
	}
	w.verifyUser(ctx, u, "crm-badge")
	b, ok := badgeOf(ctx, t, other, u)
	if !ok || b.BotID != w.Account.ID {
		t.Fatalf("after the verification another user sees badge %+v (set: %v), want the bot's", b, ok)
	}
	until := w.Bot().Catalog().Language("en").Date(time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC))
	want := w.text("en", i18n.MsgBadgeDescription, map[string]any{"Level": levelTitle(w), "Until": until})
	if b.Description != want {
		t.Errorf("badge description %q, want %q", b.Description, want)
	}
	rcv.wait(t, ctx, "the verified event", func() bool { return rcv.ok[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] > 0 }, nil)

	uid := strconv.FormatInt(u.User.ID, 10)
	for _, bad := range []string{"/kyc_revoke " + uid, "/kyc_revoke " + uid + " not a code"} {
		if err := admin.Send(ctx, w.Account.ID, bad); err != nil {
			t.Fatal(err)
		}
		waitText(ctx, t, admin, w.text("en", i18n.MsgAdminUsageRevoke, nil)[:20])
	}
	if err := admin.Send(ctx, w.Account.ID, "/kyc_revoke "+uid+" document_stolen"); err != nil {
		t.Fatal(err)
	}
	done := waitText(ctx, t, admin, "Done: the verification of user "+uid)
	if !strings.Contains(done.Text, "document_stolen") || !strings.Contains(done.Text, "The user was told") {
		t.Errorf("the admin's answer %q names no reason or does not say the user was told", done.Text)
	}
	notice := w.text("en", i18n.MsgRevokedNotice, map[string]any{"Level": levelTitle(w)})
	waitText(ctx, t, u, notice)
	if st := w.status(ctx, u.User.ID); st.State != store.StateRevoked || !slices.Equal(st.Codes, []string{"document_stolen"}) {
		t.Errorf("status after /kyc_revoke: %s %v, want revoked [document_stolen]", st.State, st.Codes)
	}
	if b, ok := badgeOf(ctx, t, other, u); ok {
		t.Errorf("after the revocation another user still sees badge %+v", b)
	}
	// The badge went through the transport the bot runs on.
	for _, method := range []string{"verifyUser", "removeUserVerification"} {
		if n := w.BotAPI.Calls(method); (n > 0) != (transport == config.TransportBotAPI) {
			t.Errorf("the bot on %s called the Bot API's %s %d times", transport, method, n)
		}
	}
	rcv.wait(t, ctx, "the revoked event", func() bool { return rcv.ok[rcv.eventOfLocked(u.User.ID, "verification.revoked")] > 0 }, nil)
	kinds := []string{delivery.KindVerified, "verification.revoked"}
	ids := make([]string, len(kinds))
	for i, kind := range kinds {
		ids[i] = rcv.eventOf(u.User.ID, kind)
		rcv.quiet(t, ids[i])
		if a, ok := rcv.counts(ids[i]); a != 1 || ok != 1 {
			t.Errorf("event %s delivered %d times (%d ok), want once", kind, a, ok)
		}
	}
	rcv.mu.Lock()
	arrived := slices.DeleteFunc(slices.Clone(rcv.arrived), func(id string) bool { return !slices.Contains(ids, id) })
	rcv.mu.Unlock()
	if !slices.Equal(arrived, ids) {
		t.Errorf("the user's events arrived as %v, want %v (%v)", arrived, ids, kinds)
	}
	if kinds := w.events(ctx, u.User.ID); !slices.Contains(kinds, "admin_revoke") {
		t.Errorf("audit events %v lack admin_revoke", kinds)
	}
	// /status says so.
	if err := u.Send(ctx, w.Account.ID, "/status"); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, u, strings.SplitN(w.text("en", i18n.MsgStatusRevoked, map[string]any{"Since": "X"}), "X", 2)[0])
}

// TestBadgeForbidden: a bot Telegram has not approved as a verifier is
// refused (BOT_VERIFIER_FORBIDDEN): the verifications still complete, no
// badge is shown, and the admins are told once, however many users verify.
func TestBadgeForbidden(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{configYAML: testConfigWith("badge:\n  enabled: true\n")})
	ctx := testContext(t)
	admin := w.admin(ctx)
	alarm := w.text("en", i18n.MsgAdminBadgeForbidden, nil)
	users := []*sandbox.SimUser{w.user("en", nil), w.user("en", nil)}
	for _, u := range users {
		w.verifyUser(ctx, u, "")
		if b, ok := badgeOf(ctx, t, users[0], u); ok && u != users[0] {
			t.Errorf("a badge %+v from a bot that is not a verifier", b)
		}
		if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
			t.Errorf("status %s, want verified", st.State)
		}
	}
	waitText(ctx, t, admin, alarm[:30])
	// Both verifications' notices reached the admin: the alarm came once.
	for range users {
		waitText(ctx, t, admin, strings.SplitN(w.text("en", i18n.MsgAdminVerified, map[string]any{"User": "X", "Level": "Y"}), "X", 2)[0])
	}
	n := 0
	for _, m := range admin.Messages() {
		if m.Text == alarm {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the admin was told %d times that the bot is not a verifier, want once", n)
	}
}

// TestExpiry: a verification valid until the identity document expires
// (01.01.2035 in the sample profile) is reminded 30 and 7 days before, once
// each, with two instances sweeping and one of them restarted in between,
// and then expires: status expired, the badge gone, the business told once
// (verification.expired), the user told with a one-tap button that issues
// a new request.
func TestExpiry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	clk := testkit.NewClock(time.Date(2034, 11, 1, 12, 0, 0, 0, time.UTC))
	sweep := bot.WithValiditySweep(50 * time.Millisecond)
	rcv := newReceiver(t, clk.Now)
	w := newWorld(t, worldOptions{clock: clk, bot: []bot.Option{sweep},
		configYAML: webhookConfig(rcv.srv.URL) + "badge:\n  enabled: true\nreverification:\n  remind_days: [30, 7]\n"})
	if err := w.Sandbox.SetBotVerifier(w.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	second, err := w.StartInstance(ctx, "kyc-second", sweep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	u, other := badgedUser(ctx, t, w)
	end := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	if st := w.status(ctx, u.User.ID); !st.ValidUntil.Equal(end) {
		t.Fatalf("valid until %v, want the document's expiry %v", st.ValidUntil, end)
	}
	reminder := reminderText(w, end)
	reminders := func() int {
		n := 0
		for _, m := range u.Messages() {
			if m.Text == reminder {
				n++
			}
		}
		return n
	}
	settle := func() { time.Sleep(time.Second) } // several sweeps of both instances
	settle()
	if n := reminders(); n != 0 {
		t.Fatalf("%d reminders 61 days before the end", n)
	}
	clk.Set(end.Add(-29 * 24 * time.Hour))
	waitText(ctx, t, u, reminder)
	settle()
	if n := reminders(); n != 1 {
		t.Fatalf("%d reminders 29 days before the end, want 1", n)
	}
	// The second instance stops; the first sends the next reminder; the
	// second starts again and sweeps beside it.
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	clk.Set(end.Add(-6 * 24 * time.Hour))
	waitForCount(ctx, t, reminders, 2)
	second, err = w.StartInstance(ctx, "kyc-second", sweep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	settle()
	if n := reminders(); n != 2 {
		t.Fatalf("%d reminders 6 days before the end, want 2 (30 and 7 days, once each)", n)
	}
	clk.Set(end.Add(time.Hour))
	expired := waitText(ctx, t, u, w.text("en", i18n.MsgExpiredNotice, map[string]any{"Level": levelTitle(w)}))
	if st := w.status(ctx, u.User.ID); st.State != store.StateExpired {
		t.Errorf("status %s after the end, want expired", st.State)
	}
	if b, ok := badgeOf(ctx, t, other, u); ok {
		t.Errorf("after the expiry the badge %+v is still shown", b)
	}
	// The business is told once, with two instances sweeping.
	rcv.wait(t, ctx, "the expired event", func() bool { return rcv.ok[rcv.eventOfLocked(u.User.ID, delivery.KindExpired)] > 0 }, nil)
	id := rcv.eventOf(u.User.ID, delivery.KindExpired)
	rcv.quiet(t, id)
	if a, ok := rcv.counts(id); a != 1 || ok != 1 {
		t.Errorf("the expired event delivered %d times (%d ok), want once", a, ok)
	}
	if len(expired.Buttons) != 1 || len(expired.Buttons[0]) != 1 {
		t.Fatalf("the expiry notice has buttons %+v, want the re-verification button", expired.Buttons)
	}
	if _, err := u.Press(ctx, expired, expired.Buttons[0][0]); err != nil {
		t.Fatal(err)
	}
	if _, err := u.WaitMessage(ctx, hasURLButton); err != nil {
		t.Fatalf("no new request after the re-verification button: %v", err)
	}
}

// TestBadgeFollowsReverification: a verified user carrying the badge taps
// the reminder's button before the end and shares again, with a driving
// licence that has expired since: the outcome (needs fixes) replaces the
// verified status, and the badge, which told everyone the user is
// verified, comes off with it.
func TestBadgeFollowsReverification(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	clk := testkit.NewClock(time.Date(2034, 11, 1, 12, 0, 0, 0, time.UTC))
	w := newWorld(t, worldOptions{clock: clk, bot: []bot.Option{bot.WithValiditySweep(50 * time.Millisecond)},
		configYAML: testConfigWith("badge:\n  enabled: true\nreverification:\n  remind_days: [30]\n")})
	if err := w.Sandbox.SetBotVerifier(w.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	u, other := badgedUser(ctx, t, w)
	end := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(end.Add(-29 * 24 * time.Hour))
	reminder := waitText(ctx, t, u, reminderText(w, end))
	if len(reminder.Buttons) != 1 || len(reminder.Buttons[0]) != 1 {
		t.Fatalf("the reminder has buttons %+v, want the re-verification button", reminder.Buttons)
	}
	if _, err := u.Press(ctx, reminder, reminder.Buttons[0][0]); err != nil {
		t.Fatal(err)
	}
	m, err := u.WaitMessage(ctx, hasURLButton)
	if err != nil {
		t.Fatalf("no new request after the re-verification button: %v", err)
	}
	page, _ := urlButton(m)
	if err := u.Fix(ctx, passport.TypeDriverLicense, func(e *sandbox.ProfileElement) { e.Fields["expiry_date"] = "01.01.2020" }); err != nil {
		t.Fatal(err)
	}
	w.share(ctx, u, page.URL)
	if m := w.next(ctx, u); !strings.HasPrefix(m.Text, firstLine(w.Bot().Catalog().Language("en").Plural(i18n.MsgResultFixHeader, 1, nil))) {
		t.Fatalf("the bot said %q, want the list of problems to fix", m.Text)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateNeedsFixes {
		t.Fatalf("status %s after the second submission, want needs_fixes", st.State)
	}
	if b, ok := badgeOf(ctx, t, other, u); ok {
		t.Errorf("the status is needs_fixes and another user still sees the badge %+v", b)
	}
}

// badgedUser verifies a new user (in English) with the bot approved as a
// verifier and returns them with another user, who sees their badge.
func badgedUser(ctx context.Context, t *testing.T, w *world) (u, other *sandbox.SimUser) {
	t.Helper()
	u, other = w.user("en", nil), w.user("en", nil)
	w.verifyUser(ctx, u, "")
	if _, ok := badgeOf(ctx, t, other, u); !ok {
		t.Fatal("no badge after the verification")
	}
	return u, other
}

// reminderText is the English reminder of a verification ending at end.
func reminderText(w *world, end time.Time) string {
	return w.text("en", i18n.MsgReverifyReminder, map[string]any{"Level": levelTitle(w),
		"Until": w.Bot().Catalog().Language("en").Date(end)})
}

// waitForCount waits until count() reaches n.
func waitForCount(ctx context.Context, t testing.TB, count func() int, n int) {
	t.Helper()
	for count() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("count %d, want %d", count(), n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testConfigWith is the demo configuration with more YAML at its end.
func testConfigWith(extra string) string { return demo.DefaultConfig() + extra }

// levelTitle is the default level's title (or name), as users read it.
func levelTitle(w *world) string {
	if l := w.Config.DefaultLevel(); l.Title != "" {
		return l.Title
	}
	return w.Config.DefaultLevelName
}
