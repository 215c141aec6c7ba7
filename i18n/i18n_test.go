package i18n

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// errorLog collects what the catalog reports, safely from many goroutines.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) take() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.errs
	l.errs = nil
	return out
}

func newTestCatalog(t *testing.T, opts ...Option) (*Catalog, *errorLog) {
	t.Helper()
	log := &errorLog{}
	c, err := New(append([]Option{WithErrorHandler(log.add)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, log
}

// pluralCounts are the counts every plural message is rendered with.
var pluralCounts = []int{0, 1, 2, 3, 5, 11, 21, 22, 100, 101, 1000000}

// sampleData returns representative template data for a message.
func sampleData(s spec) map[string]any {
	samples := map[string]any{
		"Documents": "• personal details\n• passport or identity card",
		"Reason":    "You must be at least 18 years old to be verified.",
		"Since":     "01.02.2026",
		"Time":      "12:30 UTC",
		"User":      "123456789",
		"Level":     "basic",
		"Ref":       "order-42",
		"Codes":     "too_young",
		"Items":     "alpha, beta",
		"Last":      "gamma",
		"Number":    2,
		"Levels":    "basic, full",
		"Code":      "PUBLIC_KEY_INVALID",
		"Day":       "2026-02-01",
		"State":     "verified",
		"Count":     3,
		"Updated":   "2026-02-01 10:00 UTC",
		"Created":   "2026-01-15 09:30 UTC",
	}
	d := map[string]any{}
	for _, k := range s.keys {
		k = strings.TrimSuffix(k, "?")
		if v, ok := samples[k]; ok {
			d[k] = v
		} else {
			d[k] = "X"
		}
	}
	return d
}

// problemCase is one problem rendered by the tests and the golden files.
type problemCase struct {
	code    verify.Code
	element passport.ElementType
	target  passport.Target
	params  map[string]string
}

func problemCases() []problemCase {
	whole := passport.TargetOf(passport.TargetElement)
	return []problemCase{
		{verify.CodeMissingElement, passport.TypePassport, whole, nil},
		{verify.CodeMissingOneOf, passport.TypePassport, whole, map[string]string{"types": "passport,driver_license,identity_card"}},
		{verify.CodeMissingField, passport.TypePersonalDetails, passport.Field("birth_date"), nil},
		{verify.CodeMissingField, passport.TypePersonalDetails, whole, nil},
		{verify.CodeTooLong, passport.TypePersonalDetails, passport.Field("first_name"), map[string]string{"max": "64"}},
		{verify.CodeNotLatin, passport.TypePersonalDetails, passport.Field("last_name"), nil},
		{verify.CodeInvalidDate, passport.TypeDriverLicense, passport.Field("expiry_date"), nil},
		{verify.CodeDateInFuture, passport.TypePersonalDetails, passport.Field("birth_date"), map[string]string{"date": "01.01.2031"}},
		{verify.CodeTooYoung, passport.TypePersonalDetails, passport.Field("birth_date"), map[string]string{"min_age": "18", "age": "16"}},
		{verify.CodeTooOld, passport.TypePersonalDetails, passport.Field("birth_date"), map[string]string{"max_age": "80", "age": "85"}},
		{verify.CodeInvalidGender, passport.TypePersonalDetails, passport.Field("gender"), nil},
		{verify.CodeInvalidCountry, passport.TypePersonalDetails, passport.Field("country_code"), nil},
		{verify.CodeCountryNotAllowed, passport.TypePersonalDetails, passport.Field("residence_country_code"), map[string]string{"country": "DE"}},
		{verify.CodeInvalidDocumentNumber, passport.TypeIdentityCard, passport.Field("document_no"), nil},
		{verify.CodeWrongDocumentNumber, passport.TypePassport, passport.Field("document_no"), map[string]string{"country": "DE"}},
		{verify.CodeExpiryRequired, passport.TypePassport, passport.Field("expiry_date"), nil},
		{verify.CodeExpired, passport.TypeDriverLicense, passport.Field("expiry_date"), map[string]string{"date": "01.01.2001"}},
		{verify.CodeExpiresSoon, passport.TypePassport, passport.Field("expiry_date"), map[string]string{"date": "15.03.2026", "min_days": "30"}},
		{verify.CodeInvalidPostCode, passport.TypeAddress, passport.Field("post_code"), map[string]string{"country": "DE"}},
		{verify.CodeResidenceMismatch, passport.TypeAddress, passport.Field("country_code"), map[string]string{"address_country": "FR", "residence_country": "DE"}},
		{verify.CodeMissingFrontSide, passport.TypeIdentityCard, whole, nil},
		{verify.CodeMissingReverseSide, passport.TypeDriverLicense, whole, nil},
		{verify.CodeMissingSelfie, passport.TypePassport, whole, nil},
		{verify.CodeMissingTranslation, passport.TypeInternalPassport, whole, nil},
		{verify.CodeMissingFiles, passport.TypeUtilityBill, whole, nil},
		{verify.CodeTooManyFiles, passport.TypeBankStatement, passport.TargetOf(passport.TargetFiles), map[string]string{"max": "20"}},
		{verify.CodeTooManyFiles, passport.TypePassport, passport.TargetOf(passport.TargetTranslationFiles), map[string]string{"max": "5"}},
		{verify.CodeNotJPEG, passport.TypeRentalAgreement, passport.FileAt(1), nil},
		{verify.CodeFileTooLarge, passport.TypePassport, passport.TranslationAt(0), map[string]string{"max_mb": "10"}},
		{verify.CodeImageTooSmall, passport.TypeDriverLicense, passport.TargetOf(passport.TargetFrontSide),
			map[string]string{"min_width": "1000", "min_height": "700", "width": "640", "height": "480"}},
		{verify.CodeImageTooSmall, passport.TypeIdentityCard, passport.TargetOf(passport.TargetSelfie),
			map[string]string{"min_width": "1000", "min_height": "700", "width": "800", "height": "600"}},
		{verify.CodeNotJPEG, passport.TypeDriverLicense, passport.TargetOf(passport.TargetReverseSide), nil},
		{verify.CodeImageBlurry, passport.TypeDriverLicense, passport.TargetOf(passport.TargetSelfie), nil},
	}
}

// countParams maps each plural problem code to the parameter holding its count.
func countParams() map[string]string {
	out := map[string]string{}
	for _, s := range specs() {
		if code, ok := strings.CutPrefix(s.id, "problem."); ok && s.plural != "" {
			out[code] = s.plural
		}
	}
	return out
}

// checkRendered fails on texts that show a rendering problem.
func checkRendered(t *testing.T, what, text, id string) {
	t.Helper()
	switch {
	case strings.TrimSpace(text) == "":
		t.Errorf("%s: empty text", what)
	case text == id:
		t.Errorf("%s: rendered as its ID", what)
	case strings.Contains(text, "<no value>"):
		t.Errorf("%s: %q contains <no value>", what, text)
	case strings.Contains(text, "{{") || strings.Contains(text, "}}"):
		t.Errorf("%s: %q contains template syntax", what, text)
	case strings.ContainsRune(text, '\uFFFD'):
		t.Errorf("%s: %q contains a replacement character", what, text)
	}
}

func readCatalogFile(t *testing.T, lang string) map[string]any {
	t.Helper()
	data, err := fs.ReadFile(locales, "locales/"+lang+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s.yaml: %v", lang, err)
	}
	return m
}

func TestNew(t *testing.T) {
	c, log := newTestCatalog(t)
	if got, want := c.Languages(), []string{"en", "ru", "uk", "es", "pt-BR", "de", "fr", "tr", "fa", "ar"}; !slices.Equal(got, want) {
		t.Errorf("Languages() = %v, want %v", got, want)
	}
	c.Languages()[0] = "xx"
	if c.Languages()[0] != "en" {
		t.Error("Languages() exposes the catalog's slice")
	}
	if c.DefaultLanguage() != "en" {
		t.Errorf("DefaultLanguage() = %q", c.DefaultLanguage())
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("New reported %v", errs)
	}
}

func TestDefaultLanguage(t *testing.T) {
	c, err := New(WithDefaultLanguage("pt-br"))
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultLanguage() != "pt-BR" || c.Match("zh-hans") != "pt-BR" || c.Language("").Lang() != "pt-BR" {
		t.Errorf("default pt-br: DefaultLanguage %q, Match(zh-hans) %q", c.DefaultLanguage(), c.Match("zh-hans"))
	}
	for _, bad := range []string{"", "xx", "zh", "en-US"} {
		_, err := New(WithDefaultLanguage(bad))
		if err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("WithDefaultLanguage(%q): err = %v, want not supported", bad, err)
		}
	}
}

func TestMatch(t *testing.T) {
	c, _ := newTestCatalog(t)
	ru, _ := newTestCatalog(t, WithDefaultLanguage("ru"))
	tests := []struct {
		code, want, wantRU string
	}{
		{"pt-br", "pt-BR", "pt-BR"},
		{"pt-BR", "pt-BR", "pt-BR"},
		{"pt", "pt-BR", "pt-BR"},
		{"pt-PT", "pt-BR", "pt-BR"},
		{"pt_BR", "pt-BR", "pt-BR"},
		{"en", "en", "en"},
		{"en-US", "en", "en"},
		{"en-gb", "en", "en"},
		{"ru", "ru", "ru"},
		{"RU", "ru", "ru"},
		{"uk", "uk", "uk"},
		{"fa", "fa", "fa"},
		{"fa-IR", "fa", "fa"},
		{"ar", "ar", "ar"},
		{"ar-EG", "ar", "ar"},
		{"es", "es", "es"},
		{"es-419", "es", "es"},
		{"de-AT", "de", "de"},
		{"fr-CA", "fr", "fr"},
		{"tr", "tr", "tr"},
		{"", "en", "ru"},
		{"  ", "en", "ru"},
		{"xx", "en", "ru"},
		{"zh-hans", "en", "ru"},
		{"zh", "en", "ru"},
		{"be", "en", "ru"},
		{"-", "en", "ru"},
		{"en-raw", "en", "en"},
		{"!!garbage!!", "en", "ru"},
		{"x-klingon", "en", "ru"},
	}
	for _, tt := range tests {
		if got := c.Match(tt.code); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.code, got, tt.want)
		}
		if got := ru.Match(tt.code); got != tt.wantRU {
			t.Errorf("default ru: Match(%q) = %q, want %q", tt.code, got, tt.wantRU)
		}
		if got := c.Language(tt.code).Lang(); got != tt.want {
			t.Errorf("Language(%q).Lang() = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestDir(t *testing.T) {
	c, _ := newTestCatalog(t)
	for _, l := range c.Languages() {
		want := "ltr"
		if l == "fa" || l == "ar" {
			want = "rtl"
		}
		if got := c.Language(l).Dir(); got != want {
			t.Errorf("%s: Dir() = %q, want %q", l, got, want)
		}
	}
}

// TestCatalogFiles checks the YAML files themselves: every message of
// MessageIDs in every catalog and nothing else.
func TestCatalogFiles(t *testing.T) {
	ids := MessageIDs()
	if len(ids) != len(specs()) {
		t.Fatal("MessageIDs and specs differ")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("MessageIDs lists %q twice", id)
		}
		seen[id] = true
	}
	entries, err := fs.ReadDir(locales, "locales")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(files)
	langs := languages()
	slices.Sort(langs)
	if !slices.Equal(files, langs) {
		t.Errorf("catalog files %v, languages %v", files, langs)
	}
	for _, lang := range languages() {
		m := readCatalogFile(t, lang)
		for _, id := range ids {
			if _, ok := m[id]; !ok {
				t.Errorf("%s.yaml: missing %q", lang, id)
			}
		}
		for id := range m {
			if !seen[id] {
				t.Errorf("%s.yaml: %q is not in MessageIDs", lang, id)
			}
		}
	}
}

// TestPluralRules pins the plural forms go-i18n uses for whole numbers in
// each language, so a change of CLDR rules shows up here.
func TestPluralRules(t *testing.T) {
	c, _ := newTestCatalog(t)
	want := map[string][]string{
		"en":    {"one", "other"},
		"ru":    {"one", "few", "many"},
		"uk":    {"one", "few", "many"},
		"es":    {"one", "many", "other"},
		"pt-BR": {"one", "many", "other"},
		"de":    {"one", "other"},
		"fr":    {"one", "many", "other"},
		"tr":    {"one", "other"},
		"fa":    {"one", "other"},
		"ar":    {"zero", "one", "two", "few", "many", "other"},
	}
	for _, l := range c.Languages() {
		if got := c.forms[l]; !slices.Equal(got, want[l]) {
			t.Errorf("%s: integer plural forms %v, want %v", l, got, want[l])
		}
	}
}

// TestPluralForms renders every plural message in every language for many
// counts through go-i18n itself: a missing form is an error there.
func TestPluralForms(t *testing.T) {
	c, log := newTestCatalog(t)
	bundle := goi18n.NewBundle(language.English)
	for _, lang := range c.Languages() {
		data, err := fs.ReadFile(locales, "locales/"+lang+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := c.parseFile(lang+".yaml", data, lang)
		if err != nil {
			t.Fatal(err)
		}
		list := make([]*goi18n.Message, 0, len(msgs))
		for _, m := range msgs {
			list = append(list, m)
		}
		if err := bundle.AddMessages(language.Make(lang), list...); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range c.Languages() {
		loc := goi18n.NewLocalizer(bundle, lang)
		for _, s := range specs() {
			if s.plural == "" {
				continue
			}
			for _, n := range pluralCounts {
				d := sampleData(s)
				d[s.plural] = n
				_, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: s.id, TemplateData: d, PluralCount: n})
				if err != nil {
					t.Errorf("%s: %s with count %d: %v", lang, s.id, n, err)
				}
			}
		}
	}
	// The same through the Localizer, for the messages rendered with Plural.
	for _, lang := range c.Languages() {
		l := c.Language(lang)
		for _, s := range specs() {
			if s.plural != "Count" {
				continue
			}
			for _, n := range pluralCounts {
				text := l.Plural(s.id, n, sampleData(s))
				checkRendered(t, fmt.Sprintf("%s: %s(%d)", lang, s.id, n), text, s.id)
				if !strings.Contains(text, l.digits(fmt.Sprint(n))) && n != 1 && n != 2 {
					t.Errorf("%s: %s(%d) = %q does not show the count", lang, s.id, n, text)
				}
			}
		}
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("rendering reported %d errors, first: %v", len(errs), errs[0])
	}
}

// TestRenderAll renders every message in every language with
// representative data and checks that nothing fell back or leaked.
func TestRenderAll(t *testing.T) {
	c, log := newTestCatalog(t)
	for _, lang := range c.Languages() {
		l := c.Language(lang)
		for _, s := range specs() {
			what := lang + ": " + s.id
			switch {
			case strings.HasPrefix(s.id, "problem."):
				continue // TestProblems
			case s.plural != "":
				for _, n := range pluralCounts {
					checkRendered(t, fmt.Sprintf("%s(%d)", what, n), l.Plural(s.id, n, sampleData(s)), s.id)
				}
			default:
				checkRendered(t, what, l.Text(s.id, sampleData(s)), s.id)
			}
			if errs := log.take(); len(errs) > 0 {
				t.Errorf("%s: reported %v", what, errs)
			}
		}
	}
}

func TestProblems(t *testing.T) {
	c, log := newTestCatalog(t)
	cases := problemCases()
	covered := map[verify.Code]bool{}
	for _, pc := range cases {
		covered[pc.code] = true
	}
	for _, code := range verify.Codes() {
		if !covered[code] {
			t.Errorf("no test case for problem code %q", code)
		}
		if _, ok := c.specs["problem."+string(code)]; !ok {
			t.Errorf("no message for problem code %q", code)
		}
	}
	// Every problem message belongs to a verify code (or is the fallback).
	codes := map[string]bool{"unknown": true}
	for _, code := range verify.Codes() {
		codes[string(code)] = true
	}
	for _, s := range specs() {
		if code, ok := strings.CutPrefix(s.id, "problem."); ok && !codes[code] {
			t.Errorf("%s: not a verify code", s.id)
		}
	}
	counts := countParams()
	for _, lang := range c.Languages() {
		l := c.Language(lang)
		for _, pc := range cases {
			what := fmt.Sprintf("%s: %s %s %s", lang, pc.code, pc.element, pc.target)
			text := l.Problem(string(pc.code), string(pc.element), pc.target.String(), pc.params)
			checkRendered(t, what, text, "problem."+string(pc.code))
			for k, v := range pc.params {
				if k == "types" || isCountryParam(k) || k == "age" {
					continue
				}
				shown := l.digits(v)
				if k == "date" {
					shown = l.Day(v)
				}
				if !strings.Contains(text, shown) && !(v == "1" || v == "2") {
					t.Errorf("%s: %q does not show %s=%s", what, text, k, v)
				}
			}
			if errs := log.take(); len(errs) > 0 {
				t.Errorf("%s: reported %v", what, errs)
			}
			// Plural problems: every count renders without a missing form.
			if p, ok := counts[string(pc.code)]; ok {
				param := ""
				for k := range pc.params {
					if paramKey(k) == p {
						param = k
					}
				}
				for _, n := range pluralCounts {
					params := map[string]string{}
					for k, v := range pc.params {
						params[k] = v
					}
					params[param] = fmt.Sprint(n)
					checkRendered(t, fmt.Sprintf("%s (%s=%d)", what, param, n),
						l.Problem(string(pc.code), string(pc.element), pc.target.String(), params), "")
				}
				if errs := log.take(); len(errs) > 0 {
					t.Errorf("%s: plural counts reported %v", what, errs)
				}
			}
		}
	}
}

func TestProblemDetails(t *testing.T) {
	c, _ := newTestCatalog(t)
	en, ru, tr := c.Language("en"), c.Language("ru"), c.Language("tr")
	tests := []struct {
		l                        *Localizer
		code, el, target, substr string
		params                   map[string]string
	}{
		{en, "expired", "driver_license", "data.expiry_date", "Your driving licence expired on 1 Jan 2001. Please add a valid one.", map[string]string{"date": "01.01.2001"}},
		{en, "too_young", "personal_details", "data.birth_date", "at least 18 years old", map[string]string{"min_age": "18", "age": "16"}},
		{en, "too_young", "personal_details", "data.birth_date", "at least 1 year old", map[string]string{"min_age": "1", "age": "0"}},
		{en, "missing_field", "personal_details", "data.birth_date", "Please fill in the date of birth in your personal details.", nil},
		{en, "invalid_post_code", "address", "data.post_code", "The post code does not look right for Germany.", map[string]string{"country": "DE"}},
		{en, "image_too_small", "driver_license", "front_side", "Driving licence, front side: the photo is too small (640×480). Please upload a photo of at least 1000×700 pixels.",
			map[string]string{"min_width": "1000", "min_height": "700", "width": "640", "height": "480"}},
		{en, "not_jpeg", "utility_bill", "files[1]", "Utility bill, scan 2:", nil},
		{en, "not_jpeg", "passport", "translation[0]", "Passport, translation scan 1:", nil},
		{en, "too_many_files", "passport", "translation", "too many translation scans", map[string]string{"max": "5"}},
		{en, "missing_one_of", "passport", "element", "passport, driving licence or identity card", map[string]string{"types": "passport,driver_license,identity_card"}},
		{en, "missing_one_of", "passport", "element", "passport or identity card.", map[string]string{"types": "passport, identity_card"}},
		{en, "residence_mismatch", "address", "data.country_code", "(France)", map[string]string{"address_country": "FR", "residence_country": "DE"}},
		{en, "invalid_country", "address", "data.country_code", "The country in your address", nil},
		{en, "invalid_country", "personal_details", "data.country_code", "The citizenship in your personal details", nil},
		{en, "country_not_allowed", "personal_details", "data.country_code", "citizenship: ZZ", map[string]string{"country": "ZZ"}},
		{en, "country_not_allowed", "personal_details", "data.country_code", "citizenship: 12", map[string]string{"country": "12"}},
		{ru, "expired", "driver_license", "data.expiry_date", "Водительское удостоверение: срок действия истёк 1 янв. 2001 г.,", map[string]string{"date": "01.01.2001"}},
		{ru, "too_young", "personal_details", "data.birth_date", "с 21 года", map[string]string{"min_age": "21"}},
		{ru, "too_young", "personal_details", "data.birth_date", "с 18 лет", map[string]string{"min_age": "18"}},
		{ru, "missing_field", "personal_details", "data.birth_date", "Личные данные: заполните поле «Дата рождения».", nil},
		{ru, "invalid_post_code", "address", "data.post_code", "(Германия)", map[string]string{"country": "DE"}},
		{tr, "missing_element", "internal_passport", "element", "iç pasaport", nil},
		{tr, "missing_front_side", "internal_passport", "element", "İç pasaport:", nil},
	}
	for _, tt := range tests {
		got := tt.l.Problem(tt.code, tt.el, tt.target, tt.params)
		if !strings.Contains(got, tt.substr) {
			t.Errorf("%s: Problem(%s, %s, %s) = %q, want it to contain %q", tt.l.Lang(), tt.code, tt.el, tt.target, got, tt.substr)
		}
	}
}

// TestNeverEmpty feeds bad input everywhere: the result is never empty and
// nothing panics; the causes go to the error handler.
func TestNeverEmpty(t *testing.T) {
	c, log := newTestCatalog(t)
	for _, lang := range c.Languages() {
		l := c.Language(lang)
		texts := map[string]string{
			"unknown id":              l.Text("no.such.message", nil),
			"empty id":                l.Text("", nil),
			"plural via Text":         l.Text(MsgResultFixHeader, nil),
			"missing data":            l.Text(MsgResultRejected, nil),
			"extra data":              l.Text(MsgStartGreeting, map[string]any{"Unused": 1}),
			"unknown code":            l.Problem("no_such_code", "passport", "element", nil),
			"empty code":              l.Problem("", "", "", nil),
			"unknown element":         l.Problem("expired", "spaceship", "data.expiry_date", map[string]string{"date": "01.01.2001"}),
			"unknown target":          l.Problem("not_jpeg", "passport", "files[x]", nil),
			"missing params":          l.Problem("image_too_small", "passport", "selfie", nil),
			"bad count":               l.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "many"}),
			"negative count":          l.Plural(MsgResultFixHeader, -3, nil),
			"unknown field":           l.Problem("missing_field", "personal_details", "data.shoe_size", nil),
			"address country field":   l.Problem("missing_field", "personal_details", "data.address_country_code", nil),
			"nil params, plural code": l.Problem("too_many_files", "utility_bill", "files", nil),
		}
		for what, text := range texts {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: %s: empty text", lang, what)
			}
			if strings.Contains(text, "{{") {
				t.Errorf("%s: %s: %q", lang, what, text)
			}
		}
		if got := l.Text("no.such.message", nil); got != "no.such.message" {
			t.Errorf("%s: unknown ID rendered %q", lang, got)
		}
	}
	errs := log.take()
	if len(errs) == 0 {
		t.Fatal("bad input reported nothing")
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), "01.01.2001") {
			t.Errorf("an error carries template data: %v", err)
		}
	}
}

