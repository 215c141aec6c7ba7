package i18n

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	cldr "github.com/go-playground/locales"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Localizer renders the messages of one language. It is immutable and safe
// for concurrent use. Its text methods never panic and never return an
// empty string: a message missing in the language falls back to English,
// then to the message ID ("…" for an empty ID); problems go to the
// catalog's error handler (see WithErrorHandler), never into the text.
type Localizer struct {
	cat     *Catalog
	lang    string
	tag     language.Tag
	loc     *goi18n.Localizer
	regions display.Namer     // nil when x/text has no country names for the language
	cal     cldr.Translator   // CLDR date and time patterns
	nums    *strings.Replacer // Latin to native digits; nil for Latin
}

func newLocalizer(c *Catalog, lang string, loc *goi18n.Localizer) *Localizer {
	tag := language.Make(lang)
	return &Localizer{
		cat: c, lang: lang, tag: tag, loc: loc, regions: display.Regions(tag),
		cal: calendar(lang), nums: nativeDigits(tag),
	}
}

// Lang returns the language's BCP 47 tag ("pt-BR").
func (l *Localizer) Lang() string { return l.lang }

// Dir returns the writing direction of the language: "rtl" for Persian and
// Arabic, else "ltr" (for the request page's dir attribute).
func (l *Localizer) Dir() string {
	switch l.lang {
	case "fa", "ar":
		return "rtl"
	}
	return "ltr"
}

// Text renders a message with template data (nil for none). See the Msg*
// constants for the data each message uses.
func (l *Localizer) Text(id string, data map[string]any) string {
	if sp, ok := l.cat.specs[id]; ok && sp.plural != "" {
		l.report(fmt.Errorf("i18n: %s: message %q is plural: render it with Plural", l.lang, id))
	}
	return l.render(id, nil, data)
}

// Plural renders a plural message for count (also given to the template as
// .Count), in the form the language uses for that number.
func (l *Localizer) Plural(id string, count int, data map[string]any) string {
	d := make(map[string]any, len(data)+1)
	for k, v := range data {
		d[k] = v
	}
	d["Count"] = count
	return l.render(id, count, d)
}

// render localizes id with data and an optional plural count, falling back
// to English, then to the ID.
func (l *Localizer) render(id string, count any, data map[string]any) string {
	if _, ok := l.cat.specs[id]; !ok {
		l.report(fmt.Errorf("i18n: %s: unknown message ID %q", l.lang, id))
		return orEllipsis(id)
	}
	if msg, ok := l.localize(id, count, data); ok {
		return l.ProtectLTR(msg)
	}
	if en := l.english(); en != nil {
		if msg, ok := en.localize(id, count, data); ok {
			return msg
		}
	}
	return orEllipsis(id)
}

// localize renders a known message in the Localizer's own language only;
// ok is false when the message is missing there or renders empty.
func (l *Localizer) localize(id string, count any, data map[string]any) (string, bool) {
	sp := l.cat.specs[id]
	d := make(map[string]any, len(data)+len(sp.keys))
	for k, v := range data {
		d[k] = l.number(v)
	}
	for _, k := range sp.keys {
		key, optional := strings.CutSuffix(k, "?")
		if _, ok := d[key]; !ok {
			d[key] = ""
			if !optional {
				l.report(fmt.Errorf("i18n: %s: message %q: no template data for .%s", l.lang, id, key))
			}
		}
	}
	msg, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
	if err != nil {
		var nf *goi18n.MessageNotFoundErr
		if errors.As(err, &nf) {
			// go-i18n answers with the English text, rendered with this
			// language's data; the caller falls back properly instead.
			l.report(fmt.Errorf("i18n: %s: message %q is missing", l.lang, id))
			return "", false
		}
		l.report(fmt.Errorf("i18n: %s: message %q: %w", l.lang, id, err))
	}
	if strings.TrimSpace(msg) == "" {
		return "", false
	}
	return msg, true
}

// english returns the English Localizer, or nil for English itself.
func (l *Localizer) english() *Localizer {
	if l.lang == "en" {
		return nil
	}
	return l.cat.localizers["en"]
}

// orEllipsis returns s, or "…" for an empty s, so that no text is empty.
func orEllipsis(s string) string {
	if strings.TrimSpace(s) == "" {
		return "…"
	}
	return s
}

func (l *Localizer) report(err error) { l.cat.onError(err) }

// Element returns the name of a Passport element type ("driver_license" ->
// "driving licence"), written to fit inside a sentence. An unknown type is
// returned as is.
func (l *Localizer) Element(elementType string) string {
	id := "element." + elementType
	if _, ok := l.cat.specs[id]; !ok || elementType == "" {
		l.report(fmt.Errorf("i18n: unknown element type %q", elementType))
		return elementType
	}
	return l.render(id, nil, nil)
}

// Field returns the name of a data field of an element type as Telegram
// apps label it ("birth_date" -> "date of birth"); country_code is the
// citizenship in personal details and the country in the address. An
// unknown field is returned with spaces for underscores.
func (l *Localizer) Field(elementType, name string) string {
	id := "field." + name
	if elementType == "address" && name == "country_code" {
		id = MsgFieldAddressCountryCode
	}
	if _, ok := l.cat.specs[id]; !ok || name == "" || id == MsgFieldAddressCountryCode && elementType != "address" {
		l.report(fmt.Errorf("i18n: unknown data field %q", name))
		return strings.ReplaceAll(name, "_", " ")
	}
	return l.render(id, nil, nil)
}

