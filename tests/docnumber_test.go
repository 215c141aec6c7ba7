package tests

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// TestWrongDocumentNumberInGerman: a German citizen types the number of
// the passport specimen with a wrong MRZ check digit. The Passport form
// shows the error on document_no in German, the chat lists it; with the
// right digit the second submission verifies.
func TestWrongDocumentNumberInGerman(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	p := sandbox.SampleProfile("docno-2061")
	p[passport.TypePersonalDetails].Fields["country_code"] = "DE"
	delete(p, passport.TypeDriverLicense)
	p[passport.TypePassport] = &sandbox.ProfileElement{
		Fields:    map[string]string{"document_no": "C01X00T479", "expiry_date": "01.01.2035"},
		FrontSide: &sandbox.Scan{Text: "docno-2061/pp-front"},
		Selfie:    &sandbox.Scan{Text: "docno-2061/selfie", Width: 400, Height: 400},
	}
	u := w.user("de", p)
	page, _ := w.request(ctx, u, "")
	link := w.share(ctx, u, page)

	m := w.next(ctx, u)
	de := w.Bot().Catalog().Language("de")
	want := de.Problem(string(verify.CodeWrongDocumentNumber), string(passport.TypePassport),
		passport.Field("document_no").String(), map[string]string{"country": "DE"})
	if !strings.Contains(want, "Deutschland") || !strings.Contains(want, "Reisepass") {
		t.Fatalf("the German text %q does not name the country and the document", want)
	}
	if !strings.Contains(m.Text, want) {
		t.Errorf("the chat message %q does not list %q", m.Text, want)
	}
	if strings.Contains(m.Text, "C01X00T479") {
		t.Errorf("the chat message echoes the document number: %q", m.Text)
	}
	retry, ok := urlButton(m)
	if !ok {
		t.Fatalf("the list of problems has no button to try again: %+v", m)
	}
	ve, err := u.Errors(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if len(ve) != 1 || ve[0].Type != passport.TypePassport || ve[0].Target != "data.document_no" || ve[0].Text != want {
		t.Fatalf("the Passport form shows %+v, want one error on the passport's document_no: %q", ve, want)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateNeedsFixes || !contains(st.Codes, string(verify.CodeWrongDocumentNumber)) {
		t.Fatalf("status %+v, want needs_fixes with %s", st, verify.CodeWrongDocumentNumber)
	}

	if err := u.Fix(ctx, passport.TypePassport, func(el *sandbox.ProfileElement) {
		el.Fields["document_no"] = "C01X00T478"
	}); err != nil {
		t.Fatal(err)
	}
	w.share(ctx, u, retry.URL)
	m = w.next(ctx, u)
	if want := de.Text(i18n.MsgResultVerified, nil); m.Text != want {
		t.Fatalf("after the fix the bot said %q, want %q", m.Text, want)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Fatalf("status %s, want verified", st.State)
	}
}