// TestFallback builds a catalog whose Russian lacks messages: they fall back
// to English and the handler hears of it.
func TestFallback(t *testing.T) {
	builtin := fstest.MapFS{}
	for _, lang := range languages() {
		data, err := fs.ReadFile(locales, "locales/"+lang+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if lang == "ru" {
			var kept []string
			for _, line := range strings.Split(string(data), "\n") {
				if !strings.HasPrefix(line, "button.try_again:") && !strings.HasPrefix(line, "element.passport:") {
					kept = append(kept, line)
				}
			}
			data = []byte(strings.Join(kept, "\n"))
		}
		builtin["locales/"+lang+".yaml"] = &fstest.MapFile{Data: data}
	}
	log := &errorLog{}
	c, err := newCatalog(builtin, WithErrorHandler(log.add))
	if err != nil {
		t.Fatal(err)
	}
	ru := c.Language("ru")
	if got := ru.Text(MsgButtonTryAgain, nil); got != "Try again" {
		t.Errorf("missing ru message: %q, want the English text", got)
	}
	if got := ru.Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "01.01.2001"}); !strings.HasPrefix(got, "Passport: срок действия истёк") {
		t.Errorf("missing ru element name: %q", got)
	}
	if got := ru.Text(MsgResultVerified, nil); !strings.HasPrefix(got, "Готово!") {
		t.Errorf("present ru message: %q", got)
	}
	errs := log.take()
	if len(errs) == 0 || !strings.Contains(errors.Join(errs...).Error(), `"button.try_again" is missing`) {
		t.Errorf("fallback reported %v", errs)
	}

	// A broken built-in catalog is an error of New.
	builtin["locales/de.yaml"] = &fstest.MapFile{Data: []byte("button.try_again: [\n")}
	if _, err := newCatalog(builtin); err == nil || !strings.Contains(err.Error(), "locales/de.yaml") {
		t.Errorf("broken built-in catalog: %v", err)
	}
	delete(builtin, "locales/de.yaml")
	if _, err := newCatalog(builtin); err == nil || !strings.Contains(err.Error(), "de") {
		t.Errorf("missing built-in catalog: %v", err)
	}
}

