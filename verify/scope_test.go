package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/kycbot/kycbot/passport"
)

// fullScope asks for every kind of element.
func fullScope() passport.Scope {
	return passport.NewScope(
		passport.Require(passport.TypePersonalDetails),
		passport.RequireOneOf(passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard).WithSelfie(),
		passport.Require(passport.TypeAddress),
		passport.RequireOneOf(passport.TypeUtilityBill, passport.TypeBankStatement),
		passport.Require(passport.TypePhoneNumber),
		passport.Require(passport.TypeEmail),
	)
}

func fullSubmission() *passport.Submission {
	dl := document(passport.TypeDriverLicense, "DL123", "01.01.2030")
	dl.Selfie = file(30)
	bs := element(passport.TypeBankStatement, nil)
	bs.Files = files(1, 60)
	phone := element(passport.TypePhoneNumber, nil)
	phone.PhoneNumber = "4915112345678"
	email := element(passport.TypeEmail, nil)
	email.Email = "anna@example.org"
	return &passport.Submission{Nonce: "n", Elements: []passport.Element{
		element(passport.TypePersonalDetails, goodPersonal()), dl,
		element(passport.TypeAddress, goodAddress()), bs, phone, email,
	}}
}

func TestScopeSatisfaction(t *testing.T) {
	c, err := New(fullScope(), DefaultPolicy(), today)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res := c.Check(ctx, fullSubmission(), nil); !res.OK() || res.Final() {
		t.Fatalf("full submission: %v", res.Problems)
	}
	drop := func(types ...passport.ElementType) *passport.Submission {
		sub := fullSubmission()
		var kept []passport.Element
		for _, el := range sub.Elements {
			if !containsType(types, el.Type) {
				kept = append(kept, el)
			}
		}
		sub.Elements = kept
		return sub
	}
	tests := []struct {
		name string
		sub  *passport.Submission
		want []string
	}{
		{"no ID document", drop(passport.TypeDriverLicense),
			[]string{"passport.element: missing_one_of types=passport,driver_license,identity_card"}},
		{"no phone, no email", drop(passport.TypePhoneNumber, passport.TypeEmail),
			[]string{"phone_number.element: missing_element", "email.element: missing_element"}},
		{"no address, no address document", drop(passport.TypeAddress, passport.TypeBankStatement),
			[]string{"address.element: missing_element", "utility_bill.element: missing_one_of types=utility_bill,bank_statement"}},
		{"nothing", &passport.Submission{}, []string{
			"personal_details.element: missing_element",
			"passport.element: missing_one_of types=passport,driver_license,identity_card",
			"address.element: missing_element",
			"utility_bill.element: missing_one_of types=utility_bill,bank_statement",
			"phone_number.element: missing_element", "email.element: missing_element"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertProblems(t, describe(c.Check(ctx, tt.sub, nil).Problems), tt.want...)
		})
	}
}

