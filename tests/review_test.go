package tests

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// newChromium starts headless Chromium for the test, or skips it (fails
// under CI) when the browser is missing.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must install Debian's chromium", chromiumPath)
		}
		t.Skipf("%s is missing: install it with apt-get install chromium to run this test", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-extensions", true))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// reviewLinkRE finds the review link in an admin's review request.
var reviewLinkRE = regexp.MustCompile(`http://\S+/review/\S+`)

// reviewWorld is a world whose level reviews every submission
// (rules.review: always), with an admin and a webhook receiver.
func reviewWorld(t *testing.T) (*world, *receiver, *sandbox.SimUser) {
	rcv := newReceiver(t, nil)
	w := newWorld(t, worldOptions{configYAML: webhookConfig(rcv.srv.URL + "/kyc/webhook")})
	rcv.now = w.clock.Now
	ctx := testContext(t)
	admin := w.admin(ctx)
	w.restartWith(ctx, func(c *config.Config) {
		for _, l := range c.Levels {
			l.Policy.Review = verify.ReviewAlways
		}
	})
	return w, rcv, admin
}

// sendToReview takes u from /start to "under review" and returns the
// admin's link (and sets *request, when given, to the admin's message).
func sendToReview(t *testing.T, ctx context.Context, w *world, u *sandbox.SimUser, admin *sandbox.SimUser, lang string, request ...*string) string {
	t.Helper()
	page, _ := w.request(ctx, u, "crm-r")
	w.share(ctx, u, page)
	if m := w.next(ctx, u); m.Text != w.text(lang, i18n.MsgResultReview, nil) {
		t.Fatalf("after sharing the bot said %q, want under review", m.Text)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateReview {
		t.Fatalf("status %+v, want review", st)
	}
	uid := strconv.FormatInt(u.User.ID, 10)
	m, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool {
		return strings.Contains(m.Text, uid) && reviewLinkRE.MatchString(m.Text)
	})
	if err != nil {
		t.Fatalf("the admin got no review request: %v", err)
	}
	for _, v := range profileValues(u.Profile()) {
		if len(v) > 3 && strings.Contains(m.Text, v) {
			t.Errorf("the admin's review request holds personal data %q: %q", v, m.Text)
		}
	}
	if len(request) > 0 {
		*request[0] = m.Text
	}
	return reviewLinkRE.FindString(m.Text)
}

// TestReviewInChromium: a submission under review; the admin opens the
// link in Chromium, sees the data and the scans, approves; the user is
// told verified, OnVerified and the webhook get it once, and nothing of
// the review remains. The same link again, an expired link and a link for
// someone no longer an admin are refused; a second case is rejected and a
// third sent back to fix, from the page.
func TestReviewInChromium(t *testing.T) {
	t.Parallel()
	w, rcv, admin := reviewWorld(t)
	ctx := testContext(t)
	browser := newChromium(t)
	u := w.user("en", nil)
	link := sendToReview(t, ctx, w, u, admin, "en")

	// The review event reached the webhook, without data.
	rcv.wait(t, ctx, "the review event", func() bool { return rcv.eventOfLocked(u.User.ID, delivery.KindReview) != "" }, nil)
	rcv.mu.Lock()
	ev := rcv.events[rcv.eventOfLocked(u.User.ID, delivery.KindReview)]
	rcv.mu.Unlock()
	if ev.Data != nil || ev.Review == nil || !slices.Equal(ev.Review.Reasons, []string{"always"}) {
		t.Errorf("review event %+v", ev)
	}

	pd := u.Profile()[passport.TypePersonalDetails].Fields
	if err := chromedp.Do(browser, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	caseText, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("case")))
	if err != nil {
		t.Fatal(err)
	}
	values, err := chromedp.Run(browser, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("td.value")).map(e => e.textContent).join("|")`))
	if err != nil {
		t.Fatal(err)
	}
	images, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := chromedp.Run(browser, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll("img")).every(i => i.complete && i.naturalWidth > 0)`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(caseText, strconv.FormatInt(u.User.ID, 10)) || !strings.Contains(caseText, "always") {
		t.Errorf("the case reads %q", caseText)
	}
	for _, f := range []string{"first_name", "last_name", "birth_date"} {
		if !strings.Contains(values, pd[f]) {
			t.Errorf("the page lacks %s %q: %q", f, pd[f], values)
		}
	}
	if images < 3 || !loaded {
		t.Errorf("the page shows %d images (all decoded: %t), want the scans", images, loaded)
	}
	if err := chromedp.Do(browser, chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("message"))); err != nil {
		t.Fatal(err)
	}
	message, err := chromedp.Run(browser, chromedp.Text(chromedp.ID("message")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(message, "recorded") {
		t.Errorf("after Approve the page says %q", message)
	}
	if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("after the approval the bot said %q, want verified", m.Text)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Errorf("status %+v after the approval", st)
	}
	rcv.wait(t, ctx, "the verified event", func() bool { return rcv.eventOfLocked(u.User.ID, delivery.KindVerified) != "" }, nil)
	id := rcv.eventOf(u.User.ID, delivery.KindVerified)
	rcv.quiet(t, id)
	if _, ok := rcv.counts(id); ok != 1 {
		t.Errorf("the verified event was delivered %d times, want once", ok)
	}
	w.s.mu.Lock()
	hooks := len(w.s.verified)
	w.s.mu.Unlock()
	if hooks != 1 {
		t.Fatalf("OnVerified ran %d times, want once", hooks)
	}
	if n := len(w.s.verified[0].files); images != n {
		t.Errorf("the page showed %d images, the submission has %d scans", images, n)
	}
	if kinds := w.events(ctx, u.User.ID); !contains(kinds, "review") || !contains(kinds, "review_decided") || !contains(kinds, "verified") {
		t.Errorf("audit events %v", kinds)
	}
	// Nothing of the review remains in Redis.
	kept, err := w.Redis.HGetAll(ctx, w.Config.Redis.Prefix+"{u:"+strconv.FormatInt(u.User.ID, 10)+"}:reviews").Result()
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range kept {
		if v != "" {
			t.Errorf("review %s still kept after the decision (%d bytes)", id, len(v))
		}
	}
	refused := func(url, want string) {
		t.Helper()
		// The ops server of a restarted bot listens on another port.
		url = "http://" + w.Info().OpsAddr.String() + url[strings.Index(url, "/review/"):]
		if err := chromedp.Do(browser, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		title, err := chromedp.Run(browser, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		if title != want {
			t.Errorf("%s: the page is %q, want %q", url, title, want)
		}
	}
	// The same link again.
	refused(link, "Link not valid")

	// A second case, rejected from the page.
	u2 := w.user("en", nil)
	link2 := sendToReview(t, ctx, w, u2, admin, "en")
	if err := chromedp.Do(browser, chromedp.Navigate(link2), chromedp.SetValue(chromedp.ID("reason"), "data_mismatch"),
		chromedp.Click(chromedp.ID("reject")), chromedp.WaitVisible(chromedp.ID("message"))); err != nil {
		t.Fatal(err)
	}
	en := w.Bot().Catalog().Language("en")
	rejected := en.Text(i18n.MsgResultRejected, map[string]any{"Reason": en.Text(i18n.MsgReviewRejected, nil), "Support": w.Config.Support})
	if m := w.next(ctx, u2); m.Text != rejected {
		t.Errorf("after the rejection the bot said %q, want %q", m.Text, rejected)
	}
	if st := w.status(ctx, u2.User.ID); st.State != store.StateRejected || !slices.Equal(st.Codes, []string{"data_mismatch"}) {
		t.Errorf("status %+v after the rejection", st)
	}
	rcv.wait(t, ctx, "the rejected event", func() bool { return rcv.eventOfLocked(u2.User.ID, delivery.KindRejected) != "" }, nil)

	// A third, sent back to fix the selfie.
	u3 := w.user("en", nil)
	link3 := sendToReview(t, ctx, w, u3, admin, "en")
	if err := chromedp.Do(browser, chromedp.Navigate(link3), chromedp.Click(chromedp.CSS(`input[value="driver_license.selfie"]`)),
		chromedp.Click(chromedp.ID("fix")), chromedp.WaitVisible(chromedp.ID("message"))); err != nil {
		t.Fatal(err)
	}
	m := w.next(ctx, u3)
	if !strings.HasPrefix(m.Text, en.Plural(i18n.MsgResultFixHeader, 1, nil)) || !hasURLButton(m) {
		t.Errorf("after Ask to fix the bot said %q (button: %t)", m.Text, hasURLButton(m))
	}
	if st := w.status(ctx, u3.User.ID); st.State != store.StateNeedsFixes {
		t.Errorf("status %+v after Ask to fix", st)
	}

	// An admin removed from the config: their link is refused; an expired
	// link too.
	u4 := w.user("en", nil)
	link4 := sendToReview(t, ctx, w, u4, admin, "en")
	w.restartWith(ctx, func(c *config.Config) {
		c.Admins = slices.DeleteFunc(slices.Clone(c.Admins), func(id int64) bool { return id == admin.User.ID })
	})
	refused(link4, "Not allowed")
	w.restartWith(ctx, func(c *config.Config) { c.Admins = append(slices.Clone(c.Admins), admin.User.ID) })
	w.clock.Advance(25 * time.Hour)
	refused(link4, "Link not valid")
}

// TestReviewReminder: a case left undecided reminds the admin every
// admin_notices.review_reminder with a new link of their own, which opens
// the case; once its retention ran out, nobody can decide it: the admin is
// told once, the verification expires and the user is told, with a button
// to verify again that works.
func TestReviewReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	admin := w.admin(ctx)
	w.restartWith(ctx, func(c *config.Config) {
		for _, l := range c.Levels {
			l.Policy.Review = verify.ReviewAlways
		}
		c.AdminNotices.ReviewReminder = 3 * time.Second // below the config's minute: a test's period
	})
	u := w.user("en", nil)
	link := sendToReview(t, ctx, w, u, admin, "en")
	uid := strconv.FormatInt(u.User.ID, 10)
	m, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool {
		l := reviewLinkRE.FindString(m.Text)
		return strings.Contains(m.Text, uid) && l != "" && l != link
	})
	if err != nil {
		t.Fatalf("no reminder with a new link: %v", err)
	}
	en := w.Bot().Catalog().Language("en")
	if want, _, _ := strings.Cut(en.Text(i18n.MsgAdminReviewReminder, map[string]any{"User": uid, "Level": "x", "Since": "x"}), "(level"); !strings.HasPrefix(m.Text, want) {
		t.Errorf("the reminder reads %q, want it to start with %q", m.Text, want)
	}
	if page := getPage(t, ctx, reviewLinkRE.FindString(m.Text)); !strings.Contains(page, `id="approve"`) {
		t.Errorf("the reminder's link does not open the case")
	}

	// Past the retention (7 days) the case is gone: told once.
	w.clock.Advance(verification.DefaultReviewTTL + time.Hour)
	expired := w.text("en", i18n.MsgAdminReviewExpired, map[string]any{"User": uid, "Days": "7"})
	if _, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == expired }); err != nil {
		t.Fatalf("the admin was not told %q: %v", expired, err)
	}
	time.Sleep(7 * time.Second) // two periods more
	n := 0
	for _, m := range admin.Messages() {
		if m.Text == expired {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the admin was told %d times that the review expired, want once", n)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateExpired {
		t.Errorf("status %+v after the review expired, want expired", st)
	}
	// The user is told once, in their language, with the one-tap button.
	cfg := w.Bot().Config()
	title := cfg.DefaultLevel().Title
	if title == "" {
		title = cfg.DefaultLevelName
	}
	notice := w.text("en", i18n.MsgReviewExpiredNotice, map[string]any{"Level": title})
	told, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == notice })
	if err != nil {
		t.Fatalf("the user was not told %q: %v", notice, err)
	}
	n = 0
	for _, m := range u.Messages() {
		if m.Text == notice {
			n++
		}
	}
	if n != 1 || len(told.Buttons) != 1 {
		t.Fatalf("the user was told %d times, buttons %+v; want once with the re-verification button", n, told.Buttons)
	}
	// /status says why, not only "expired".
	if err := u.Send(ctx, w.Account.ID, "/status"); err != nil {
		t.Fatal(err)
	}
	waitText(ctx, t, u, strings.SplitN(w.text("en", i18n.MsgStatusReviewExpired, map[string]any{"Since": "X"}), "X", 2)[0])
	if _, err := u.Press(ctx, told, told.Buttons[0][0]); err != nil {
		t.Fatal(err)
	}
	if _, err := u.WaitMessage(ctx, hasURLButton); err != nil {
		t.Fatalf("the button did not bring a new request: %v", err)
	}
}
