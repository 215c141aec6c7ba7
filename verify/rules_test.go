package verify

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// The tests run on 23.11.2026 (a fixed clock).
var today = fixedClock(2026, 11, 23)

func hash(seed byte) []byte { return []byte(strings.Repeat(string(rune('A'+seed%26)), 32)) }

func file(seed byte) *passport.File {
	return &passport.File{Credentials: passport.FileCredentials{FileHash: hash(seed), Secret: hash(seed + 1)}}
}

func files(n int, seed byte) []passport.File {
	out := make([]passport.File, n)
	for i := range out {
		out[i] = *file(seed + byte(i))
	}
	return out
}

func goodPersonal() map[string]string {
	return map[string]string{
		"first_name": "Anna", "last_name": "Müller", "middle_name": "", "birth_date": "15.06.1990",
		"gender": "female", "country_code": "DE", "residence_country_code": "DE",
		"first_name_native": "", "last_name_native": "", "middle_name_native": "",
	}
}

func goodAddress() map[string]string {
	return map[string]string{
		"street_line1": "Hauptstraße 5", "street_line2": "", "city": "Berlin", "state": "",
		"country_code": "DE", "post_code": "10115",
	}
}

func element(t passport.ElementType, fields map[string]string) passport.Element {
	el := passport.Element{Type: t, Hash: hash(byte(len(t)))}
	if fields != nil {
		el.Fields = fields
		el.DataCredentials = &passport.DataCredentials{DataHash: hash(byte(len(t) + 3)), Secret: hash(1)}
	}
	return el
}

func document(t passport.ElementType, no, expiry string) passport.Element {
	el := element(t, map[string]string{"document_no": no, "expiry_date": expiry})
	el.FrontSide = file(10)
	if t.HasReverseSide() {
		el.ReverseSide = file(20)
	}
	return el
}

func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// problems checks one element in a scope of just that element.
func problems(t *testing.T, se passport.ScopeElement, p Policy, els ...passport.Element) []string {
	t.Helper()
	scope := passport.NewScope(se)
	c, err := New(scope, p, today)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Check(context.Background(), &passport.Submission{Elements: els}, nil)
	return describe(res.Problems)
}