// TestNames checks that every element type and data field has a name in
// every language, and the scan names.
func TestNames(t *testing.T) {
	c, log := newTestCatalog(t)
	for _, lang := range c.Languages() {
		l := c.Language(lang)
		names := map[string]string{}
		for _, et := range passport.ElementTypes() {
			id := "element." + string(et)
			if _, ok := c.specs[id]; !ok {
				t.Errorf("no message %s", id)
			}
			name := l.Element(string(et))
			checkRendered(t, lang+": "+id, name, "")
			if prev, ok := names[name]; ok {
				t.Errorf("%s: %s and %s are both named %q", lang, prev, et, name)
			}
			names[name] = string(et)
			for _, f := range et.DataFields() {
				checkRendered(t, fmt.Sprintf("%s: field %s.%s", lang, et, f), l.Field(string(et), f), "")
			}
		}
		for _, target := range []passport.Target{
			passport.TargetOf(passport.TargetElement), passport.TargetOf(passport.TargetFrontSide),
			passport.TargetOf(passport.TargetReverseSide), passport.TargetOf(passport.TargetSelfie),
			passport.FileAt(0), passport.FileAt(9), passport.TargetOf(passport.TargetFiles),
			passport.TranslationAt(3), passport.TargetOf(passport.TargetTranslationFiles),
		} {
			checkRendered(t, lang+": part "+target.String(), l.Part(target.String()), "")
		}
		if got := l.Part("data.city"); got != "" {
			t.Errorf("%s: Part(data.city) = %q", lang, got)
		}
		if got := l.Field("personal_details", "country_code"); got == l.Field("address", "country_code") {
			t.Errorf("%s: citizenship and address country are both %q", lang, got)
		}
	}
	en := c.Language("en")
	for in, want := range map[string]string{"files[0]": "scan 1", "files[11]": "scan 12", "translation[1]": "translation scan 2", "files[-1]": "", "files[]": "", "selfie": "selfie"} {
		if got := en.Part(in); got != want {
			t.Errorf("Part(%q) = %q, want %q", in, got, want)
		}
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}
}

