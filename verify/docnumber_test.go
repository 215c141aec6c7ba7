package verify

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// TestDocumentNumberRules: the issuing country's rule applies to the
// document number, the country taken from personal details; a wrong
// check digit is a fixable problem on document_no naming the country.
func TestDocumentNumberRules(t *testing.T) {
	pp, id, ip, dl := passport.TypePassport, passport.TypeIdentityCard, passport.TypeInternalPassport, passport.TypeDriverLicense
	off := false
	citizen := func(cc, res string) map[string]string {
		return with(goodPersonal(), "country_code", cc, "residence_country_code", res)
	}
	tests := []struct {
		name   string
		policy Policy
		pd     map[string]string // nil: no personal details shared
		el     passport.Element
		want   []string
	}{
		{"Spanish DNI specimen", DefaultPolicy(), citizen("ES", "ES"), document(id, "99999999-R", ""), nil},
		{"Spanish DNI, wrong letter", DefaultPolicy(), citizen("ES", "ES"), document(id, "99999999T", ""),
			[]string{"identity_card.data.document_no: wrong_document_number country=ES"}},
		{"German passport, MRZ check digit wrong", DefaultPolicy(), citizen("DE", "DE"), document(pp, "C01X00T479", "01.01.2030"),
			[]string{"passport.data.document_no: wrong_document_number country=DE"}},
		{"German passport as printed", DefaultPolicy(), citizen("DE", "DE"), document(pp, "C01X00T47", "01.01.2030"), nil},
		{"country codes in lower case", DefaultPolicy(), citizen("de", "de"), document(pp, "C01X00T479", ""),
			[]string{"passport.data.document_no: wrong_document_number country=DE"}},
		{"refused by citizenship, accepted by residence", DefaultPolicy(), citizen("ES", "NL"), document(id, "999999990", ""), nil},
		{"refused by both: the citizenship is named", DefaultPolicy(), citizen("ES", "PL"), document(id, "99999999T", ""),
			[]string{"identity_card.data.document_no: wrong_document_number country=ES"}},
		{"refused by residence only: named", DefaultPolicy(), citizen("GB", "ES"), document(id, "99999999T", ""),
			[]string{"identity_card.data.document_no: wrong_document_number country=ES"}},
		{"Russian internal passport", DefaultPolicy(), citizen("RU", "DE"), document(ip, "45 10 123456", ""), nil},
		{"Russian internal passport, a digit short", DefaultPolicy(), citizen("RU", "RU"), document(ip, "45 10 12345", ""),
			[]string{"internal_passport.data.document_no: wrong_document_number country=RU"}},
		{"issuer uncertain: a strict rule's forms are not enforced", DefaultPolicy(), citizen("RU", "DE"), document(ip, "45 10 12345", ""), nil},
		{"issuer uncertain: a residence card of another state", DefaultPolicy(), citizen("ES", "AE"), document(id, "784-1990-1234567-1", ""), nil},
		{"issuer certain: not a Spanish card number", DefaultPolicy(), citizen("ES", "ES"), document(id, "784-1990-1234567-1", ""),
			[]string{"identity_card.data.document_no: wrong_document_number country=ES"}},
		{"issuer uncertain: a check digit still refuses", DefaultPolicy(), citizen("ES", "AE"), document(id, "99999999T", ""),
			[]string{"identity_card.data.document_no: wrong_document_number country=ES"}},
		{"driving licence: no rules", DefaultPolicy(), citizen("ES", "ES"), document(dl, "99999999T", ""), nil},
		{"country without rules", DefaultPolicy(), citizen("GB", "GB"), document(pp, "123", ""), nil},
		{"invalid country codes", DefaultPolicy(), citizen("EU", "XX"), document(pp, "123", ""), nil},
		{"no personal details: issuer unknown", DefaultPolicy(), nil, document(id, "99999999T", ""), nil},
		{"implausible: one problem only", DefaultPolicy(), citizen("ES", "ES"), document(id, "n/a", ""),
			[]string{"identity_card.data.document_no: invalid_document_number"}},
		{"check_numbers: false", policyWith(func(p *Policy) { p.Documents.CheckNumbers = &off }),
			citizen("ES", "ES"), document(id, "99999999T", ""), nil},
		{"before the expiry problem", DefaultPolicy(), citizen("DE", "DE"), document(pp, "C01X00T479", "01.01.2020"),
			[]string{"passport.data.document_no: wrong_document_number country=DE", "passport.data.expiry_date: expired date=01.01.2020"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			els := []passport.Element{tt.el}
			if tt.pd != nil {
				els = append(els, element(passport.TypePersonalDetails, tt.pd))
			}
			assertProblems(t, problems(t, passport.Require(tt.el.Type), tt.policy, els...), tt.want...)
		})
	}
}

