package verification

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// reviewEnv is a flow whose level reviews every submission (rules.review:
// always), with review links and an OnReview hook.
func reviewEnv(t *testing.T, edit func(*verify.Policy)) (*env, *[]Review) {
	e := newEnv(t, nil)
	c := testChecker(t, e.clock.Now)
	policy := c.Policy()
	edit(&policy)
	checker, err := verify.New(c.Scope(), policy, verify.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.flow.cfg.Checkers[level] = checker
	e.flow.cfg.ReviewLink = func(id string, user, admin int64) string {
		return fmt.Sprintf("https://ops.example/review/%s-%d-%d", id, user, admin)
	}
	var reviews []Review
	e.flow.cfg.OnReview = func(_ context.Context, r Review) error { reviews = append(reviews, r); return nil }
	return e, &reviews
}

func TestReviewApprove(t *testing.T) {
	e, reviews := reviewEnv(t, func(p *verify.Policy) { p.Review = verify.ReviewAlways })
	const user = int64(5901)
	p := goodProfile(t)
	sub := e.submission(e.share(p, e.issue(user, "fr").Nonce, nil), user, "fr")
	out := e.process(sub)
	if out.Result != handlers.SubmissionReview || out.Reason != ReasonAlways {
		t.Fatalf("outcome %+v, want review (always)", out)
	}
	if got, want := handlerstest.Texts(e.tg.Shown(user)), []string{e.text("fr", i18n.MsgResultReview, nil)}; !slices.Equal(got, want) {
		t.Errorf("the user sees %q, want %q", got, want)
	}
	if st := e.status(user); st.State != store.StateReview || !slices.Equal(st.Codes, []string{ReasonAlways}) {
		t.Errorf("status %+v, want review (always)", st)
	}
	if len(*reviews) != 1 || (*reviews)[0].UserID != user || (*reviews)[0].ID == "" {
		t.Fatalf("OnReview got %+v", *reviews)
	}
	id := (*reviews)[0].ID
	link := fmt.Sprintf("https://ops.example/review/%s-%d-%d", id, user, adminID)
	admin := handlerstest.Texts(e.tg.Shown(adminID))
	if len(admin) != 1 || !strings.Contains(admin[0], link) {
		t.Errorf("the admin was told %q, want their link %s", admin, link)
	}
	if verified, _ := e.hooks(); len(verified) != 0 {
		t.Errorf("OnVerified ran before the decision")
	}
	// Processed again (a crash before the ack): the same review, nothing
	// told twice.
	e.process(sub)
	if n := len(e.tg.Shown(user)); n != 1 {
		t.Errorf("the user sees %d messages after a second processing, want 1", n)
	}

	// The admin's page opens the data.
	r, err := e.flow.OpenReview(e.ctx, user, id)
	if err != nil {
		t.Fatal(err)
	}
	if pd, _ := r.Submission.Elements[0].PersonalDetails(); pd.LastName != p.LastName || !slices.Contains(r.Items, "driver_license.selfie") {
		t.Errorf("the review opens %+v, items %v", pd, r.Items)
	}
	d := Decision{ID: "decision-1", UserID: user, ReviewID: id, Admin: adminID, Action: DecisionApprove}
	if out, err := e.flow.Decide(e.ctx, d); err != nil || out.Result != handlers.SubmissionVerified {
		t.Fatalf("approve: %+v, %v", out, err)
	}
	if st := e.status(user); st.State != store.StateVerified {
		t.Errorf("status %+v after approval", st)
	}
	shown := handlerstest.Texts(e.tg.Shown(user))
	if shown[len(shown)-1] != e.text("fr", i18n.MsgResultVerified, nil) {
		t.Errorf("the user sees %q, want verified last", shown)
	}
	verified, _ := e.hooks()
	if len(verified) != 1 || len(e.files[0]) != 3 {
		t.Fatalf("OnVerified: %d calls, scans %d; want one with the 3 scans", len(verified), len(e.files))
	}
	if string(e.files[0][verify.ScanKey{Element: "driver_license", Target: passport.TargetOf(passport.TargetSelfie)}]) != string(p.Selfie) {
		t.Error("the selfie given to OnVerified after approval differs from the one shared")
	}
	evs := e.auditOf(user)
	last := evs[len(evs)-1]
	if last.Kind != "review_decided" || last.Actor != adminID || !slices.Equal(last.Codes, []string{DecisionApprove}) {
		t.Errorf("last audit event %+v, want review_decided by the admin", last)
	}
	// The submission is gone: a second decision changes nothing.
	if _, err := e.flow.OpenReview(e.ctx, user, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the decision the review opens: %v", err)
	}
	before := len(e.tg.Shown(user))
	if out, err := e.flow.Decide(e.ctx, Decision{ID: "decision-2", UserID: user, ReviewID: id, Admin: adminID, Action: DecisionReject, Reason: "other"}); err != nil || out.Reason != "review_gone" {
		t.Errorf("a second decision: %+v, %v", out, err)
	}
	if len(e.tg.Shown(user)) != before || e.status(user).State != store.StateVerified {
		t.Error("a second decision changed something")
	}
	// The submission handled again after the decision (its queue entry
	// lost in a failover and queued again) changes nothing either.
	if out := e.process(sub); out.Reason != "decided" || len(e.tg.Shown(user)) != before || e.status(user).State != store.StateVerified {
		t.Errorf("processed again after the decision: %+v, status %s", out, e.status(user).State)
	}
	e.noPersonalData(p)
}

func TestReviewRejectAndFix(t *testing.T) {
	e, reviews := reviewEnv(t, func(p *verify.Policy) { p.ReviewSample = 0.5 })
	e.flow.cfg.Sample = func(string) float64 { return 0.25 }
	p := goodProfile(t)
	// Reject.
	const u1, u2 = int64(5911), int64(5912)
	if out := e.process(e.submission(e.share(p, e.issue(u1, "en").Nonce, nil), u1, "en")); out.Reason != ReasonSample {
		t.Fatalf("outcome %+v, want review (sample)", out)
	}
	if _, err := e.flow.Decide(e.ctx, Decision{ID: "d1", UserID: u1, ReviewID: (*reviews)[0].ID, Admin: adminID, Action: DecisionReject, Reason: "nope"}); !errors.Is(err, ErrBadDecision) {
		t.Errorf("an unknown reason: %v, want ErrBadDecision", err)
	}
	out, err := e.flow.Decide(e.ctx, Decision{ID: "d2", UserID: u1, ReviewID: (*reviews)[0].ID, Admin: adminID, Action: DecisionReject, Reason: "data_mismatch"})
	if err != nil || out.Result != handlers.SubmissionRejected {
		t.Fatalf("reject: %+v, %v", out, err)
	}
	loc := e.catalog.Language("en")
	want := loc.Text(i18n.MsgResultRejected, map[string]any{"Reason": loc.Text(i18n.MsgReviewRejected, nil)})
	if shown := handlerstest.Texts(e.tg.Shown(u1)); shown[len(shown)-1] != want {
		t.Errorf("the user sees %q, want %q last", shown, want)
	}
	if st := e.status(u1); st.State != store.StateRejected || !slices.Equal(st.Codes, []string{"data_mismatch"}) {
		t.Errorf("status %+v", st)
	}
	if _, rejected := e.hooks(); len(rejected) != 1 || rejected[0].Codes[0] != "data_mismatch" {
		t.Errorf("OnRejected got %+v", rejected)
	}

	// Ask to fix the selfie.
	// Not drawn: verified at once; the documents of the rejected review
	// were released.
	e.flow.cfg.Sample = func(string) float64 { return 0.75 }
	if out := e.process(e.submission(e.share(p, e.issue(u2+100, "en").Nonce, nil), u2+100, "en")); out.Result != handlers.SubmissionVerified {
		t.Fatalf("not drawn: %+v, want verified", out)
	}
	e.flow.cfg.Sample = func(string) float64 { return 0 }
	p2 := goodProfile(t)
	p2.DocumentNo, p2.FirstName = "DL0000002BB", "Orla"
	e.process(e.submission(e.share(p2, e.issue(u2, "en").Nonce, nil), u2, "en"))
	id := (*reviews)[len(*reviews)-1].ID
	out, err = e.flow.Decide(e.ctx, Decision{ID: "d3", UserID: u2, ReviewID: id, Admin: adminID, Action: DecisionFix, Fix: []string{"driver_license.selfie"}})
	if err != nil || out.Result != handlers.SubmissionNeedsFixes {
		t.Fatalf("fix: %+v, %v", out, err)
	}
	if ve := e.tg.SecureValueErrors(); len(ve) != 1 || ve[0].To.ID != u2 || len(ve[0].Errs) != 1 {
		t.Errorf("the Passport forms got %+v, want the selfie's error for the user", ve)
	}
	last := e.tg.Shown(u2)[len(e.tg.Shown(u2))-1]
	if len(last.Buttons()) != 1 || !strings.HasPrefix(last.Buttons()[0].URL, pageBase) {
		t.Errorf("the list to fix has no button to try again: %+v", last)
	}
	if st := e.status(u2); st.State != store.StateNeedsFixes {
		t.Errorf("status %+v", st)
	}
}

// TestReviewDuplicate: with rules.duplicates review, the second account
// goes to review, the admin learns both accounts.
func TestReviewDuplicate(t *testing.T) {
	e, reviews := reviewEnv(t, func(p *verify.Policy) { p.Duplicates = verify.DuplicatesReview })
	p := goodProfile(t)
	const a, b = int64(5921), int64(5922)
	if out := e.process(e.submission(e.share(p, e.issue(a, "en").Nonce, nil), a, "en")); out.Result != handlers.SubmissionVerified {
		t.Fatalf("a: %+v", out)
	}
	if out := e.process(e.submission(e.share(p, e.issue(b, "en").Nonce, nil), b, "en")); out.Result != handlers.SubmissionReview || out.Reason != ReasonDuplicate {
		t.Fatalf("b: %+v, want review (duplicate)", out)
	}
	if r, err := e.flow.OpenReview(e.ctx, b, (*reviews)[0].ID); err != nil || r.Owner != a {
		t.Fatalf("review of b: %+v, %v; want the owner a", r, err)
	}
	admin := handlerstest.Texts(e.tg.Shown(adminID))
	if !strings.Contains(admin[len(admin)-1], fmt.Sprint(a)) {
		t.Errorf("the admin's review request %q does not name the other account", admin[len(admin)-1])
	}
}

// SampleOf is stable per submission, in [0, 1), and spread: about a
// twentieth of many submissions fall under 0.05.
func TestSampleOf(t *testing.T) {
	if SampleOf("ab") != SampleOf("ab") || SampleOf("ab") == SampleOf("ac") {
		t.Fatal("SampleOf is not a function of the nonce hash alone")
	}
	const n = 20000
	under := 0
	for i := range n {
		v := SampleOf(fmt.Sprint(i))
		if v < 0 || v >= 1 {
			t.Fatalf("SampleOf = %v", v)
		}
		if v < 0.05 {
			under++
		}
	}
	if under < n/20-200 || under > n/20+200 {
		t.Errorf("%d of %d under 0.05, want about %d", under, n, n/20)
	}
}