func TestCountryAndCase(t *testing.T) {
	c, _ := newTestCatalog(t)
	tests := []struct{ lang, code, want string }{
		{"en", "DE", "Germany"},
		{"en", "de", "Germany"},
		{"ru", "DE", "Германия"},
		{"uk", "GB", "Велика Британія"},
		{"pt-BR", "DE", "Alemanha"},
		{"fa", "DE", "آلمان"},
		{"ar", "FR", "فرنسا"},
		{"en", "", ""},
		{"en", "D", "D"},
		{"en", "DEU", "Germany"},
	}
	for _, tt := range tests {
		if got := c.Language(tt.lang).Country(tt.code); got != tt.want {
			t.Errorf("%s: Country(%q) = %q, want %q", tt.lang, tt.code, got, tt.want)
		}
	}
	caps := []struct{ lang, in, want string }{
		{"en", "driving licence", "Driving licence"},
		{"tr", "iç pasaport", "İç pasaport"},
		{"de", "persönliche Daten", "Persönliche Daten"},
		{"ru", "ёлка", "Ёлка"},
		{"fa", "گذرنامه", "گذرنامه"},
		{"en", "", ""},
		{"en", "1st", "1st"},
	}
	for _, tt := range caps {
		if got := c.Language(tt.lang).Capitalize(tt.in); got != tt.want {
			t.Errorf("%s: Capitalize(%q) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
	lists := []struct {
		lang  string
		items []string
		want  string
	}{
		{"en", nil, ""},
		{"en", []string{"a"}, "a"},
		{"en", []string{"a", "b"}, "a or b"},
		{"en", []string{"a", "b", "c"}, "a, b or c"},
		{"ru", []string{"a", "b", "c"}, "a, b или c"},
		{"ar", []string{"a", "b", "c"}, "a، b أو c"},
	}
	for _, tt := range lists {
		if got := c.Language(tt.lang).OrList(tt.items...); got != tt.want {
			t.Errorf("%s: OrList(%q) = %q, want %q", tt.lang, tt.items, got, tt.want)
		}
	}
}

func TestParamKey(t *testing.T) {
	for in, want := range map[string]string{
		"date": "Date", "min_age": "MinAge", "max_mb": "MaxMB", "address_country": "AddressCountry",
		"min_days": "MinDays", "types": "Types", "a__b": "AB", "": "", "user_id": "UserID",
	} {
		if got := paramKey(in); got != want {
			t.Errorf("paramKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConcurrent renders from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	c, _ := newTestCatalog(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := c.Language(c.Languages()[i%len(c.Languages())])
			for _, pc := range problemCases() {
				if l.Problem(string(pc.code), string(pc.element), pc.target.String(), pc.params) == "" {
					t.Error("empty")
				}
			}
			l.Plural(MsgResultFixHeader, i, nil)
			l.Text(MsgHelp, nil)
		}()
	}
	wg.Wait()
}
