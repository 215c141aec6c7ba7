package verify

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify/docno"
)

// Checker checks decrypted submissions against a scope and a policy. It is
// safe for concurrent use.
type Checker struct {
	scope     passport.Scope
	policy    Policy
	now       func() time.Time
	validate  *validator.Validate
	postCodes postCodes
	numbers   *docno.Set
}

// Option configures a Checker.
type Option func(*Checker)

// WithClock sets the clock used for ages and expiry dates (default
// time.Now). Dates are compared in the clock's location.
func WithClock(now func() time.Time) Option {
	return func(c *Checker) { c.now = now }
}

// New returns a Checker for a scope and a policy. It fails when either is
// invalid.
func New(scope passport.Scope, policy Policy, opts ...Option) (*Checker, error) {
	if err := scope.Validate(); err != nil {
		return nil, fmt.Errorf("verify: scope: %w", err)
	}
	if errs := policy.Validate(); len(errs) > 0 {
		joined := make([]error, len(errs))
		for i := range errs {
			joined[i] = errs[i]
		}
		return nil, fmt.Errorf("verify: policy: %w", errors.Join(joined...))
	}
	policy = policy.withDefaults()
	c := &Checker{scope: scope, policy: policy, now: time.Now, postCodes: compilePostCodes(), numbers: docno.New()}
	for _, opt := range opts {
		opt(c)
	}
	c.validate = newValidator()
	return c, nil
}

// Scope returns the scope the checker enforces.
func (c *Checker) Scope() passport.Scope { return c.scope }

// Policy returns the policy the checker enforces, defaults filled in.
func (c *Checker) Policy() Policy { return c.policy }

func (p Policy) withDefaults() Policy {
	if p.Personal.MaxNameLength == 0 {
		p.Personal.MaxNameLength = DefaultMaxNameLength
	}
	if p.Files.MaxSizeMB == 0 {
		p.Files.MaxSizeMB = DefaultMaxSizeMB
	}
	if p.Files.MaxFiles == 0 {
		p.Files.MaxFiles = DefaultMaxFiles
	}
	if p.Files.MaxTranslations == 0 {
		p.Files.MaxTranslations = DefaultMaxTranslations
	}
	if p.Documents.CheckNumbers != nil {
		v := *p.Documents.CheckNumbers // the checker keeps its own copy
		p.Documents.CheckNumbers = &v
	}
	if p.Files.MinSharpness == nil {
		v := DefaultMinSharpness
		p.Files.MinSharpness = &v
	} else {
		v := *p.Files.MinSharpness // the checker keeps its own copy
		p.Files.MinSharpness = &v
	}
	return p
}

// MeasuresSharpness reports whether the policy has a sharpness rule: only
// then are scans worth decoding (MeasureSharpness) before Check.
func (c *Checker) MeasuresSharpness() bool { return *c.policy.Files.MinSharpness > 0 }

// Check checks a decrypted submission: that it satisfies the scope, every
// data rule of the policy, the presence and count of scans, and, for every
// scan in scans, its format, size and pixel size. Pass nil scans to check
// data only. Problems come in scope order.
func (c *Checker) Check(ctx context.Context, sub *passport.Submission, scans map[ScanKey]ScanInfo) Result {
	today := passport.DateOf(c.now())
	var problems []Problem
	for _, se := range c.scope.Elements {
		el := c.chosen(sub, se)
		if el == nil {
			problems = append(problems, missing(se))
			continue
		}
		run := &check{c: c, ctx: ctx, sub: sub, el: el, se: se, today: today, scans: scans}
		run.data()
		run.files()
		problems = append(problems, run.problems...)
	}
	return Result{Problems: problems}
}

// chosen returns the element that answers a scope element: the type itself,
// or the first type of a one-of list that was shared.
func (c *Checker) chosen(sub *passport.Submission, se passport.ScopeElement) *passport.Element {
	for _, t := range se.Types {
		if el := sub.Element(t); el != nil {
			return el
		}
	}
	return nil
}

func missing(se passport.ScopeElement) Problem {
	whole := passport.TargetOf(passport.TargetElement)
	if len(se.Types) == 1 {
		return Problem{Element: se.Types[0], Target: whole, Code: CodeMissingElement}
	}
	names := make([]string, len(se.Types))
	for i, t := range se.Types {
		names[i] = string(t)
	}
	return Problem{Element: se.Types[0], Target: whole, Code: CodeMissingOneOf,
		Params: map[string]string{"types": strings.Join(names, ",")}}
}

