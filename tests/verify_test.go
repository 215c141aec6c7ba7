package tests

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// TestHappyPath: personal details, a driving licence with a selfie, an
// address, a phone number and an email; the user ends verified and
// OnVerified gets exactly the profile's data and byte-equal scans.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	u := w.user("en", nil)
	page, first := w.request(ctx, u, "crm-42")

	greeting := w.text("en", i18n.MsgStartGreeting, nil)
	if len(first) == 0 || !strings.Contains(first[0].Text, firstLine(greeting)) {
		t.Errorf("first answer to /start = %q, want the greeting %q", texts(first), firstLine(greeting))
	}
	w.share(ctx, u, page)
	m := w.next(ctx, u)
	if want := w.text("en", i18n.MsgResultVerified, nil); m.Text != want {
		t.Fatalf("after sharing the bot said %q, want %q", m.Text, want)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified || st.Ref != "crm-42" {
		t.Fatalf("status = %+v, want verified with ref crm-42", st)
	}

	w.s.mu.Lock()
	got := w.s.verified
	w.s.mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("OnVerified ran %d times, want once", len(got))
	}
	d := got[0]
	if d.v.UserID != u.User.ID || d.v.Ref != "crm-42" || d.v.Level != w.Config.DefaultLevelName {
		t.Errorf("OnVerified got user %d ref %q level %q", d.v.UserID, d.v.Ref, d.v.Level)
	}
	p := u.Profile()
	for _, typ := range []passport.ElementType{passport.TypePersonalDetails, passport.TypeDriverLicense, passport.TypeAddress} {
		el := d.v.Submission.Element(typ)
		if el == nil {
			t.Errorf("OnVerified lacks %s", typ)
			continue
		}
		if !maps.Equal(el.Fields, p[typ].Fields) {
			t.Errorf("%s: OnVerified got fields %v, the profile has %v", typ, el.Fields, p[typ].Fields)
		}
	}
	if el := d.v.Submission.Element(passport.TypePhoneNumber); el == nil || el.PhoneNumber != p[passport.TypePhoneNumber].Phone {
		t.Errorf("phone number not delivered as in the profile")
	}
	if el := d.v.Submission.Element(passport.TypeEmail); el == nil || el.Email != p[passport.TypeEmail].Email {
		t.Errorf("email not delivered as in the profile")
	}
	dl := p[passport.TypeDriverLicense]
	wantFiles := map[verify.ScanKey][]byte{
		{Element: passport.TypeDriverLicense, Target: passport.TargetOf(passport.TargetFrontSide)}:   scanBytes(t, dl.FrontSide),
		{Element: passport.TypeDriverLicense, Target: passport.TargetOf(passport.TargetReverseSide)}: scanBytes(t, dl.ReverseSide),
		{Element: passport.TypeDriverLicense, Target: passport.TargetOf(passport.TargetSelfie)}:      scanBytes(t, dl.Selfie),
	}
	if len(d.files) != len(wantFiles) {
		t.Errorf("OnVerified got %d scans, want %d", len(d.files), len(wantFiles))
	}
	for k, want := range wantFiles {
		if !bytes.Equal(d.files[k], want) {
			t.Errorf("scan %s %s: %d bytes delivered, not byte-equal to the %d bytes the user uploaded", k.Element, k.Target, len(d.files[k]), len(want))
		}
	}
	if ev := w.events(ctx, u.User.ID); !contains(ev, "verified") {
		t.Errorf("audit events %v lack verified", ev)
	}
}

