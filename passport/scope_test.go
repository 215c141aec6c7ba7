package passport_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

func TestScopeParseElementName(t *testing.T) {
	P := passport.TypePassport
	tests := []struct {
		name string
		want []passport.ElementType
	}{
		{"personal_details", []passport.ElementType{passport.TypePersonalDetails}},
		{"pd", []passport.ElementType{passport.TypePersonalDetails}},
		{"passport", []passport.ElementType{P}},
		{"pp", []passport.ElementType{P}},
		{"driver_license", []passport.ElementType{passport.TypeDriverLicense}},
		{"dl", []passport.ElementType{passport.TypeDriverLicense}},
		{"identity_card", []passport.ElementType{passport.TypeIdentityCard}},
		{"ic", []passport.ElementType{passport.TypeIdentityCard}},
		{"internal_passport", []passport.ElementType{passport.TypeInternalPassport}},
		{"ip", []passport.ElementType{passport.TypeInternalPassport}},
		{"id_document", []passport.ElementType{P, passport.TypeDriverLicense, passport.TypeIdentityCard}},
		{"idd", []passport.ElementType{P, passport.TypeDriverLicense, passport.TypeIdentityCard}},
		{"address", []passport.ElementType{passport.TypeAddress}},
		{"ad", []passport.ElementType{passport.TypeAddress}},
		{"utility_bill", []passport.ElementType{passport.TypeUtilityBill}},
		{"ub", []passport.ElementType{passport.TypeUtilityBill}},
		{"bank_statement", []passport.ElementType{passport.TypeBankStatement}},
		{"bs", []passport.ElementType{passport.TypeBankStatement}},
		{"rental_agreement", []passport.ElementType{passport.TypeRentalAgreement}},
		{"ra", []passport.ElementType{passport.TypeRentalAgreement}},
		{"passport_registration", []passport.ElementType{passport.TypePassportRegistration}},
		{"pr", []passport.ElementType{passport.TypePassportRegistration}},
		{"temporary_registration", []passport.ElementType{passport.TypeTemporaryRegistration}},
		{"tr", []passport.ElementType{passport.TypeTemporaryRegistration}},
		{"address_document", []passport.ElementType{passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement}},
		{"add", []passport.ElementType{passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement}},
		{"phone_number", []passport.ElementType{passport.TypePhoneNumber}},
		{"pn", []passport.ElementType{passport.TypePhoneNumber}},
		{"email", []passport.ElementType{passport.TypeEmail}},
		{"em", []passport.ElementType{passport.TypeEmail}},
	}
	for _, tt := range tests {
		got, err := passport.ParseElementName(tt.name)
		if err != nil {
			t.Errorf("ParseElementName(%q): %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseElementName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	// The result is a copy: changing it must not change later results.
	got, _ := passport.ParseElementName("idd")
	got[0] = "x"
	if again, _ := passport.ParseElementName("idd"); again[0] != P {
		t.Fatalf("ParseElementName returns a shared slice")
	}
	for _, bad := range []string{"", "PP", "Passport", " pp", "pp ", "phone", "selfie", "d", "v", "_", "pd,pp"} {
		if _, err := passport.ParseElementName(bad); !errors.Is(err, passport.ErrMalformed) {
			t.Errorf("ParseElementName(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestScopeAlias(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range passport.ElementTypes() {
		a := typ.Alias()
		if a == "" || seen[a] {
			t.Fatalf("%s: alias %q empty or duplicated", typ, a)
		}
		seen[a] = true
		got, err := passport.ParseElementName(a)
		if err != nil || len(got) != 1 || got[0] != typ {
			t.Errorf("alias %q of %s resolves to %v, %v", a, typ, got, err)
		}
	}
	if a := passport.ElementType("nope").Alias(); a != "" {
		t.Errorf("unknown type alias = %q", a)
	}
}

// scopeProblem is a wanted problem: the sentinel and words of the message.
type scopeProblem struct {
	sentinel error
	words    []string
}

func TestScopeValidate(t *testing.T) {
	pd, pp, dl, ic, ip := passport.TypePersonalDetails, passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard, passport.TypeInternalPassport
	ad, ub, bs, ra, pr, tr := passport.TypeAddress, passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement, passport.TypePassportRegistration, passport.TypeTemporaryRegistration
	pn, em := passport.TypePhoneNumber, passport.TypeEmail
	R, One := passport.Require, passport.RequireOneOf

	valid := []passport.Scope{
		passport.NewScope(R(pd)),
		passport.NewScope(R(pd).WithNativeNames(), R(pp).WithSelfie().WithTranslation(), R(ad), R(ub).WithTranslation(), R(pn), R(em)),
		passport.NewScope(One(pp, dl, ic, ip).WithSelfie().WithTranslation(), One(ub, bs, ra, pr, tr).WithTranslation()),
		passport.NewScope(One(pp, dl), One(ic, ip).WithSelfie()),
		passport.NewScope(One(pp)),                   // a one-of of one is a single type
		passport.NewScope(One(pd).WithNativeNames()), // likewise
		passport.NewScope(R(dl).WithSelfie(), R(ic).WithTranslation(), R(ip), R(pr), R(tr), R(bs), R(ra)),
	}
	for i, s := range valid {
		if err := s.Validate(); err != nil {
			t.Errorf("valid scope %d (%s): %v", i, s, err)
		}
	}

	tests := []struct {
		name  string
		scope passport.Scope
		want  []scopeProblem
	}{
		{"empty", passport.Scope{}, []scopeProblem{{passport.ErrNotAllowed, []string{"empty", "SCOPE_EMPTY"}}}},
		{"element without type", passport.NewScope(passport.ScopeElement{}), []scopeProblem{{passport.ErrMalformed, []string{"element 1", "no type"}}}},
		{"unknown type", passport.NewScope(R("selfie")), []scopeProblem{{passport.ErrMalformed, []string{"unknown element type", `"selfie"`}}}},
		{"unknown type in one-of", passport.NewScope(One(pp, "visa").WithSelfie()), []scopeProblem{{passport.ErrMalformed, []string{"visa"}}}},
		{"type twice", passport.NewScope(R(pp), R(pd), R(pp).WithSelfie()), []scopeProblem{{passport.ErrNotAllowed, []string{"passport", "elements 1 and 3", "only once"}}}},
		{"type twice across one-of lists", passport.NewScope(One(pp, dl), One(dl, ic)), []scopeProblem{{passport.ErrNotAllowed, []string{"driver_license", "elements 1 and 2"}}}},
		{"type twice in one list", passport.NewScope(One(pp, pp)), []scopeProblem{{passport.ErrNotAllowed, []string{"element 1", "more than once"}}}},
		{"type three times reported once", passport.NewScope(R(em), R(em), R(em)), []scopeProblem{{passport.ErrNotAllowed, []string{"email"}}}},
		{"mixed one-of", passport.NewScope(One(pp, ub)), []scopeProblem{{passport.ErrNotAllowed, []string{"mixes", "split"}}}},
		{"one-of with personal details", passport.NewScope(One(pd, pp)), []scopeProblem{{passport.ErrNotAllowed, []string{"only identity documents", "personal_details"}}}},
		{"one-of with address", passport.NewScope(One(ad, ub)), []scopeProblem{{passport.ErrNotAllowed, []string{"address"}}}},
		{"one-of of plain types", passport.NewScope(One(pn, em)), []scopeProblem{{passport.ErrNotAllowed, []string{"phone_number, email"}}}},
		{"selfie on address document", passport.NewScope(R(ub).WithSelfie()), []scopeProblem{{passport.ErrNotAllowed, []string{"selfie", "utility_bill"}}}},
		{"selfie on address", passport.NewScope(R(ad).WithSelfie()), []scopeProblem{{passport.ErrNotAllowed, []string{"selfie", "address"}}}},
		{"selfie on personal details", passport.NewScope(R(pd).WithSelfie()), []scopeProblem{{passport.ErrNotAllowed, []string{"selfie"}}}},
		{"selfie on address one-of", passport.NewScope(One(ub, bs).WithSelfie()), []scopeProblem{{passport.ErrNotAllowed, []string{"selfie", "utility_bill, bank_statement"}}}},
		{"translation on personal details", passport.NewScope(R(pd).WithTranslation()), []scopeProblem{{passport.ErrNotAllowed, []string{"translation", "personal_details"}}}},
		{"translation on address", passport.NewScope(R(ad).WithTranslation()), []scopeProblem{{passport.ErrNotAllowed, []string{"translation", "address"}}}},
		{"translation on email", passport.NewScope(R(em).WithTranslation()), []scopeProblem{{passport.ErrNotAllowed, []string{"translation", "email"}}}},
		{"native names on passport", passport.NewScope(R(pp).WithNativeNames()), []scopeProblem{{passport.ErrNotAllowed, []string{"native names", "passport"}}}},
		{"native names on one-of", passport.NewScope(One(pp, dl).WithNativeNames()), []scopeProblem{{passport.ErrNotAllowed, []string{"native names"}}}},
		{"all problems at once", passport.NewScope(R(pd).WithTranslation(), R(ub).WithSelfie(), One(pp, bs), R(pd), R("x")), []scopeProblem{
			{passport.ErrNotAllowed, []string{"element 1", "translation"}},
			{passport.ErrNotAllowed, []string{"element 2", "selfie"}},
			{passport.ErrNotAllowed, []string{"element 3", "mixes"}},
			{passport.ErrNotAllowed, []string{"elements 1 and 4"}},
			{passport.ErrMalformed, []string{"element 5", "unknown"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.scope.Validate()
			checkScopeProblems(t, err, tt.want)
			if _, encErr := tt.scope.Encode(); encErr == nil {
				t.Errorf("Encode accepted an invalid scope")
			}
		})
	}
}

// checkScopeProblems checks that err holds exactly the wanted problems, one
// per line, each wrapping its sentinel.
func checkScopeProblems(t *testing.T, err error, want []scopeProblem) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d problems", len(want))
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !errors.Is(errs[i], w.sentinel) {
			t.Errorf("problem %d %q does not wrap %v", i, errs[i], w.sentinel)
		}
		for _, word := range w.words {
			if !strings.Contains(errs[i].Error(), word) {
				t.Errorf("problem %d %q does not mention %q", i, errs[i], word)
			}
		}
	}
}

func TestParseScope(t *testing.T) {
	pd, pp, dl, ic, ip := passport.TypePersonalDetails, passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard, passport.TypeInternalPassport
	ub, bs, ra := passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement
	R, One := passport.Require, passport.RequireOneOf
	tests := []struct {
		in   string
		want passport.Scope
	}{
		{`{"v":1,"d":["pd"]}`, passport.NewScope(R(pd))},
		{`{"d":["personal_details","email"],"v":1}`, passport.NewScope(R(pd), R(passport.TypeEmail))},
		{` { "v" : 1 , "d" : [ "pn" , "em" ] } `, passport.NewScope(R(passport.TypePhoneNumber), R(passport.TypeEmail))},
		{`{"v":1.0,"d":["pd"]}`, passport.NewScope(R(pd))},
		{`{"v":1,"d":[{"_":"pd","n":1}]}`, passport.NewScope(R(pd).WithNativeNames())},
		{`{"v":1,"d":[{"_":"personal_details","n":true}]}`, passport.NewScope(R(pd).WithNativeNames())},
		{`{"v":1,"d":[{"_":"pd","n":0,"s":false,"t":null}]}`, passport.NewScope(R(pd))},
		{`{"v":1,"d":[{"_":"pp","s":1,"t":1}]}`, passport.NewScope(R(pp).WithSelfie().WithTranslation())},
		{`{"v":1,"d":[{"_":"passport","s":true,"t":false}]}`, passport.NewScope(R(pp).WithSelfie())},
		{`{"v":1,"d":[{"_":["pp","dl","ic"],"s":1,"t":1}]}`, passport.NewScope(One(pp, dl, ic).WithSelfie().WithTranslation())},
		{`{"v":1,"d":[{"_":["passport","dl"]}]}`, passport.NewScope(One(pp, dl))},
		{`{"v":1,"d":["idd"]}`, passport.NewScope(One(pp, dl, ic))},
		{`{"v":1,"d":["id_document"]}`, passport.NewScope(One(pp, dl, ic))},
		{`{"v":1,"d":[{"_":"idd","s":1}]}`, passport.NewScope(One(pp, dl, ic).WithSelfie())},
		{`{"v":1,"d":[{"_":["idd","ip"]}]}`, passport.NewScope(One(pp, dl, ic, ip))},
		{`{"v":1,"d":[{"_":"add","t":1}]}`, passport.NewScope(One(ub, bs, ra).WithTranslation())},
		{`{"v":1,"d":[{"_":["pp"]}]}`, passport.NewScope(R(pp))},
		{`{"v":1,"d":[{"_":[{"_":"pp"},{"_":"dl","s":0}],"s":1}]}`, passport.NewScope(One(pp, dl).WithSelfie())},
		// unknown keys are ignored, at both levels
		{`{"v":1,"d":[{"_":"pp","s":1,"x":[1,{"y":2}],"selfie":"yes"}],"extra":true}`, passport.NewScope(R(pp).WithSelfie())},
		// a duplicate JSON key: the last one wins, like encoding/json
		{`{"v":1,"d":[{"_":"pd","_":"pp"}]}`, passport.NewScope(R(pp))},
		// escapes are decoded
		{`{"v":1,"d":["\u0070\u0064"]}`, passport.NewScope(R(pd))},
	}
	for _, tt := range tests {
		got, err := passport.ParseScope(tt.in)
		if err != nil {
			t.Errorf("ParseScope(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseScope(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseScopeInvalid(t *testing.T) {
	tests := []struct {
		in       string
		sentinel error
		words    []string
	}{
		{``, passport.ErrMalformed, []string{"invalid JSON"}},
		{`garbage`, passport.ErrMalformed, []string{"invalid JSON"}},
		{`{"v":1,"d":["pd"]`, passport.ErrMalformed, []string{"invalid JSON"}},
		{`{"v":1,"d":["pd"]} x`, passport.ErrMalformed, []string{"invalid JSON"}},
		{`null`, passport.ErrMalformed, []string{"null"}},
		{`[]`, passport.ErrMalformed, []string{"wrong JSON type"}},
		{`"pd"`, passport.ErrMalformed, nil},
		{`{"d":["pd"]}`, passport.ErrMalformed, []string{`"v":1`}},
		{`{"v":2,"d":["pd"]}`, passport.ErrMalformed, []string{"version 2"}},
		{`{"v":0,"d":["pd"]}`, passport.ErrMalformed, []string{"version 0"}},
		{`{"v":"1","d":["pd"]}`, passport.ErrMalformed, []string{"number 1"}},
		{`{"v":null,"d":["pd"]}`, passport.ErrMalformed, []string{"number 1"}},
		{`{"v":1}`, passport.ErrMalformed, []string{`"d"`}},
		{`{"v":1,"d":"pd"}`, passport.ErrMalformed, []string{"array"}},
		{`{"v":1,"d":{}}`, passport.ErrMalformed, []string{"array"}},
		{`{"v":1,"d":[]}`, passport.ErrNotAllowed, []string{"SCOPE_EMPTY"}},
		{`{"v":1,"d":null}`, passport.ErrNotAllowed, []string{"SCOPE_EMPTY"}},
		{`{"v":1,"d":["selfie"]}`, passport.ErrMalformed, []string{"element 1", "unknown element name"}},
		{`{"v":1,"d":["PD"]}`, passport.ErrMalformed, []string{"unknown element name"}},
		{`{"v":1,"d":[1]}`, passport.ErrMalformed, []string{"element 1", "name"}},
		{`{"v":1,"d":[null]}`, passport.ErrMalformed, nil},
		{`{"v":1,"d":[["pp","dl"]]}`, passport.ErrMalformed, nil},
		{`{"v":1,"d":[{"s":1}]}`, passport.ErrMalformed, []string{`no "_"`}},
		{`{"v":1,"d":[{"type":"passport","selfie":true}]}`, passport.ErrMalformed, []string{`no "_"`}},
		{`{"v":1,"d":[{"_":1}]}`, passport.ErrMalformed, []string{"name or a list"}},
		{`{"v":1,"d":[{"_":null}]}`, passport.ErrMalformed, nil},
		{`{"v":1,"d":[{"_":[]}]}`, passport.ErrMalformed, []string{"empty"}},
		{`{"v":1,"d":[{"_":["pp",1]}]}`, passport.ErrMalformed, []string{"one-of entry 2"}},
		{`{"v":1,"d":[{"_":["pp",["dl"]]}]}`, passport.ErrMalformed, []string{"one-of entry 2"}},
		{`{"v":1,"d":[{"_":["pp",{"_":["dl"]}]}]}`, passport.ErrMalformed, []string{"cannot nest"}},
		{`{"v":1,"d":[{"_":["pp",{"s":1}]}]}`, passport.ErrMalformed, []string{`no "_"`}},
		{`{"v":1,"d":[{"_":["pp",{"_":"dl","s":1}]}]}`, passport.ErrNotAllowed, []string{"one-of list", "on the list's object"}},
		{`{"v":1,"d":[{"_":"pp","s":2}]}`, passport.ErrMalformed, []string{`flag "s"`}},
		{`{"v":1,"d":[{"_":"pp","t":"1"}]}`, passport.ErrMalformed, []string{`flag "t"`}},
		{`{"v":1,"d":[{"_":"pd","n":1.0}]}`, passport.ErrMalformed, []string{`flag "n"`}},
		{`{"v":1,"d":[{"_":"pd","n":[]}]}`, passport.ErrMalformed, []string{`flag "n"`}},
		{`{"v":1,"d":["pp","pd","pp"]}`, passport.ErrNotAllowed, []string{"elements 1 and 3"}},
		{`{"v":1,"d":["idd","dl"]}`, passport.ErrNotAllowed, []string{"driver_license", "elements 1 and 2"}},
		{`{"v":1,"d":["add",{"_":"address_document","t":1}]}`, passport.ErrNotAllowed, []string{"utility_bill", "only once"}},
		{`{"v":1,"d":[{"_":["pp","ub"]}]}`, passport.ErrNotAllowed, []string{"mixes"}},
		{`{"v":1,"d":[{"_":["idd","add"]}]}`, passport.ErrNotAllowed, []string{"mixes"}},
		{`{"v":1,"d":[{"_":["pd","pp"]}]}`, passport.ErrNotAllowed, []string{"only identity documents"}},
		{`{"v":1,"d":[{"_":"ub","s":1}]}`, passport.ErrNotAllowed, []string{"selfie", "utility_bill"}},
		{`{"v":1,"d":[{"_":"add","s":1}]}`, passport.ErrNotAllowed, []string{"selfie"}},
		{`{"v":1,"d":[{"_":"pd","t":1}]}`, passport.ErrNotAllowed, []string{"translation", "personal_details"}},
		{`{"v":1,"d":[{"_":"pp","n":1}]}`, passport.ErrNotAllowed, []string{"native names"}},
		{`{"v":1,"d":[{"_":"em","n":true}]}`, passport.ErrNotAllowed, []string{"native names"}},
	}
	for _, tt := range tests {
		got, err := passport.ParseScope(tt.in)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("ParseScope(%s) = %v, %v; want error wrapping %v", tt.in, got, err, tt.sentinel)
			continue
		}
		if got.Elements != nil {
			t.Errorf("ParseScope(%s) returned elements with an error", tt.in)
		}
		for _, w := range tt.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseScope(%s) error %q does not mention %q", tt.in, err, w)
			}
		}
	}
}

func TestParseScopeReportsEveryProblem(t *testing.T) {
	_, err := passport.ParseScope(`{"v":1,"d":["pd",7,{"_":"xx","s":5},"pp"]}`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"element 2", "element 3", `flag "s"`, "unknown element name"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	_, err = passport.ParseScope(`{"v":3}`)
	for _, w := range []string{"version 3", `"d"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %q", err, w)
		}
	}
}

// scopeFlagSets lists every combination of the three flags.
func scopeFlagSets() []passport.ScopeElement {
	var out []passport.ScopeElement
	for m := 0; m < 8; m++ {
		out = append(out, passport.ScopeElement{Selfie: m&1 != 0, Translation: m&2 != 0, NativeNames: m&4 != 0})
	}
	return out
}

func TestScopeRoundTripEveryTypeAndFlag(t *testing.T) {
	for _, typ := range passport.ElementTypes() {
		for _, f := range scopeFlagSets() {
			e := f
			e.Types = []passport.ElementType{typ}
			s := passport.NewScope(e)
			wantOK := (!e.Selfie || typ.HasSelfie()) && (!e.Translation || typ.HasTranslation()) &&
				(!e.NativeNames || typ == passport.TypePersonalDetails)
			enc, err := s.Encode()
			if !wantOK {
				if !errors.Is(err, passport.ErrNotAllowed) {
					t.Errorf("%s: Encode = %q, %v; want ErrNotAllowed", e, enc, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: Encode: %v", e, err)
				continue
			}
			if !strings.Contains(enc, `"`+typ.Alias()+`"`) || strings.Contains(enc, string(typ)) && len(string(typ)) > 2 {
				t.Errorf("%s: Encode = %s, want the short alias %q", e, enc, typ.Alias())
			}
			if !e.Selfie && !e.Translation && !e.NativeNames {
				if want := `{"v":1,"d":["` + typ.Alias() + `"]}`; enc != want {
					t.Errorf("%s: Encode = %s, want %s", e, enc, want)
				}
			}
			back, err := passport.ParseScope(enc)
			if err != nil {
				t.Errorf("%s: ParseScope(%s): %v", e, enc, err)
				continue
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("%s: round trip %s gave %#v", e, enc, back)
			}
		}
	}
}

func TestScopeRoundTripOneOf(t *testing.T) {
	ids := []passport.ElementType{passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard, passport.TypeInternalPassport}
	addrs := []passport.ElementType{passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement, passport.TypePassportRegistration, passport.TypeTemporaryRegistration}
	lists := [][]passport.ElementType{ids, ids[:2], ids[1:], ids[2:], addrs, addrs[:2], addrs[3:], {addrs[4], addrs[0]}}
	for _, list := range lists {
		for _, f := range scopeFlagSets() {
			e := f
			e.Types = list
			s := passport.NewScope(e, passport.Require(passport.TypeEmail))
			wantOK := !e.NativeNames && (!e.Selfie || list[0].IsIdentityDocument())
			enc, err := s.Encode()
			if !wantOK {
				if !errors.Is(err, passport.ErrNotAllowed) {
					t.Errorf("%s: Encode = %q, %v; want ErrNotAllowed", e, enc, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: Encode: %v", e, err)
				continue
			}
			back, err := passport.ParseScope(enc)
			if err != nil {
				t.Errorf("%s: ParseScope(%s): %v", e, enc, err)
				continue
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("%s: round trip %s gave %#v", e, enc, back)
			}
		}
	}
}

func TestScopeEncodeForm(t *testing.T) {
	s := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.RequireOneOf(passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard).WithSelfie().WithTranslation(),
		passport.Require(passport.TypeInternalPassport).WithTranslation(),
		passport.RequireOneOf(passport.TypeUtilityBill, passport.TypeBankStatement),
		passport.Require(passport.TypeAddress),
		passport.Require(passport.TypePhoneNumber),
	)
	got, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"d":[{"_":"pd","n":1},{"_":["pp","dl","ic"],"s":1,"t":1},{"_":"ip","t":1},{"_":["ub","bs"]},"ad","pn"]}`
	if got != want {
		t.Errorf("Encode =\n%s\nwant\n%s", got, want)
	}
}

func TestScopeJSON(t *testing.T) {
	type config struct {
		Scope passport.Scope `json:"scope"`
	}
	want := passport.NewScope(passport.Require(passport.TypePassport).WithSelfie(), passport.Require(passport.TypeEmail))
	b, err := json.Marshal(config{want})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); s != `{"scope":{"v":1,"d":[{"_":"pp","s":1},"em"]}}` {
		t.Errorf("json.Marshal = %s", s)
	}
	for _, in := range []string{string(b), `{"scope":"{\"v\":1,\"d\":[{\"_\":\"passport\",\"s\":true},\"email\"]}"}`} {
		var c config
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Errorf("json.Unmarshal(%s): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(c.Scope, want) {
			t.Errorf("json.Unmarshal(%s) = %v", in, c.Scope)
		}
	}
	var c config
	if err := json.Unmarshal([]byte(`{"scope":{"v":1,"d":[{"_":"pd","s":1}]}}`), &c); !errors.Is(err, passport.ErrNotAllowed) {
		t.Errorf("json.Unmarshal of an invalid scope: %v", err)
	}
	// MarshalJSON does not validate, so an invalid scope can still be logged.
	if b, err := json.Marshal(passport.NewScope(passport.Require(passport.TypeAddress).WithSelfie())); err != nil || string(b) != `{"v":1,"d":[{"_":"ad","s":1}]}` {
		t.Errorf("json.Marshal(invalid) = %s, %v", b, err)
	}
	if b, err := json.Marshal(passport.Scope{}); err != nil || string(b) != `{"v":1,"d":[]}` {
		t.Errorf("json.Marshal(empty) = %s, %v", b, err)
	}
}

func TestScopeHelpers(t *testing.T) {
	s, err := passport.ParseScope(`{"v":1,"d":[{"_":"pd","n":1},{"_":"idd","s":1},"add","em"]}`)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []passport.ElementType{passport.TypePersonalDetails, passport.TypePassport, passport.TypeDriverLicense,
		passport.TypeIdentityCard, passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement, passport.TypeEmail}
	if got := s.Types(); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("Types = %v", got)
	}
	for _, tt := range []struct {
		typ                passport.ElementType
		contains, requires bool
	}{
		{passport.TypePersonalDetails, true, true},
		{passport.TypeEmail, true, true},
		{passport.TypePassport, true, false},
		{passport.TypeBankStatement, true, false},
		{passport.TypeInternalPassport, false, false},
		{passport.TypePhoneNumber, false, false},
	} {
		if got := s.Contains(tt.typ); got != tt.contains {
			t.Errorf("Contains(%s) = %v", tt.typ, got)
		}
		if got := s.Requires(tt.typ); got != tt.requires {
			t.Errorf("Requires(%s) = %v", tt.typ, got)
		}
	}
	if e, ok := s.Element(passport.TypeIdentityCard); !ok || !e.Selfie || !e.IsOneOf() || len(e.Types) != 3 {
		t.Errorf("Element(identity_card) = %v, %v", e, ok)
	}
	if e, ok := s.Element(passport.TypePersonalDetails); !ok || !e.NativeNames || e.IsOneOf() {
		t.Errorf("Element(personal_details) = %v, %v", e, ok)
	}
	if _, ok := s.Element(passport.TypeAddress); ok {
		t.Errorf("Element(address) found")
	}
	missing := s.Missing([]passport.ElementType{passport.TypeDriverLicense, passport.TypeEmail, passport.TypeAddress})
	if len(missing) != 2 || missing[0].Types[0] != passport.TypePersonalDetails || missing[1].Types[0] != passport.TypeUtilityBill {
		t.Errorf("Missing = %v", missing)
	}
	if m := s.Missing(s.Types()); m != nil {
		t.Errorf("Missing(all) = %v", m)
	}
	if got, want := s.String(), "personal_details (native names); one of passport/driver_license/identity_card (selfie); one of utility_bill/bank_statement/rental_agreement; email"; got != want {
		t.Errorf("String =\n%s\nwant\n%s", got, want)
	}
	if got := (passport.ScopeElement{}).String(); got != "(no type)" {
		t.Errorf("empty element String = %q", got)
	}
}

func TestScopeBuildersCopy(t *testing.T) {
	list := []passport.ElementType{passport.TypePassport, passport.TypeDriverLicense}
	e := passport.RequireOneOf(list...)
	list[0] = passport.TypeEmail
	if e.Types[0] != passport.TypePassport {
		t.Fatalf("RequireOneOf keeps the caller's slice")
	}
	s := e.WithSelfie()
	s.Types[1] = passport.TypeEmail
	if e.Types[1] != passport.TypeDriverLicense || e.Selfie {
		t.Fatalf("WithSelfie changed its receiver")
	}
}

func ExampleParseScope() {
	s, err := passport.ParseScope(`{"v":1,"d":[{"_":"personal_details","n":1},{"_":"idd","s":1,"t":1},"add","pn"]}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)
	fmt.Println(s.Requires(passport.TypePersonalDetails), s.Requires(passport.TypePassport), s.Contains(passport.TypePassport))
	enc, _ := s.Encode()
	fmt.Println(enc)

	_, err = passport.ParseScope(`{"v":1,"d":[{"_":"ub","s":1}]}`)
	fmt.Println(errors.Is(err, passport.ErrNotAllowed))
	// Output:
	// personal_details (native names); one of passport/driver_license/identity_card (selfie, translation); one of utility_bill/bank_statement/rental_agreement; phone_number
	// true false true
	// {"v":1,"d":[{"_":"pd","n":1},{"_":["pp","dl","ic"],"s":1,"t":1},{"_":["ub","bs","ra"]},"pn"]}
	// true
}

func ExampleScope_Validate() {
	s := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithTranslation(),
		passport.RequireOneOf(passport.TypePassport, passport.TypeUtilityBill),
	)
	fmt.Println(s.Validate())
	// Output:
	// passport: not allowed by the protocol: scope element 1: a translation cannot be asked for with personal_details (only with identity and address documents): remove the translation flag or those types
	// passport: not allowed by the protocol: scope element 2 mixes identity documents (passport) with address documents (utility_bill) in one one-of list: split it into two elements
}