// check is one element's checking run.
type check struct {
	c        *Checker
	ctx      context.Context
	sub      *passport.Submission
	el       *passport.Element
	se       passport.ScopeElement
	today    passport.Date
	scans    map[ScanKey]ScanInfo
	problems []Problem
}

func (r *check) add(t passport.Target, code Code, params map[string]string) {
	r.problems = append(r.problems, Problem{Element: r.el.Type, Target: t, Code: code, Params: params,
		Final: code == CodeTooYoung || code == CodeTooOld || code == CodeCountryNotAllowed})
}

func (r *check) field(name string, code Code, params map[string]string) {
	r.add(passport.Field(name), code, params)
}

// data runs the validator over the element's data and the policy rules.
func (r *check) data() {
	var v any
	switch {
	case r.el.Type == passport.TypePersonalDetails:
		pd, err := r.el.PersonalDetails()
		if err != nil {
			r.add(passport.TargetOf(passport.TargetElement), CodeMissingField, nil)
			return
		}
		v = &personalData{PersonalDetails: pd, needNative: r.se.NativeNames}
	case r.el.Type.IsIdentityDocument():
		doc, err := r.el.IdDocument()
		if err != nil {
			r.add(passport.TargetOf(passport.TargetElement), CodeMissingField, nil)
			return
		}
		v = &documentData{IdDocumentData: doc}
	case r.el.Type == passport.TypeAddress:
		addr, err := r.el.ResidentialAddress()
		if err != nil {
			r.add(passport.TargetOf(passport.TargetElement), CodeMissingField, nil)
			return
		}
		v = &addressData{ResidentialAddress: addr}
	default:
		return
	}
	err := r.c.validate.StructCtx(context.WithValue(r.ctx, checkKey{}, r), v)
	var ves validator.ValidationErrors
	if errors.As(err, &ves) {
		for _, fe := range ves {
			r.field(fe.Field(), tagCodes[fe.Tag()], tagParams(fe))
		}
	}
	r.sortProblems()
}