// TestFixAndResubmitInRussian: an expired driving licence and a too small
// selfie are flagged with users.setSecureValueErrors (the right
// constructors and hashes, Russian texts), listed in the chat; after the
// fixes the second submission verifies.
func TestFixAndResubmitInRussian(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	p := sandbox.SampleProfile("fix-2041")
	dl := p[passport.TypeDriverLicense]
	dl.Fields["expiry_date"] = "01.01.2020"
	dl.Selfie = &sandbox.Scan{Text: "fix/selfie", Width: 200, Height: 200}
	u := w.user("ru", p)
	page, _ := w.request(ctx, u, "")
	link := w.share(ctx, u, page)

	m := w.next(ctx, u)
	ru := w.Bot().Catalog().Language("ru")
	expired := ru.Problem(string(verify.CodeExpired), string(passport.TypeDriverLicense), passport.Field("expiry_date").String(), map[string]string{"date": "01.01.2020"})
	if !strings.HasPrefix(m.Text, ru.Plural(i18n.MsgResultFixHeader, 2, nil)) {
		t.Errorf("the chat message %q does not start with the Russian header for two problems", m.Text)
	}
	if !strings.Contains(m.Text, expired) {
		t.Errorf("the chat message %q does not list the expired licence %q", m.Text, expired)
	}
	if !strings.Contains(m.Text, "истёк 1 янв. 2020 г.,") {
		t.Errorf("the chat message %q does not write the expiry date as Russian does", m.Text)
	}
	retry, ok := urlButton(m)
	if !ok {
		t.Fatalf("the list of problems has no button to try again: %+v", m)
	}

	// What Telegram received: exactly the two errors, with the hashes of
	// the shared data and selfie.
	values, err := u.API().AccountGetAllSecureValues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dataHash, selfieHash []byte
	for _, v := range values {
		if _, ok := v.Type.(*tg.SecureValueTypeDriverLicense); ok {
			dataHash = v.Data.DataHash
			selfieHash = v.Selfie.(*tg.SecureFile).FileHash
		}
	}
	errs := w.Sandbox.SecureValueErrors(u.User.ID, w.Account.ID)
	var gotData, gotSelfie bool
	for _, e := range errs {
		switch e := e.(type) {
		case *tg.SecureValueErrorData:
			gotData = e.Field == "expiry_date" && bytes.Equal(e.DataHash, dataHash) && e.Text == expired
			if !gotData {
				t.Errorf("data error %+v: want expiry_date, the data hash and %q", e, expired)
			}
		case *tg.SecureValueErrorSelfie:
			gotSelfie = bytes.Equal(e.FileHash, selfieHash) && strings.Contains(m.Text, e.Text) && e.Text != ""
			if !gotSelfie {
				t.Errorf("selfie error %+v: want the selfie's hash and a text the chat lists too", e)
			}
			if !isCyrillic(e.Text) {
				t.Errorf("selfie error text %q is not Russian", e.Text)
			}
		default:
			t.Errorf("unexpected error %T", e)
		}
	}
	if !gotData || !gotSelfie || len(errs) != 2 {
		t.Fatalf("users.setSecureValueErrors got %d errors (data %t, selfie %t), want the two", len(errs), gotData, gotSelfie)
	}
	if ve, err := u.Errors(ctx, link); err != nil || len(ve) != 2 {
		t.Fatalf("the Passport form shows %d errors (%v), want 2", len(ve), err)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateNeedsFixes {
		t.Fatalf("status %s, want needs_fixes", st.State)
	}

	if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
		el.Fields["expiry_date"] = "01.01.2035"
		el.Selfie = &sandbox.Scan{Text: "fix/selfie-2", Width: 480, Height: 480}
	}); err != nil {
		t.Fatal(err)
	}
	w.share(ctx, u, retry.URL)
	m = w.next(ctx, u)
	if want := ru.Text(i18n.MsgResultVerified, nil); m.Text != want {
		t.Fatalf("after the fixes the bot said %q, want %q", m.Text, want)
	}
	if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
		t.Fatalf("status %s, want verified", st.State)
	}
}

// TestFinalRejection: a user under the minimum age gets a polite final
// message; the status is rejected and nothing is delivered.
func TestFinalRejection(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	p := sandbox.SampleProfile("young-2042")
	p[passport.TypePersonalDetails].Fields["birth_date"] = time.Now().AddDate(-16, 0, 0).Format("02.01.2006")
	u := w.user("en", p)
	page, _ := w.request(ctx, u, "")
	w.share(ctx, u, page)
	m := w.next(ctx, u)
	final := firstLine(w.text("en", i18n.MsgResultRejected, map[string]any{"Reason": "x"}))
	if !strings.HasPrefix(m.Text, final) {
		t.Fatalf("the bot said %q, want the final rejection %q", m.Text, final)
	}
	if _, ok := urlButton(m); ok {
		t.Errorf("a final rejection offers a button to try again")
	}
	st := w.status(ctx, u.User.ID)
	if st.State != store.StateRejected || !contains(st.Codes, string(verify.CodeTooYoung)) {
		t.Fatalf("status %+v, want rejected with %s", st, verify.CodeTooYoung)
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if len(w.s.verified) != 0 {
		t.Errorf("OnVerified ran for a rejected user")
	}
	if len(w.s.rejected) != 1 || w.s.rejected[0].UserID != u.User.ID {
		t.Errorf("OnRejected got %+v, want the user once", w.s.rejected)
	}

	// /verify again: told it is final, no new request.
	if err := u.Send(ctx, w.Account.ID, "/verify"); err != nil {
		t.Fatal(err)
	}
	again := w.next(ctx, u)
	if _, ok := urlButton(again); ok {
		t.Errorf("/verify after a final rejection offers a new request: %q", again.Text)
	}
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isCyrillic(s string) bool {
	for _, r := range s {
		if r >= 'А' && r <= 'я' {
			return true
		}
	}
	return false
}
