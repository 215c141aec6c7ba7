package docno

import (
	"regexp"
	"slices"
	"strings"

	"github.com/kycbot/kycbot/passport"
)

// Verdict is what a Set says of a document number.
type Verdict int

// Verdicts.
const (
	// Unchecked: no rule for the country and document type, or a lenient
	// rule that does not know the number's form. The caller's general
	// checks apply.
	Unchecked Verdict = iota
	// Valid: the number has a form the state uses, with right check
	// characters.
	Valid
	// Invalid: the number has a form the state uses, with a wrong check
	// digit.
	Invalid
	// Unrecognized: the rule is strict and the number has none of the
	// forms the state uses. Whether that refuses it is the caller's call:
	// it does when the issuer is certain (see IssuingCountries).
	Unrecognized
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	case Unrecognized:
		return "unrecognized"
	}
	return "unchecked"
}

// form is one shape a number takes on a document: a pattern and, when the
// shape carries check characters, the function that checks them.
type form struct {
	name    string
	pattern string
	check   func(string) bool
}

// row is the rule of one issuing country for some document types.
type row struct {
	country string
	types   []passport.ElementType
	strict  bool // numbers of no listed form are Unrecognized (else Unchecked)
	forms   []form
}

type compiled struct {
	row
	res []*regexp.Regexp
}

// Set holds the compiled tables. It is immutable and safe for concurrent
// use; New builds one.
type Set struct {
	rules map[key]*compiled
	list  []*compiled // in table order
}

type key struct {
	country string
	doc     passport.ElementType
}

// New compiles the tables.
func New() *Set {
	s := &Set{rules: map[key]*compiled{}}
	for _, r := range rows() {
		c := &compiled{row: r}
		for _, f := range r.forms {
			c.res = append(c.res, regexp.MustCompile(`^(?:`+f.pattern+`)$`))
		}
		for _, t := range r.types {
			s.rules[key{r.country, t}] = c
		}
		s.list = append(s.list, c)
	}
	return s
}

// Has reports whether the Set has a rule for documents of type doc issued
// by country (an ISO 3166-1 alpha-2 code, any case).
func (s *Set) Has(country string, doc passport.ElementType) bool {
	_, ok := s.rules[key{strings.ToUpper(country), doc}]
	return ok
}

// Check says whether number fits the rule of country (ISO 3166-1 alpha-2,
// any case) for documents of type doc. Numbers are normalized first
// (Normalize).
func (s *Set) Check(country string, doc passport.ElementType, number string) Verdict {
	r, ok := s.rules[key{strings.ToUpper(country), doc}]
	if !ok {
		return Unchecked
	}
	n := Normalize(number)
	matched := false
	for i, f := range r.forms {
		if !r.res[i].MatchString(n) {
			continue
		}
		if f.check == nil || f.check(n) {
			return Valid
		}
		matched = true
	}
	switch {
	case matched:
		return Invalid
	case r.strict:
		return Unrecognized
	}
	return Unchecked
}

// Normalize writes a number as the tables spell it: letters upper-cased,
// and the separators states print or people type between groups (spaces,
// hyphens and dashes, dots, slashes) dropped. Finnish and Swedish century
// signs other than the hyphen (+, A, ...) stay.
func Normalize(number string) string {
	var b strings.Builder
	b.Grow(len(number))
	for _, c := range number {
		switch c {
		case ' ', '\t', '\u00a0', '\u202f', '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '.', '/':
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// IssuingCountries returns the countries to try as the issuer of a
// document of type doc, most likely first, from the holder's citizenship
// and country of residence (Telegram Passport's personal_details
// country_code and residence_country_code; either may be empty).
//
// Passports, identity cards and internal passports are issued by the
// state of citizenship: a state gives them to its nationals wherever they
// live (an internal passport only to them). A driving licence is issued
// where the holder lives (or lived when exchanging it). The other country
// comes second, so that a document issued by it (a foreign resident's
// card presented as an identity card, a licence kept from the country of
// citizenship) is not refused under the first country's rule: a caller
// accepts the number when any of the countries' rules says Valid, and
// refuses it when one says Invalid. With two countries the issuer is
// uncertain (the document may even come from a third state, a second
// citizenship): Unrecognized then refuses nothing; with one it does.
// Empty and repeated codes are left out.
func IssuingCountries(doc passport.ElementType, citizenship, residence string) []string {
	order := []string{citizenship, residence}
	if doc == passport.TypeDriverLicense {
		order = []string{residence, citizenship}
	}
	var out []string
	for _, c := range order {
		c = strings.ToUpper(c)
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Rule describes one rule of the tables, for documentation.
type Rule struct {
	// Country is the issuing country (ISO 3166-1 alpha-2).
	Country string
	// Types are the document types the rule applies to.
	Types []passport.ElementType
	// Forms name the forms of number the rule knows ("DNI", "isikukood").
	Forms []string
	// Strict is true when numbers of other forms are Unrecognized.
	Strict bool
}

// Rules lists the rules of the tables, ordered by country.
func (s *Set) Rules() []Rule {
	out := make([]Rule, 0, len(s.list))
	for _, r := range s.list {
		ru := Rule{Country: r.country, Types: slices.Clone(r.types), Strict: r.strict}
		for _, f := range r.forms {
			ru.Forms = append(ru.Forms, f.name)
		}
		out = append(out, ru)
	}
	slices.SortStableFunc(out, func(a, b Rule) int { return strings.Compare(a.Country, b.Country) })
	return out
}

// Countries lists the countries that have at least one rule, sorted.
func (s *Set) Countries() []string {
	var out []string
	for _, r := range s.list {
		out = append(out, r.country)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