func containsType(ts []passport.ElementType, t passport.ElementType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func TestResultAndOrder(t *testing.T) {
	c, err := New(fullScope(), policyWith(func(p *Policy) { p.Personal.Citizenship.Deny = []string{"DE"} }), today)
	if err != nil {
		t.Fatal(err)
	}
	sub := fullSubmission()
	sub.Elements[0].Fields = with(goodPersonal(), "gender", "")
	sub.Elements[1].Fields = with(sub.Elements[1].Fields, "expiry_date", "01.01.2020")
	res := c.Check(context.Background(), sub, nil)
	assertProblems(t, describe(res.Problems),
		"personal_details.data.gender: missing_field",
		"personal_details.data.country_code: country_not_allowed country=DE (final)",
		"driver_license.data.expiry_date: expired date=01.01.2020")
	if res.OK() || !res.Final() {
		t.Errorf("OK %v Final %v", res.OK(), res.Final())
	}
	if got := res.Codes(); len(got) != 3 || got[0] != CodeMissingField || got[2] != CodeExpired {
		t.Errorf("Codes = %v", got)
	}
}

func TestSecureValueErrors(t *testing.T) {
	sub := fullSubmission()
	dl := sub.Element(passport.TypeDriverLicense)
	pd := sub.Element(passport.TypePersonalDetails)
	problems := []Problem{
		{Element: passport.TypeDriverLicense, Target: passport.Field("expiry_date"), Code: CodeExpired},
		{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: CodeInvalidDate},
		{Element: passport.TypeDriverLicense, Target: passport.Field("expiry_date"), Code: CodeExpiresSoon},
		{Element: passport.TypeDriverLicense, Target: passport.TargetOf(passport.TargetSelfie), Code: CodeImageTooSmall},
		{Element: passport.TypeIdentityCard, Target: passport.TargetOf(passport.TargetElement), Code: CodeMissingOneOf},
		{Element: passport.TypeBankStatement, Target: passport.TargetOf(passport.TargetElement), Code: CodeMissingTranslation},
	}
	errs, err := SecureValueErrors(sub, problems, func(p Problem) string { return "text " + string(p.Code) })
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 4 {
		t.Fatalf("%d errors, want 4 (two problems on one field collapse, a missing element is not pinnable): %v", len(errs), errs)
	}
	d, ok := errs[0].(*tg.SecureValueErrorData)
	if !ok || d.Field != "expiry_date" || !bytes.Equal(d.DataHash, dl.DataCredentials.DataHash) ||
		d.Text != "text expired\ntext expires_soon" {
		t.Errorf("errs[0] = %#v", errs[0])
	}
	if d, ok := errs[1].(*tg.SecureValueErrorData); !ok || !bytes.Equal(d.DataHash, pd.DataCredentials.DataHash) {
		t.Errorf("errs[1] = %#v", errs[1])
	}
	if s, ok := errs[2].(*tg.SecureValueErrorSelfie); !ok || !bytes.Equal(s.FileHash, dl.Selfie.Credentials.FileHash) {
		t.Errorf("errs[2] = %#v", errs[2])
	}
	bs := sub.Element(passport.TypeBankStatement)
	if e, ok := errs[3].(*tg.SecureValueError); !ok || !bytes.Equal(e.Hash, bs.Hash) {
		t.Errorf("errs[3] = %#v", errs[3])
	}
	if Pinnable(sub, problems[4]) {
		t.Error("a problem about an absent element is pinnable")
	}
}

func TestPolicyValidate(t *testing.T) {
	neg := -1
	tests := []struct {
		name  string
		mut   func(*Policy)
		paths []string
	}{
		{"default", func(*Policy) {}, nil},
		{"negative ages", func(p *Policy) { p.Personal.MinAge, p.Personal.MaxAge = -1, -2 },
			[]string{"personal_details.min_age", "personal_details.max_age"}},
		{"max below min", func(p *Policy) { p.Personal.MaxAge = 16 }, []string{"personal_details.max_age"}},
		{"bad countries", func(p *Policy) {
			p.Personal.Citizenship.Allow = []string{"DE", "Germany", "de"}
			p.Address.Countries.Deny = []string{"XX"}
		}, []string{"personal_details.citizenship.allow[1]", "personal_details.citizenship.allow[2]", "address.countries.deny[0]"}},
		{"allowed and denied", func(p *Policy) {
			p.Personal.Residence.Allow = []string{"FR"}
			p.Personal.Residence.Deny = []string{"fr"}
		}, []string{"personal_details.residence"}},
		{"override on a non-document", func(p *Policy) {
			p.Documents.Types = map[passport.ElementType]DocumentTypeRules{passport.TypeAddress: {}, passport.TypePassport: {MinValidityDays: &neg}}
		}, []string{"documents.types.address", "documents.types.passport.min_validity_days"}},
		{"files", func(p *Policy) { p.Files.MaxSizeMB, p.Files.MinWidth = 50, -5 }, []string{"files.max_size_mb", "files.min_width"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.mut(&p)
			errs := p.Validate()
			var got []string
			for _, e := range errs {
				got = append(got, e.Path)
				if e.Message == "" {
					t.Errorf("%s: empty message", e.Path)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.paths, " ") {
				t.Errorf("paths %q, want %q (%v)", got, tt.paths, errs)
			}
			if _, err := New(fullScope(), p); (err == nil) != (len(tt.paths) == 0) {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	c, err := New(fullScope(), DefaultPolicy(), today)
	if err != nil {
		b.Fatal(err)
	}
	sub := fullSubmission()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Check(ctx, sub, nil); !res.OK() {
			b.Fatal(res.Problems)
		}
	}
}

// BenchmarkCheckVsDecrypt compares checking a full submission (no files)
// with decrypting it (RSA-2048 credentials plus every element), interleaved
// and alternating which goes first; it reports check/decrypt.
func BenchmarkCheckVsDecrypt(b *testing.B) {
	key, err := passport.GenerateKey(2048)
	if err != nil {
		b.Fatal(err)
	}
	var plain []passport.PlainElement
	for _, el := range fullSubmission().Elements {
		plain = append(plain, passport.PlainElement{Type: el.Type, Fields: el.Fields, PhoneNumber: el.PhoneNumber,
			Email: el.Email, FrontSide: scanIf(el.FrontSide), ReverseSide: scanIf(el.ReverseSide),
			Selfie: scanIf(el.Selfie), Files: scansOf(el.Files)})
	}
	sh, err := passport.EncryptSubmission(rand.Reader, &key.PublicKey, "n", plain)
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(fullScope(), DefaultPolicy(), today)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var sub *passport.Submission
	var check, decrypt time.Duration
	doDecrypt := func() {
		t0 := time.Now()
		if sub, err = passport.Decrypt(key, sh.Submission); err != nil {
			b.Fatal(err)
		}
		decrypt += time.Since(t0)
	}
	doCheck := func() {
		t0 := time.Now()
		if res := c.Check(ctx, sub, nil); !res.OK() {
			b.Fatal(res.Problems)
		}
		check += time.Since(t0)
	}
	doDecrypt()
	decrypt = 0
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			doDecrypt()
			doCheck()
		} else {
			doCheck()
			doDecrypt()
		}
	}
	b.ReportMetric(float64(check.Nanoseconds())/float64(b.N), "check-ns/op")
	b.ReportMetric(float64(decrypt.Nanoseconds())/float64(b.N), "decrypt-ns/op")
	b.ReportMetric(float64(check)/float64(decrypt), "check/decrypt")
}

func scanIf(f *passport.File) []byte {
	if f == nil {
		return nil
	}
	return []byte("scan")
}

func scansOf(fs []passport.File) [][]byte {
	var out [][]byte
	for range fs {
		out = append(out, []byte("scan"))
	}
	return out
}
