package tests

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// TestDuplicateDocument: user B presents the driving licence user A was
// verified with (another person's details, the number written
// differently). B is refused for good, in German, without learning
// anything about A; the admin is told both accounts and /kyc_status shows
// the code; A stays verified. Once A erases their data (/delete_my_data),
// the claim is released: once the admin lifts B's final rejection
// (/kyc_reset), B verifies with the same licence.
func TestDuplicateDocument(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	admin := w.admin(ctx)

	pa := sandbox.SampleProfile("77001001")
	a := w.user("en", pa)
	w.verifyUser(ctx, a, "crm-a")

	pb := sandbox.SampleProfile("77001002")
	pb[passport.TypePersonalDetails].Fields["first_name"] = "Bob"
	pb[passport.TypeDriverLicense].Fields["document_no"] = strings.ToLower(strings.ReplaceAll(pa[passport.TypeDriverLicense].Fields["document_no"], "-", " "))
	b := w.user("de", pb)
	page, _ := w.request(ctx, b, "crm-b")
	w.share(ctx, b, page)
	m := w.next(ctx, b)
	want := w.text("de", i18n.MsgResultDuplicate, map[string]any{"Support": w.Config.Support})
	if m.Text != want {
		t.Fatalf("B was told %q, want %q", m.Text, want)
	}
	aid, bid := strconv.FormatInt(a.User.ID, 10), strconv.FormatInt(b.User.ID, 10)
	if strings.Contains(m.Text, aid) || strings.Contains(m.Text, "Ada") {
		t.Errorf("B's message %q tells about A", m.Text)
	}
	if st := w.status(ctx, b.User.ID); st.State != store.StateRejected || len(st.Codes) != 1 || st.Codes[0] != "duplicate" {
		t.Errorf("B's status %+v, want rejected with the code duplicate", st)
	}
	if st := w.status(ctx, a.User.ID); st.State != store.StateVerified {
		t.Errorf("A's status %+v, want still verified", st)
	}
	notice := w.text("en", i18n.MsgAdminDuplicate, map[string]any{"User": bid, "Owner": aid, "Level": w.Config.DefaultLevelName, "Ref": "crm-b"})
	if _, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == notice }); err != nil {
		t.Fatalf("the admin was not told %q: %v", notice, err)
	}
	if err := admin.Send(ctx, w.Account.ID, "/kyc_status "+bid); err != nil {
		t.Fatal(err)
	}
	if st := w.next(ctx, admin); !strings.Contains(st.Text, "duplicate") || !strings.Contains(st.Text, bid) {
		t.Errorf("/kyc_status %s answered %q, want the code duplicate", bid, st.Text)
	}
	if ev := w.events(ctx, b.User.ID); !contains(ev, "rejected") {
		t.Errorf("B's audit events %v lack rejected", ev)
	}

	// A erases their data: the licence is free again.
	if err := a.Send(ctx, w.Account.ID, "/delete_my_data"); err != nil {
		t.Fatal(err)
	}
	ask := w.next(ctx, a)
	yes, ok := ask.Button(w.text("en", i18n.MsgButtonEraseYes, nil))
	if !ok {
		t.Fatalf("no confirmation button: %+v", ask)
	}
	if _, err := a.Press(ctx, ask, yes); err != nil {
		t.Fatal(err)
	}
	if m := w.next(ctx, a); m.Text != w.text("en", i18n.MsgEraseDone, nil) {
		t.Fatalf("A was told %q after confirming the erasure", m.Text)
	}
	if err := admin.Send(ctx, w.Account.ID, "/kyc_reset "+bid); err != nil {
		t.Fatal(err)
	}
	w.next(ctx, admin)
	if err := b.Send(ctx, w.Account.ID, "/verify"); err != nil {
		t.Fatal(err)
	}
	retry, err := b.WaitMessage(ctx, hasURLButton)
	if err != nil {
		t.Fatal(err)
	}
	button, _ := urlButton(retry)
	w.share(ctx, b, button.URL)
	if m := w.next(ctx, b); m.Text != w.text("de", i18n.MsgResultVerified, nil) {
		t.Fatalf("B after A's erasure was told %q, want verified", m.Text)
	}
}

// TestDuplicateDocumentToReview: with rules.duplicates review, user B
// presenting A's licence is told the case is under review (nothing about
// A), and the admin's review request names both accounts.
func TestDuplicateDocumentToReview(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	admin := w.admin(ctx)
	w.restartWith(ctx, func(c *config.Config) {
		for _, l := range c.Levels {
			l.Policy.Duplicates = verify.DuplicatesReview
		}
	})
	pa := sandbox.SampleProfile("77002001")
	a := w.user("en", pa)
	w.verifyUser(ctx, a, "")
	pb := sandbox.SampleProfile("77002002")
	pb[passport.TypeDriverLicense].Fields["document_no"] = pa[passport.TypeDriverLicense].Fields["document_no"]
	b := w.user("en", pb)
	var request string
	sendToReview(t, ctx, w, b, admin, "en", &request)
	if st := w.status(ctx, b.User.ID); len(st.Codes) != 1 || st.Codes[0] != "duplicate" {
		t.Errorf("B's status %+v, want review for a duplicate", st)
	}
	aid := strconv.FormatInt(a.User.ID, 10)
	if !strings.Contains(request, aid) || !strings.Contains(request, strconv.FormatInt(b.User.ID, 10)) {
		t.Errorf("the admin's review request %q does not name both accounts", request)
	}
}