// TestWrongDocumentNumberPinned: the problem is fixable and goes to the
// user's app as a data error on document_no with the document's data hash.
func TestWrongDocumentNumberPinned(t *testing.T) {
	doc := document(passport.TypeIdentityCard, "99999999T", "")
	sub := &passport.Submission{Elements: []passport.Element{doc, element(passport.TypePersonalDetails, goodPersonal())}}
	sub.Elements[1].Fields["country_code"] = "ES"
	c, err := New(passport.NewScope(passport.Require(passport.TypeIdentityCard), passport.Require(passport.TypePersonalDetails)), DefaultPolicy(), today)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Check(context.Background(), sub, nil)
	if len(res.Problems) != 1 || res.Problems[0].Code != CodeWrongDocumentNumber || res.Final() {
		t.Fatalf("problems %v (final %t), want one fixable wrong_document_number", res.Problems, res.Final())
	}
	errs, err := SecureValueErrors(sub, res.Problems, func(p Problem) string { return "check the number" })
	if err != nil {
		t.Fatal(err)
	}
	d, ok := errs[0].(*tg.SecureValueErrorData)
	if len(errs) != 1 || !ok || d.Field != "document_no" || !bytes.Equal(d.DataHash, doc.DataCredentials.DataHash) {
		t.Fatalf("errors %#v, want one data error on document_no with the document's data hash", errs)
	}
	if _, ok := d.Type.(*tg.SecureValueTypeIdentityCard); !ok {
		t.Errorf("error type %T, want the identity card", d.Type)
	}
}

// FuzzDocumentNumber: the checker never panics on any document number and
// countries, and a wrong_document_number names one of the countries given.
func FuzzDocumentNumber(f *testing.F) {
	for _, s := range [][3]string{
		{"99999999T", "ES", "ES"}, {"C01X00T479", "DE", "NL"}, {"45 10 12345", "ru", "RU"}, {"", "", ""},
		{"131052-308U", "FI", "SE"}, {"\xff\x00", "E\xff", "ZZ"}, {"11010519491231002X", "CN", "HK"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	c, err := New(passport.NewScope(passport.Require(passport.TypeIdentityCard), passport.Require(passport.TypePersonalDetails)), DefaultPolicy(), today)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, no, cc, res string) {
		sub := &passport.Submission{Elements: []passport.Element{
			document(passport.TypeIdentityCard, no, ""),
			element(passport.TypePersonalDetails, with(goodPersonal(), "country_code", cc, "residence_country_code", res)),
		}}
		for _, p := range c.Check(context.Background(), sub, nil).Problems {
			if p.Code != CodeWrongDocumentNumber {
				continue
			}
			if got := p.Params["country"]; !IsCountry(got) || (!strings.EqualFold(got, cc) && !strings.EqualFold(got, res)) {
				t.Fatalf("%q with %q/%q: the problem names %q", no, cc, res, got)
			}
		}
	})
}

// TestIsCountryOddLetters: two bytes that upper-case to fewer (the dotless
// ı, the long ſ) are no country code, and no panic (found by
// FuzzDocumentNumber).
func TestIsCountryOddLetters(t *testing.T) {
	for s, want := range map[string]bool{"ı": false, "ſ": false, "de": true, "DE": true, "ıt": false, "İ": false} {
		if got := IsCountry(s); got != want {
			t.Errorf("IsCountry(%q) = %t, want %t", s, got, want)
		}
	}
}