func describe(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		s := p.String()
		if len(p.Params) > 0 {
			keys := make([]string, 0, len(p.Params))
			for k := range p.Params {
				keys = append(keys, k)
			}
			sortStrings(keys)
			for _, k := range keys {
				s += fmt.Sprintf(" %s=%s", k, p.Params[k])
			}
		}
		if p.Final {
			s += " (final)"
		}
		out[i] = s
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func assertProblems(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func policyWith(f func(*Policy)) Policy {
	p := DefaultPolicy()
	f(&p)
	return p
}

func TestPersonalDetailsRules(t *testing.T) {
	pd := passport.Require(passport.TypePersonalDetails)
	latin := policyWith(func(p *Policy) { p.Personal.LatinNames = true })
	tests := []struct {
		name   string
		se     passport.ScopeElement
		policy Policy
		fields map[string]string
		want   []string
	}{
		{"valid, empty optional strings", pd, DefaultPolicy(), goodPersonal(), nil},
		{"absent optional keys", pd, DefaultPolicy(), map[string]string{
			"first_name": "A", "last_name": "B", "birth_date": "01.01.1990", "gender": "male",
			"country_code": "FR", "residence_country_code": "FR"}, nil},
		{"names missing", pd, DefaultPolicy(), with(goodPersonal(), "first_name", "", "last_name", ""),
			[]string{"personal_details.data.first_name: missing_field", "personal_details.data.last_name: missing_field"}},
		{"name too long", pd, policyWith(func(p *Policy) { p.Personal.MaxNameLength = 5 }),
			with(goodPersonal(), "last_name", "Müllerová"), []string{"personal_details.data.last_name: too_long max=5"}},
		{"Latin names with diacritics pass", pd, latin, with(goodPersonal(), "first_name", "Zoë-Éloïse", "last_name", "O'Brien Núñez"), nil},
		{"Cyrillic in a Latin field", pd, latin, with(goodPersonal(), "first_name", "Анна"),
			[]string{"personal_details.data.first_name: not_latin"}},
		{"Cyrillic allowed without the rule", pd, DefaultPolicy(), with(goodPersonal(), "first_name", "Анна"), nil},
		{"native names in any script", pd.WithNativeNames(), latin,
			with(goodPersonal(), "first_name_native", "علی", "last_name_native", "رضایی"), nil},
		{"native names required by the scope", pd.WithNativeNames(), DefaultPolicy(), goodPersonal(),
			[]string{"personal_details.data.first_name_native: missing_field", "personal_details.data.last_name_native: missing_field"}},
		{"birth date not a date", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "31.02.1990"),
			[]string{"personal_details.data.birth_date: invalid_date"}},
		{"birth date on a missing leap day", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "29.02.2001"),
			[]string{"personal_details.data.birth_date: invalid_date"}},
		{"birth date on a leap day", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "29.02.2000"), nil},
		{"birth date ISO form", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "1990-06-15"),
			[]string{"personal_details.data.birth_date: invalid_date"}},
		{"birth date missing", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", ""),
			[]string{"personal_details.data.birth_date: missing_field"}},
		{"born in the future", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "24.11.2026"),
			[]string{"personal_details.data.birth_date: date_in_future date=24.11.2026"}},
		{"18 today", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "23.11.2008"), nil},
		{"18 tomorrow", pd, DefaultPolicy(), with(goodPersonal(), "birth_date", "24.11.2008"),
			[]string{"personal_details.data.birth_date: too_young age=17 min_age=18 (final)"}},
		{"born on a leap day, 18 on 1 March", pd, policyWith(func(p *Policy) { p.Personal.MinAge = 19 }),
			with(goodPersonal(), "birth_date", "29.02.2008"),
			[]string{"personal_details.data.birth_date: too_young age=18 min_age=19 (final)"}},
		{"too old", pd, policyWith(func(p *Policy) { p.Personal.MaxAge = 65 }), with(goodPersonal(), "birth_date", "01.01.1950"),
			[]string{"personal_details.data.birth_date: too_old age=76 max_age=65 (final)"}},
		{"no minimum age", pd, policyWith(func(p *Policy) { p.Personal.MinAge = 0 }), with(goodPersonal(), "birth_date", "01.01.2020"), nil},
		{"gender", pd, DefaultPolicy(), with(goodPersonal(), "gender", "Female"),
			[]string{"personal_details.data.gender: invalid_gender"}},
		{"lower-case country codes", pd, DefaultPolicy(), with(goodPersonal(), "country_code", "de", "residence_country_code", "at"), nil},
		{"invalid country codes", pd, DefaultPolicy(), with(goodPersonal(), "country_code", "UK", "residence_country_code", "DEU"),
			[]string{"personal_details.data.country_code: invalid_country", "personal_details.data.residence_country_code: invalid_country"}},
		{"citizenship denied", pd, policyWith(func(p *Policy) { p.Personal.Citizenship.Deny = []string{"kp"} }),
			with(goodPersonal(), "country_code", "KP"),
			[]string{"personal_details.data.country_code: country_not_allowed country=KP (final)"}},
		{"residence outside the allow list", pd, policyWith(func(p *Policy) { p.Personal.Residence.Allow = []string{"AT", "CH"} }),
			with(goodPersonal(), "residence_country_code", "de"),
			[]string{"personal_details.data.residence_country_code: country_not_allowed country=DE (final)"}},
		{"residence inside the allow list", pd, policyWith(func(p *Policy) { p.Personal.Residence.Allow = []string{"AT", "DE"} }),
			goodPersonal(), nil},
		{"many problems in field order", pd, DefaultPolicy(),
			with(goodPersonal(), "gender", "x", "first_name", "", "country_code", "ZZ", "birth_date", "2000"),
			[]string{"personal_details.data.first_name: missing_field", "personal_details.data.birth_date: invalid_date",
				"personal_details.data.gender: invalid_gender", "personal_details.data.country_code: invalid_country"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.se, tt.policy, element(passport.TypePersonalDetails, tt.fields))
			assertProblems(t, got, tt.want...)
		})
	}
}