// sortProblems orders data problems by the type's field order, keeping the
// order of problems on the same field.
func (r *check) sortProblems() {
	fields := r.el.Type.DataFields()
	rank := func(p Problem) int {
		for i, f := range fields {
			if p.Target.Kind == passport.TargetField && p.Target.Field == f {
				return i
			}
		}
		return len(fields)
	}
	ps := r.problems
	for i := 1; i < len(ps); i++ { // insertion sort: stable, lists are tiny
		for j := i; j > 0 && rank(ps[j]) < rank(ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

type checkKey struct{}

func runOf(ctx context.Context) *check {
	r, _ := ctx.Value(checkKey{}).(*check)
	return r
}

// tagCodes maps validator tags to problem codes.
var tagCodes = map[string]Code{
	"required": CodeMissingField,
	"max":      CodeTooLong,
	"oneof":    CodeInvalidGender,
	"pdate":    CodeInvalidDate,
	"country":  CodeInvalidCountry,
	"docno":    CodeInvalidDocumentNumber,
}

func tagParams(fe validator.FieldError) map[string]string {
	if fe.Tag() == "max" {
		return map[string]string{"max": fe.Param()}
	}
	return nil
}

// The validated views of the three data types. validator reports fields by
// their JSON names, which are Telegram's field names.
type personalData struct {
	passport.PersonalDetails
	needNative bool
}

type documentData struct {
	passport.IdDocumentData
}

type addressData struct {
	passport.ResidentialAddress
}

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	// The registrations cannot fail: the tags are valid and the functions set.
	_ = v.RegisterValidation("pdate", func(fl validator.FieldLevel) bool {
		_, err := passport.ParseDate(fl.Field().String())
		return err == nil
	})
	_ = v.RegisterValidation("country", func(fl validator.FieldLevel) bool { return IsCountry(fl.Field().String()) })
	_ = v.RegisterValidation("docno", func(fl validator.FieldLevel) bool { return plausibleDocumentNo(fl.Field().String()) })
	v.RegisterStructValidationMapRules(personalRules, passport.PersonalDetails{})
	v.RegisterStructValidationMapRules(documentRules, passport.IdDocumentData{})
	v.RegisterStructValidationMapRules(addressRules, passport.ResidentialAddress{})
	v.RegisterStructValidationCtx(checkPersonal, personalData{})
	v.RegisterStructValidationCtx(checkDocument, documentData{})
	v.RegisterStructValidationCtx(checkAddress, addressData{})
	return v
}

// Field rules of the Passport data types (validator tags by field name).
var (
	personalRules = map[string]string{
		"FirstName": "required", "LastName": "required",
		"BirthDate": "required,pdate", "Gender": "required,oneof=male female",
		"CountryCode": "required,country", "ResidenceCountryCode": "required,country",
	}
	documentRules = map[string]string{"DocumentNo": "required,docno", "ExpiryDate": "omitempty,pdate"}
	addressRules  = map[string]string{"StreetLine1": "required", "City": "required", "CountryCode": "required,country"}
)

// checkPersonal applies the policy to personal details.
func checkPersonal(ctx context.Context, sl validator.StructLevel) {
	r := runOf(ctx)
	pd := sl.Current().Interface().(personalData)
	rules := r.c.policy.Personal
	names := []struct {
		field, value string
		latin        bool
	}{
		{"first_name", pd.FirstName, true}, {"middle_name", pd.MiddleName, true}, {"last_name", pd.LastName, true},
		{"first_name_native", pd.FirstNameNative, false}, {"middle_name_native", pd.MiddleNameNative, false},
		{"last_name_native", pd.LastNameNative, false},
	}
	for _, n := range names {
		switch {
		case utf8.RuneCountInString(n.value) > rules.MaxNameLength:
			r.field(n.field, CodeTooLong, map[string]string{"max": strconv.Itoa(rules.MaxNameLength)})
		case n.latin && rules.LatinNames && n.value != "" && !isLatinName(n.value):
			r.field(n.field, CodeNotLatin, nil)
		}
	}
	if pd.needNative {
		if strings.TrimSpace(pd.FirstNameNative) == "" {
			r.field("first_name_native", CodeMissingField, nil)
		}
		if strings.TrimSpace(pd.LastNameNative) == "" {
			r.field("last_name_native", CodeMissingField, nil)
		}
	}
	if birth, err := passport.ParseDate(pd.BirthDate); err == nil {
		age := ageOn(birth, r.today)
		switch {
		case r.today.Before(birth):
			r.field("birth_date", CodeDateInFuture, map[string]string{"date": birth.String()})
		case rules.MinAge > 0 && age < rules.MinAge:
			r.field("birth_date", CodeTooYoung, map[string]string{"min_age": strconv.Itoa(rules.MinAge), "age": strconv.Itoa(age)})
		case rules.MaxAge > 0 && age > rules.MaxAge:
			r.field("birth_date", CodeTooOld, map[string]string{"max_age": strconv.Itoa(rules.MaxAge), "age": strconv.Itoa(age)})
		}
	}
	r.country("country_code", pd.CountryCode, rules.Citizenship)
	r.country("residence_country_code", pd.ResidenceCountryCode, rules.Residence)
}

// country reports a valid country code that the rule refuses.
func (r *check) country(field, code string, rule CountryRule) {
	if IsCountry(code) && !rule.allowed(code) {
		r.field(field, CodeCountryNotAllowed, map[string]string{"country": strings.ToUpper(code)})
	}
}

// ageOn returns the age in full years on a day.
func ageOn(birth, day passport.Date) int {
	age := day.Year - birth.Year
	if day.Month < birth.Month || (day.Month == birth.Month && day.Day < birth.Day) {
		age--
	}
	return age
}

// checkDocument applies the policy to an identity document.
func checkDocument(ctx context.Context, sl validator.StructLevel) {
	r := runOf(ctx)
	doc := sl.Current().Interface().(documentData)
	if r.c.policy.Documents.ChecksNumbers() {
		r.number(doc.DocumentNo)
	}
	requireExpiry, minDays := r.c.policy.Documents.forType(r.el.Type)
	if strings.TrimSpace(doc.ExpiryDate) == "" {
		if requireExpiry {
			r.field("expiry_date", CodeExpiryRequired, nil)
		}
		return
	}
	exp, err := passport.ParseDate(doc.ExpiryDate)
	if err != nil {
		return // reported by the pdate tag
	}
	switch {
	case exp.Before(r.today):
		r.field("expiry_date", CodeExpired, map[string]string{"date": exp.String()})
	case minDays > 0 && exp.Before(passport.DateOf(r.today.Time().AddDate(0, 0, minDays))):
		r.field("expiry_date", CodeExpiresSoon, map[string]string{"date": exp.String(), "min_days": strconv.Itoa(minDays)})
	}
}

// number checks a plausible document number against the rules of the
// countries that may have issued the document (docno.IssuingCountries,
// from personal_details: citizenship for passports, identity cards and
// internal passports, residence for driving licences, the other second).
// It passes when one of them accepts it or none refuses it: a wrong check
// digit refuses it, and so does a form the state does not use (a strict
// rule) when the issuer is certain, citizenship and residence being the
// same country. The problem names the first country that refused it.
// Without personal details in the submission nothing is known of the
// issuer and only the plausibility check applies.
func (r *check) number(no string) {
	if !plausibleDocumentNo(no) {
		return // reported by the docno tag
	}
	pd := r.sub.Element(passport.TypePersonalDetails)
	if pd == nil {
		return
	}
	var issuers []string
	for _, cc := range docno.IssuingCountries(r.el.Type, pd.Fields["country_code"], pd.Fields["residence_country_code"]) {
		if IsCountry(cc) {
			issuers = append(issuers, cc)
		}
	}
	refused := ""
	for _, cc := range issuers {
		switch r.c.numbers.Check(cc, r.el.Type, no) {
		case docno.Valid:
			return
		case docno.Invalid:
			if refused == "" {
				refused = cc
			}
		case docno.Unrecognized:
			if refused == "" && len(issuers) == 1 {
				refused = cc
			}
		}
	}
	if refused != "" {
		r.field("document_no", CodeWrongDocumentNumber, map[string]string{"country": refused})
	}
}

// forType resolves the document rules for one type.
func (d DocumentRules) forType(t passport.ElementType) (requireExpiry bool, minDays int) {
	requireExpiry, minDays = d.RequireExpiry, d.MinValidityDays
	if o, ok := d.Types[t]; ok {
		if o.RequireExpiry != nil {
			requireExpiry = *o.RequireExpiry
		}
		if o.MinValidityDays != nil {
			minDays = *o.MinValidityDays
		}
	}
	return requireExpiry, minDays
}

// checkAddress applies the policy to the residential address.
func checkAddress(ctx context.Context, sl validator.StructLevel) {
	r := runOf(ctx)
	a := sl.Current().Interface().(addressData)
	rules := r.c.policy.Address
	cc := a.CountryCode
	if IsCountry(cc) {
		post := strings.TrimSpace(a.PostCode)
		switch {
		case post == "" && needsPostCode(cc):
			r.field("post_code", CodeMissingField, nil)
		case post != "" && !r.c.postCodes.valid(cc, post):
			r.field("post_code", CodeInvalidPostCode, map[string]string{"country": strings.ToUpper(cc)})
		}
	} else if strings.TrimSpace(a.PostCode) == "" {
		r.field("post_code", CodeMissingField, nil)
	}
	r.country("country_code", cc, rules.Countries)
	if rules.ResidenceMatchesAddress && IsCountry(cc) {
		if pd := r.sub.Element(passport.TypePersonalDetails); pd != nil {
			res := pd.Fields["residence_country_code"]
			if IsCountry(res) && !strings.EqualFold(res, cc) {
				r.field("country_code", CodeResidenceMismatch, map[string]string{
					"address_country": strings.ToUpper(cc), "residence_country": strings.ToUpper(res),
				})
			}
		}
	}
}

// isLatinName accepts Latin letters (with diacritics), spaces, hyphens,
// apostrophes and dots, with at least one letter.
func isLatinName(s string) bool {
	letters := 0
	for _, c := range s {
		switch {
		case unicode.Is(unicode.Latin, c):
			letters++
		case unicode.Is(unicode.Mn, c), c == ' ', c == '-', c == '\'', c == '’', c == '.':
		default:
			return false
		}
	}
	return letters > 0
}

// plausibleDocumentNo accepts 3 to 40 characters of letters (any script),
// digits, spaces, hyphens, slashes and dots, with at least one digit.
func plausibleDocumentNo(s string) bool {
	s = strings.TrimSpace(s)
	n, digits := 0, 0
	for _, c := range s {
		n++
		switch {
		case unicode.IsDigit(c):
			digits++
		case unicode.IsLetter(c), c == ' ', c == '-', c == '/', c == '.':
		default:
			return false
		}
	}
	return n >= 3 && n <= 40 && digits > 0
}