// Part returns the name of a scan target as passport.Target spells it
// ("front_side", "selfie", "files[1]" -> "scan 2", "translation[0]",
// "files", "translation", "element"), or "" for data fields and unknown
// targets.
func (l *Localizer) Part(target string) string {
	switch target {
	case "front_side":
		return l.render(MsgPartFrontSide, nil, nil)
	case "reverse_side":
		return l.render(MsgPartReverseSide, nil, nil)
	case "selfie":
		return l.render(MsgPartSelfie, nil, nil)
	case "files":
		return l.render(MsgPartFiles, nil, nil)
	case "translation":
		return l.render(MsgPartTranslations, nil, nil)
	case "element":
		return l.render(MsgPartElement, nil, nil)
	}
	if i, ok := index(target, "files"); ok {
		return l.render(MsgPartFile, nil, map[string]any{"Number": i + 1})
	}
	if i, ok := index(target, "translation"); ok {
		return l.render(MsgPartTranslation, nil, map[string]any{"Number": i + 1})
	}
	return ""
}

// index parses "name[i]".
func index(target, name string) (int, bool) {
	rest, ok := strings.CutPrefix(target, name+"[")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// Country returns the name of a country from its ISO 3166-1 alpha-2 code
// ("DE" -> "Германия"), or the code itself when it is not a known region
// or there are no country names for the language.
func (l *Localizer) Country(code string) string {
	if l.regions == nil || code == "" {
		return code
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return code
	}
	if name := l.regions.Name(r); name != "" {
		return name
	}
	return code
}

// OrList joins alternatives as the language does ("passport, driving
// licence or identity card").
func (l *Localizer) OrList(items ...string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	sep := l.render(MsgListSeparator, nil, nil)
	return l.render(MsgListOr, nil, map[string]any{
		"Items": strings.Join(items[:len(items)-1], sep),
		"Last":  items[len(items)-1],
	})
}

// Capitalize upper-cases the first letter of s with the language's casing
// rules ("ikamet" -> "İkamet" in Turkish), for names that start a line.
func (l *Localizer) Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	return cases.Upper(l.tag).String(s[:n]) + s[n:]
}

// Problem returns the text of one verification problem, for the chat and
// for users.setSecureValueErrors (it is plain text). code is a verify.Code
// ("expired"), elementType a Passport element type ("driver_license"),
// target a passport.Target string ("data.expiry_date", "front_side",
// "files[1]", "element", ...), params the problem's parameters as verify
// sets them. It renders "problem.<code>" (MsgProblemUnknown for an unknown
// code) with the data listed at the MsgProblem* constants.
func (l *Localizer) Problem(code, elementType, target string, params map[string]string) string {
	if msg, ok := l.problem(code, elementType, target, params); ok {
		return msg
	}
	// The whole problem in English, names included, rather than a mix.
	if en := l.english(); en != nil {
		if msg, ok := en.problem(code, elementType, target, params); ok {
			return msg
		}
	}
	return orEllipsis("problem." + code)
}

// problem renders a problem in the Localizer's own language only.
func (l *Localizer) problem(code, elementType, target string, params map[string]string) (string, bool) {
	id := "problem." + code
	sp, ok := l.cat.specs[id]
	if !ok || code == "" || id == MsgProblemUnknown {
		l.report(fmt.Errorf("i18n: unknown problem code %q", code))
		id = MsgProblemUnknown
		sp = l.cat.specs[id]
	}
	element := l.Element(elementType)
	d := map[string]any{"Element": element, "ElementCap": l.Capitalize(element)}
	if name, ok := strings.CutPrefix(target, "data."); ok {
		field := l.Field(elementType, name)
		d["Field"], d["FieldCap"] = field, l.Capitalize(field)
	} else if part := l.Part(target); part != "" {
		d["Part"], d["PartCap"] = part, l.Capitalize(part)
	}
	raw := make(map[string]string, len(params)) // by template key, as verify wrote them
	for k, v := range params {
		key := paramKey(k)
		raw[key] = v
		switch {
		case k == "date":
			d[key] = l.Day(v) // a Telegram Passport date, DD.MM.YYYY
		case isCountryParam(k) || k == "types":
			d[key] = v
		default:
			d[key] = l.digits(v) // sizes, ages, counts
		}
		if isCountryParam(k) {
			d[key+"Name"] = l.Country(v)
		}
		if k == "types" {
			var names []string
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					names = append(names, l.Element(t))
				}
			}
			d["TypeNames"] = l.OrList(names...)
		}
	}
	var count any
	if sp.plural != "" {
		if v, ok := raw[sp.plural]; ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				count = n
			}
		}
		if count == nil {
			l.report(fmt.Errorf("i18n: %s: problem %q: parameter for .%s is not a whole number", l.lang, code, sp.plural))
		}
	}
	return l.localize(id, count, d)
}

// paramKey turns a verify parameter name into a template key: "min_age" ->
// "MinAge", "max_mb" -> "MaxMB".
func paramKey(p string) string {
	var b strings.Builder
	for _, w := range strings.Split(p, "_") {
		switch w {
		case "":
		case "mb", "kb", "id", "url":
			b.WriteString(strings.ToUpper(w))
		default:
			r, n := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToUpper(r))
			b.WriteString(w[n:])
		}
	}
	return b.String()
}

// isCountryParam reports whether a parameter holds a country code.
func isCountryParam(p string) bool { return p == "country" || strings.HasSuffix(p, "_country") }