func TestDocumentRules(t *testing.T) {
	pp, dl := passport.TypePassport, passport.TypeDriverLicense
	yes, no, thirty := true, false, 30
	strict := policyWith(func(p *Policy) {
		p.Documents.RequireExpiry = true
		p.Documents.MinValidityDays = 90
		p.Documents.Types = map[passport.ElementType]DocumentTypeRules{dl: {RequireExpiry: &no, MinValidityDays: &thirty}}
	})
	tests := []struct {
		name   string
		policy Policy
		el     passport.Element
		want   []string
	}{
		{"valid", DefaultPolicy(), document(pp, "C01X00T47", "01.01.2030"), nil},
		{"no expiry allowed by default", DefaultPolicy(), document(pp, "C01X00T47", ""), nil},
		{"Cyrillic series", DefaultPolicy(), document(passport.TypeInternalPassport, "45 10 №123456", "01.01.2030"),
			[]string{"internal_passport.data.document_no: invalid_document_number"}},
		{"Cyrillic letters and digits", DefaultPolicy(), document(passport.TypeInternalPassport, "АБ 123456", ""), nil},
		{"document number missing", DefaultPolicy(), document(pp, "", "01.01.2030"),
			[]string{"passport.data.document_no: missing_field"}},
		{"implausible document number", DefaultPolicy(), document(pp, "n/a", "01.01.2030"),
			[]string{"passport.data.document_no: invalid_document_number"}},
		{"expired yesterday", DefaultPolicy(), document(pp, "123456", "22.11.2026"),
			[]string{"passport.data.expiry_date: expired date=22.11.2026"}},
		{"expires today", DefaultPolicy(), document(pp, "123456", "23.11.2026"), nil},
		{"bad expiry date", DefaultPolicy(), document(pp, "123456", "30.02.2030"),
			[]string{"passport.data.expiry_date: invalid_date"}},
		{"expiry required", strict, document(pp, "123456", ""), []string{"passport.data.expiry_date: expiry_required"}},
		{"validity too short", strict, document(pp, "123456", "20.02.2027"),
			[]string{"passport.data.expiry_date: expires_soon date=20.02.2027 min_days=90"}},
		{"validity long enough", strict, document(pp, "123456", "21.02.2027"), nil},
		{"type override: no expiry needed", strict, document(dl, "123456", ""), nil},
		{"type override: 30 days", strict, document(dl, "123456", "22.12.2026"),
			[]string{"driver_license.data.expiry_date: expires_soon date=22.12.2026 min_days=30"}},
		{"type override does not leak", policyWith(func(p *Policy) {
			p.Documents.Types = map[passport.ElementType]DocumentTypeRules{dl: {RequireExpiry: &yes}}
		}), document(pp, "123456", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, problems(t, passport.Require(tt.el.Type), tt.policy, tt.el), tt.want...)
		})
	}
}

func TestAddressRules(t *testing.T) {
	ad := passport.Require(passport.TypeAddress)
	tests := []struct {
		name   string
		policy Policy
		fields map[string]string
		pd     map[string]string
		want   []string
	}{
		{"valid", DefaultPolicy(), goodAddress(), nil, nil},
		{"required fields", DefaultPolicy(), with(goodAddress(), "street_line1", "", "city", ""), nil,
			[]string{"address.data.street_line1: missing_field", "address.data.city: missing_field"}},
		{"post code wrong for the country", DefaultPolicy(), with(goodAddress(), "post_code", "1011"), nil,
			[]string{"address.data.post_code: invalid_post_code country=DE"}},
		{"post code missing", DefaultPolicy(), with(goodAddress(), "post_code", ""), nil,
			[]string{"address.data.post_code: missing_field"}},
		{"British post code, lower case", DefaultPolicy(), with(goodAddress(), "country_code", "gb", "post_code", "sw1a 1aa"), nil, nil},
		{"Dutch post code", DefaultPolicy(), with(goodAddress(), "country_code", "NL", "post_code", "1012 JS"), nil, nil},
		{"Russian post code", DefaultPolicy(), with(goodAddress(), "country_code", "RU", "post_code", "10100"), nil,
			[]string{"address.data.post_code: invalid_post_code country=RU"}},
		{"country without a known format", DefaultPolicy(), with(goodAddress(), "country_code", "KE", "post_code", "00100 GPO"), nil, nil},
		{"country without post codes", DefaultPolicy(), with(goodAddress(), "country_code", "AE", "post_code", ""), nil, nil},
		{"Hong Kong with a post code anyway", DefaultPolicy(), with(goodAddress(), "country_code", "HK", "post_code", "000000"), nil, nil},
		{"invalid country", DefaultPolicy(), with(goodAddress(), "country_code", "EU"), nil,
			[]string{"address.data.country_code: invalid_country"}},
		{"country denied", policyWith(func(p *Policy) { p.Address.Countries.Deny = []string{"DE"} }), goodAddress(), nil,
			[]string{"address.data.country_code: country_not_allowed country=DE (final)"}},
		{"residence matches", policyWith(func(p *Policy) { p.Address.ResidenceMatchesAddress = true }),
			goodAddress(), with(goodPersonal(), "residence_country_code", "de"), nil},
		{"residence differs", policyWith(func(p *Policy) { p.Address.ResidenceMatchesAddress = true }),
			goodAddress(), with(goodPersonal(), "residence_country_code", "AT"),
			[]string{"address.data.country_code: residence_mismatch address_country=DE residence_country=AT"}},
		{"residence differs without the rule", DefaultPolicy(), goodAddress(), with(goodPersonal(), "residence_country_code", "AT"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			els := []passport.Element{element(passport.TypeAddress, tt.fields)}
			if tt.pd != nil {
				els = append(els, element(passport.TypePersonalDetails, tt.pd))
			}
			assertProblems(t, problems(t, ad, tt.policy, els...), tt.want...)
		})
	}
}
