package verification

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// TestDuplicateRefused: user B shares the driving licence user A was
// verified with: B is refused for good without learning about A, the
// admins are told both IDs, A stays verified; once A is erased, B can
// verify.
func TestDuplicateRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(*profile) // B's profile from A's
	}{
		{"same document", func(p *profile) { p.FirstName, p.LastName, p.BirthDate = "Orla", "Fennimore", "02.03.1990" }},
		{"same document, written differently", func(p *profile) {
			p.FirstName, p.DocumentNo = "Orla", "dl-778 2311.xq"
		}},
		{"same person, another document", func(p *profile) { p.DocumentNo = "DL0000001AA" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob := int64(5700+10*i), int64(5701+10*i)
			pa := goodProfile(t)
			if out := e.process(e.submission(e.share(pa, e.issue(alice, "en").Nonce, nil), alice, "en")); out.Result != handlers.SubmissionVerified {
				t.Fatalf("alice: %+v", out)
			}
			pb := pa
			tt.change(&pb)
			out := e.process(e.submission(e.share(pb, e.issue(bob, "de").Nonce, nil), bob, "de"))
			if out.Result != handlers.SubmissionRejected || !slices.Equal(out.Codes, []string{"duplicate"}) {
				t.Fatalf("bob: %+v, want rejected, duplicate", out)
			}
			want := e.text("de", i18n.MsgResultDuplicate, nil)
			shown := handlerstest.Texts(e.tg.Shown(bob))
			if !slices.Equal(shown, []string{want}) {
				t.Errorf("bob sees %q, want %q", shown, want)
			}
			for _, s := range shown {
				if strings.Contains(s, strconv.FormatInt(alice, 10)) {
					t.Errorf("bob learns alice's ID: %q", s)
				}
			}
			if st := e.status(bob); st.State != store.StateRejected || !slices.Equal(st.Codes, []string{"duplicate"}) {
				t.Errorf("bob's status %+v", st)
			}
			if st := e.status(alice); st.State != store.StateVerified {
				t.Errorf("alice's status %+v, want still verified", st)
			}
			verified, rejected := e.hooks()
			if len(verified) != 1 || len(rejected) != 1 || rejected[0].UserID != bob ||
				!slices.Equal(rejected[0].Codes, []string{"duplicate"}) || len(rejected[0].Problems) != 1 ||
				rejected[0].Problems[0].Code != CodeDuplicate || !rejected[0].Problems[0].Final {
				t.Errorf("hooks: %d verified, rejected %+v", len(verified), rejected)
			}
			admin := handlerstest.Texts(e.tg.Shown(adminID))
			wantAdmin := e.text("en", i18n.MsgAdminDuplicate, map[string]any{
				"User": strconv.FormatInt(bob, 10), "Owner": strconv.FormatInt(alice, 10), "Level": level, "Ref": "crm-42"})
			if !slices.Contains(admin, wantAdmin) {
				t.Errorf("the admin was told %q, want %q among them", admin, wantAdmin)
			}
			if evs := e.auditOf(bob); count(evs, "rejected") != 1 || !slices.Equal(evs[len(evs)-1].Codes, []string{"duplicate"}) {
				t.Errorf("bob's audit events %+v", evs)
			}
			e.noPersonalData(pa)
			e.noPersonalData(pb)

			// Erasing alice releases her claims: bob may verify.
			if _, err := e.store.DeleteUser(e.ctx, alice); err != nil {
				t.Fatal(err)
			}
			if out := e.process(e.submission(e.share(pb, e.issue(bob, "de").Nonce, nil), bob, "de")); out.Result != handlers.SubmissionVerified {
				t.Fatalf("bob after alice's erasure: %+v", out)
			}
		})
	}
}

// TestDuplicatesOff: with rules.duplicates off, one document verifies two
// accounts and nothing is claimed.
func TestDuplicatesOff(t *testing.T) {
	e := newEnv(t, nil)
	c := testChecker(t, e.clock.Now)
	policy := c.Policy()
	policy.Duplicates = verify.DuplicatesOff
	off, err := verify.New(c.Scope(), policy, verify.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.flow.cfg.Checkers[level] = off
	p := goodProfile(t)
	for _, u := range []int64{5801, 5802} {
		if out := e.process(e.submission(e.share(p, e.issue(u, "en").Nonce, nil), u, "en")); out.Result != handlers.SubmissionVerified {
			t.Fatalf("user %d: %+v", u, out)
		}
	}
	if owner, err := e.store.Documents().ClaimAll(e.ctx, 5803, Fingerprints(plainSubmission(p))...); err != nil || owner != 5803 {
		t.Errorf("a claim after two verifications with duplicates off: %d, %v; want none held", owner, err)
	}
}

// plainSubmission returns the data of p as the flow decrypts it.
func plainSubmission(p profile) *passport.Submission {
	sub := &passport.Submission{}
	for _, el := range p.elements() {
		sub.Elements = append(sub.Elements, passport.Element{Type: el.Type, Fields: el.Fields})
	}
	return sub
}

func TestFingerprints(t *testing.T) {
	el := func(typ passport.ElementType, f map[string]string) passport.Element {
		return passport.Element{Type: typ, Fields: f}
	}
	pd := el(passport.TypePersonalDetails, map[string]string{"first_name": "Ada", "last_name": "Lovelace", "birth_date": "10.12.1815",
		"country_code": "GB", "residence_country_code": "FR"})
	tests := []struct {
		name string
		els  []passport.Element
		want []store.Fingerprint
	}{
		{"passport with citizenship", []passport.Element{pd, el(passport.TypePassport, map[string]string{"document_no": "P1"})},
			[]store.Fingerprint{store.DocumentKey{Country: "GB", Type: "passport", Number: "P1"},
				store.PersonKey{Names: []string{"Ada", "", "Lovelace"}, BirthDate: "10.12.1815"}}},
		{"driving licence with residence", []passport.Element{el(passport.TypeDriverLicense, map[string]string{"document_no": "D1"}), pd},
			[]store.Fingerprint{store.DocumentKey{Country: "FR", Type: "driver_license", Number: "D1"},
				store.PersonKey{Names: []string{"Ada", "", "Lovelace"}, BirthDate: "10.12.1815"}}},
		{"no personal details", []passport.Element{el(passport.TypeIdentityCard, map[string]string{"document_no": "I1"})},
			[]store.Fingerprint{store.DocumentKey{Country: "ZZ", Type: "identity_card", Number: "I1"}}},
		{"no number, address only", []passport.Element{el(passport.TypePassport, map[string]string{"document_no": " - "}),
			el(passport.TypeAddress, map[string]string{"city": "X"})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprints(&passport.Submission{Elements: tt.els})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d fingerprints, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if gp, ok := g.(store.PersonKey); ok {
					wp, _ := w.(store.PersonKey)
					if !slices.Equal(gp.Names, wp.Names) || gp.BirthDate != wp.BirthDate {
						t.Errorf("fingerprint %d differs", i)
					}
					continue
				}
				if g != w {
					t.Errorf("fingerprint %d differs", i)
				}
			}
		})
	}
}
