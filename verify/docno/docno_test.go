package docno

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

const (
	id = passport.TypeIdentityCard
	pp = passport.TypePassport
	ip = passport.TypeInternalPassport
	dl = passport.TypeDriverLicense
)

// TestCheck: every rule with numbers the issuing states publish as
// examples (specimen documents, the worked examples of the algorithm's
// publication), each valid one with a one-character change that breaks
// its check, as people's typos do. The source is next to each. "Widely
// cited" marks an example that references reproduce as the state's own
// but whose official publication was not at hand when this was written
// (every one passes the published algorithm, which a random number does
// with a chance of 1 in 10 to 1 in 97); "constructed" marks a number made
// here with the published algorithm.
func TestCheck(t *testing.T) {
	set := New()
	tests := []struct {
		country string
		doc     passport.ElementType
		number  string
		want    Verdict
		source  string
	}{
		// Germany: specimen identity cards and passport of the Federal
		// Ministry of the Interior / Bundesdruckerei (Erika Mustermann); the
		// number as printed, and as copied from the MRZ with its check digit.
		{"DE", id, "T22000129", Unchecked, "2010 ID card specimen, as printed"},
		{"DE", id, "T220001293", Valid, "2010 ID card specimen, MRZ"},
		{"DE", id, "T220001294", Invalid, "2010 ID card specimen, check digit changed"},
		{"DE", id, "L01X00T471", Valid, "2021 ID card specimen, MRZ"},
		{"DE", id, "l01x00t47 1", Valid, "2021 ID card specimen, lower case and a space"},
		{"DE", id, "L01X00T417", Invalid, "2021 ID card specimen, last two digits swapped"},
		{"DE", pp, "C01X00T478", Valid, "passport specimen, MRZ"},
		{"DE", pp, "C01X00T479", Invalid, "passport specimen, check digit changed"},
		{"DE", pp, "C01X00T47", Unchecked, "passport specimen, as printed"},
		// Netherlands: RvIG specimen passport (De Bruijn, Willeke Liselotte).
		{"NL", pp, "SPECI20142", Valid, "specimen document number, MRZ"},
		{"NL", pp, "SPECI20143", Invalid, "specimen document number, check digit changed"},
		{"NL", id, "999999990", Valid, "specimen BSN"},
		{"NL", id, "999999991", Invalid, "specimen BSN, last digit changed"},
		{"NL", id, "111222333", Valid, "BSN test number, widely cited"},
		{"NL", id, "SPECI2014", Unchecked, "specimen document number, as printed"},
		// Spain: DNI specimen of the Policía Nacional (Carmen Española
		// Española); the Ministry of the Interior's worked examples of the
		// letter.
		{"ES", id, "99999999R", Valid, "DNI specimen"},
		{"ES", id, "99999999-r", Valid, "DNI specimen, with a dash, lower case"},
		{"ES", id, "99999999T", Invalid, "DNI specimen, letter changed"},
		{"ES", id, "12345678Z", Valid, "worked example of the letter, widely cited"},
		{"ES", id, "12345679Z", Invalid, "worked example, a digit changed"},
		{"ES", id, "1234567L", Valid, "DNI 01234567L without its leading zero"},
		{"ES", id, "X1234567L", Valid, "NIE worked example, widely cited"},
		{"ES", id, "X1234567K", Invalid, "NIE worked example, letter changed"},
		{"ES", id, "BAA000589", Valid, "a support number (IDESP) of the form the specimen shows: constructed"},
		{"ES", id, "1234567", Unrecognized, "no DNI card number has 7 digits"},
		{"ES", pp, "99999999R", Valid, "DNI of the specimen, printed in the passport"},
		{"ES", pp, "PAA000000", Unchecked, "passport number: no rule"},
		{"ES", pp, "99999999T", Invalid, "DNI of the specimen, letter changed"},
		// Portugal: AMA's description of the Cartão de Cidadão number.
		{"PT", id, "00000000 0 ZZ4", Valid, "AMA v1.0 form: civil number 0, first issue ZZ (constructed)"},
		{"PT", id, "00000000 0 ZZ5", Invalid, "AMA v1.0 form, check digit changed"},
		{"PT", id, "00000000 0 ZY4", Invalid, "AMA v1.0 form, version changed without its check digit"},
		{"PT", id, "1234567", Unchecked, "a Bilhete de Identidade number"},
		// Poland: the regulation's worked example of the card number; the
		// PESEL worked example of the population register.
		{"PL", id, "ABA300000", Valid, "worked example of the card number, widely cited"},
		{"PL", id, "ABA 300000", Valid, "the same as printed, series apart"},
		{"PL", id, "ABA400000", Invalid, "worked example, check digit changed"},
		{"PL", id, "44051401359", Valid, "PESEL worked example, widely cited"},
		{"PL", id, "44051401358", Invalid, "PESEL worked example, check digit changed"},
		{"PL", id, "AB300000", Unrecognized, "two letters: not a Polish card number"},
		// Belgium: the worked examples of the eID card number and of the
		// national register number.
		{"BE", id, "591-1917064-58", Valid, "eID card number worked example, widely cited"},
		{"BE", id, "591-1917064-59", Invalid, "eID card number, check changed"},
		{"BE", id, "93.05.18-223.61", Valid, "national register number worked example, widely cited"},
		{"BE", pp, "93.05.18-223.62", Invalid, "national register number, check changed"},
		{"BE", id, "00.01.01-001.05", Valid, "national register number of someone born in 2000, 2 prefixed (constructed)"},
		{"BE", pp, "EM000000", Unchecked, "passport number: no check"},
		{"BE", pp, "93.05.18-223.61", Valid, "national register number worked example, in a passport"},
		// Estonia: EVS 585:2007's example and the personal code of the
		// test ID cards.
		{"EE", id, "37605030299", Valid, "EVS 585:2007 example, widely cited"},
		{"EE", id, "37605030298", Invalid, "EVS 585:2007 example, check digit changed"},
		{"EE", pp, "38001085718", Valid, "personal code of the test ID cards (SK ID Solutions)"},
		{"EE", pp, "38001085717", Invalid, "specimen personal code, check digit changed"},
		{"EE", id, "AA0000000", Unchecked, "card number: no public check digit"},
		// Lithuania: LST 1185's worked example.
		{"LT", id, "33309240064", Valid, "asmens kodas worked example, widely cited"},
		{"LT", pp, "33309240065", Invalid, "worked example, check digit changed"},
		{"LT", pp, "33309240064", Valid, "asmens kodas worked example, widely cited, in a passport"},
		{"LT", id, "33309240074", Invalid, "worked example, a digit changed"},
		// Finland: the Digital and Population Data Services Agency's example.
		{"FI", id, "131052-308T", Valid, "DVV example, widely cited"},
		{"FI", id, "131052-308U", Invalid, "DVV example, control character changed"},
		{"FI", pp, "131052Y308T", Valid, "DVV example with a century sign of 2023"},
		{"FI", id, "131052A308T", Valid, "DVV example with the century sign A"},
		{"FI", id, "131053-308T", Invalid, "DVV example, birth day changed"},
		{"FI", pp, "131052+308S", Invalid, "DVV example, control character changed"},
		// Sweden: Skatteverket's SKV 704 example and another.
		{"SE", id, "640823-3234", Valid, "SKV 704 example, widely cited"},
		{"SE", id, "19640823-3234", Valid, "SKV 704 example, widely cited, with the century"},
		{"SE", pp, "640823-3235", Invalid, "SKV 704 example, widely cited, check digit changed"},
		{"SE", id, "811218-9876", Valid, "example, widely cited"},
		{"SE", id, "811218+9876", Valid, "the same, over 100 years old"},
		{"SE", id, "12345678", Unchecked, "card number: no public check digit"},
		{"SE", pp, "811218-9876", Valid, "example, widely cited, in a passport"},
		{"SE", id, "811218-9867", Invalid, "example, widely cited, last two digits swapped"},
		// China: GB 11643-1999's example.
		{"CN", id, "11010519491231002X", Valid, "GB 11643-1999 example, widely cited"},
		{"CN", id, "11010519491231002x", Valid, "GB 11643-1999 example, lower-case x"},
		{"CN", id, "110105194912310021", Invalid, "GB 11643-1999 example, check changed"},
		{"CN", id, "110105491231002", Unrecognized, "first-generation 15-digit number: no longer valid"},
		{"CN", pp, "E12345678", Unchecked, "passport: no rule"},
		// Türkiye: a test number.
		{"TR", id, "10000000146", Valid, "test number, widely cited"},
		{"TR", id, "10000000147", Invalid, "test number, last digit changed"},
		{"TR", pp, "10000000156", Invalid, "test number, 10th digit changed"},
		{"TR", id, "A12B34567", Unchecked, "card serial number: no check"},
		{"TR", pp, "10000000146", Valid, "test number, widely cited, in a passport"},
		// India: the number of a UIDAI sample Aadhaar.
		{"IN", id, "9999 4105 7058", Valid, "UIDAI sample Aadhaar, widely cited"},
		{"IN", id, "9999 4105 7085", Invalid, "UIDAI sample, last two digits swapped"},
		{"IN", id, "ABC1234567", Unchecked, "a voter ID (EPIC) number"},
		// Russia: the forms of series and number.
		{"RU", ip, "45 10 123456", Valid, "internal passport: series of 4 digits, number of 6 (constructed)"},
		{"RU", ip, "45 10 12345", Unrecognized, "a digit missing"},
		{"RU", pp, "75 1234567", Valid, "passport for travel abroad: series of 2, number of 7 (constructed)"},
		{"RU", pp, "45 10 123456", Valid, "internal passport shared as a passport"},
		{"RU", pp, "75 123456", Unrecognized, "a digit missing"},
		// No rule: unchecked, whatever the number.
		{"GB", pp, "X", Unchecked, "no rule for GB"},
		{"DE", dl, "B072RRE2I55", Unchecked, "no rule for driving licences"},
		{"", id, "99999999T", Unchecked, "no country"},
		{"es", id, "99999999T", Invalid, "country in lower case"},
	}
	covered := map[key]map[Verdict]bool{}
	for _, tt := range tests {
		if got := set.Check(tt.country, tt.doc, tt.number); got != tt.want {
			t.Errorf("%s %s %q (%s): %s, want %s", tt.country, tt.doc, tt.number, tt.source, got, tt.want)
		}
		k := key{tt.country, tt.doc}
		if covered[k] == nil {
			covered[k] = map[Verdict]bool{}
		}
		covered[k][tt.want] = true
	}
	// Every rule, for every type it covers, has a valid and a refused case
	// (a strict rule, an unrecognized one too).
	for _, r := range set.Rules() {
		for _, typ := range r.Types {
			c := covered[key{r.Country, typ}]
			if !c[Valid] || !c[Invalid] && !c[Unrecognized] || r.Strict && !c[Unrecognized] {
				t.Errorf("rule %s %s lacks a valid, an invalid or an unrecognized case", r.Country, typ)
			}
		}
	}
}

// TestRulesListed: the countries with rules, and what Rules says of them.
func TestRulesListed(t *testing.T) {
	set := New()
	want := []string{"BE", "CN", "DE", "EE", "ES", "FI", "IN", "LT", "NL", "PL", "PT", "RU", "SE", "TR"}
	if got := set.Countries(); !slices.Equal(got, want) {
		t.Errorf("Countries() = %v, want %v", got, want)
	}
	for _, r := range set.Rules() {
		if len(r.Forms) == 0 || len(r.Types) == 0 {
			t.Errorf("rule %+v lists no forms or types", r)
		}
		for _, typ := range r.Types {
			if !typ.IsIdentityDocument() || !set.Has(r.Country, typ) {
				t.Errorf("rule %s: %s is not an identity document type with a rule", r.Country, typ)
			}
		}
	}
	if set.Has("DE", dl) || set.Has("XX", id) {
		t.Errorf("Has reports rules the tables lack")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"93.05.18-223.61":   "93051822361",
		" l01x00t47 ":       "L01X00T47",
		"131052–308t":       "131052308T",
		"811218+9876":       "811218+9876",
		"45\u00a010 123456": "4510123456",
		"AB/12":             "AB12",
		"ДЕ 12":             "ДЕ12",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIssuingCountries(t *testing.T) {
	tests := []struct {
		doc                    passport.ElementType
		citizenship, residence string
		want                   []string
	}{
		{pp, "de", "FR", []string{"DE", "FR"}},
		{id, "ES", "ES", []string{"ES"}},
		{ip, "RU", "", []string{"RU"}},
		{dl, "DE", "FR", []string{"FR", "DE"}},
		{dl, "", "", nil},
	}
	for _, tt := range tests {
		if got := IssuingCountries(tt.doc, tt.citizenship, tt.residence); !slices.Equal(got, tt.want) {
			t.Errorf("IssuingCountries(%s, %q, %q) = %v, want %v", tt.doc, tt.citizenship, tt.residence, got, tt.want)
		}
	}
}

// FuzzCheck: no input panics, and the verdict does not depend on the
// separators and case Normalize drops.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"T220001293", "99999999R", "11010519491231002X", "131052-308T", "811218+9876",
		"00000000 0 ZZ4", "9999 4105 7058", "ABA300000", "", "-", "ÄÖ123", "\xff\xfe", "4510123456789012345678901234567890"} {
		f.Add("DE", s)
		f.Add("ES", s)
	}
	set := New()
	f.Fuzz(func(t *testing.T, country, number string) {
		for _, c := range set.Countries() {
			for _, typ := range []passport.ElementType{id, pp, ip, dl} {
				v := set.Check(c, typ, number)
				if w := set.Check(c, typ, Normalize(number)); w != v {
					t.Fatalf("%s %s %q: %s, normalized %s", c, typ, number, v, w)
				}
			}
		}
		_ = set.Check(country, id, number)
	})
}

// TestREADMEListsCountries: README's "What kycbot checks" names every
// country with a rule (keep it true when a row is added).
func TestREADMEListsCountries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{
		"BE": "Belgium", "CN": "China", "DE": "Germany", "EE": "Estonia", "ES": "Spain", "FI": "Finland",
		"IN": "India", "LT": "Lithuania", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal",
		"RU": "Russia", "SE": "Sweden", "TR": "Türkiye",
	}
	_, section, _ := strings.Cut(string(readme), "## What kycbot checks")
	section, _, _ = strings.Cut(section, "\n## ")
	section = strings.Join(strings.Fields(section), " ")
	for _, c := range New().Countries() {
		name, ok := names[c]
		if !ok || !strings.Contains(section, name) {
			t.Errorf("README's \"What kycbot checks\" does not name %s (%q)", c, name)
		}
	}
}
