package i18n

import (
	"strconv"
	"strings"
	"time"

	cldr "github.com/go-playground/locales"
	"github.com/go-playground/locales/ar"
	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/en_GB"
	"github.com/go-playground/locales/es"
	"github.com/go-playground/locales/fa"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/pt_BR"
	"github.com/go-playground/locales/ru"
	"github.com/go-playground/locales/tr"
	"github.com/go-playground/locales/uk"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Dates and times are written from CLDR data, never from layouts of our
// own: the patterns (the order of day, month and year, month names,
// separators, 12- or 24-hour clocks) come from github.com/go-playground/locales,
// which is generated from CLDR; the digits come from the CLDR default
// numbering system of the language as golang.org/x/text knows it (arabext
// for fa: ۰۱۲۳۴۵۶۷۸۹; arab for ar: ٠١٢٣٤٥٦٧٨٩; latn for the others),
// because go-playground/locales writes every language in Latin digits.

// calendar returns the CLDR date and time patterns of a supported
// language. English is British, as the English texts are.
func calendar(lang string) cldr.Translator {
	switch lang {
	case "ru":
		return ru.New()
	case "uk":
		return uk.New()
	case "es":
		return es.New()
	case "pt-BR":
		return pt_BR.New()
	case "de":
		return de.New()
	case "fr":
		return fr.New()
	case "tr":
		return tr.New()
	case "fa":
		return fa.New()
	case "ar":
		return ar.New()
	}
	return en_GB.New()
}

// nativeDigits returns the ten digits of the CLDR default numbering system
// of tag, or nil when it is the Latin one.
func nativeDigits(tag language.Tag) *strings.Replacer {
	p := message.NewPrinter(tag)
	pairs := make([]string, 0, 20)
	native := false
	for d := range 10 {
		s := p.Sprint(number.Decimal(d))
		if s != string(rune('0'+d)) {
			native = true
		}
		pairs = append(pairs, string(rune('0'+d)), s)
	}
	if !native {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

// Date writes the calendar day of t (in t's UTC day) as the language does
// in running text: CLDR's medium date format ("5 Dec 2026" in English,
// "05.12.2026" in German, "5 дек. 2026 г." in Russian, "۵ دسامبر ۲۰۲۶" in
// Persian), in the language's own digits. The calendar is the Gregorian
// one in every language: the dates kycbot shows are those of documents
// and of records, which users typed or read in that calendar.
func (l *Localizer) Date(t time.Time) string {
	return l.digits(l.cal.FmtDateMedium(t.UTC()))
}

// DateTime writes the UTC date and time of t, to the minute, with the
// time zone named ("5 Dec 2026, 06:52 UTC"): the date as Date does, the
// time in CLDR's short time format, joined by the language's
// MsgDateTimeUTC text.
func (l *Localizer) DateTime(t time.Time) string {
	t = t.UTC()
	return l.render(MsgDateTimeUTC, nil, map[string]any{
		"Date": l.Date(t),
		"Time": l.digits(l.cal.FmtTimeShort(t)),
	})
}

// Time writes the UTC time of t, to the minute, in CLDR's short time
// format and the language's own digits, with the zone named ("6:52 am
// UTC" in English, "06:52 UTC" in German).
func (l *Localizer) Time(t time.Time) string {
	return l.digits(l.cal.FmtTimeShort(t.UTC())) + " UTC"
}

// Day writes a calendar day given as YYYY-MM-DD (a store day) or as
// DD.MM.YYYY (a Telegram Passport date) as Date does; anything else is
// returned as it is.
func (l *Localizer) Day(s string) string {
	for _, layout := range []string{time.DateOnly, passportDate} {
		if t, err := time.Parse(layout, s); err == nil {
			return l.Date(t)
		}
	}
	return s
}

// passportDate is the layout of the dates of Telegram Passport data.
const passportDate = "2.1.2006" // one or two digits for the day and month, as Telegram accepts

// digits writes the Latin digits of s in the language's own digits.
func (l *Localizer) digits(s string) string {
	if l.nums == nil {
		return s
	}
	return l.nums.Replace(s)
}

// number writes a Go integer of template data in the language's own
// digits (a string in Persian and Arabic, "۳"); any other value is
// returned as it is. Strings stay as they are: user IDs and commands are
// typed back in Latin digits.
func (l *Localizer) number(v any) any {
	if l.nums == nil {
		return v
	}
	switch n := v.(type) {
	case int:
		return l.nums.Replace(strconv.Itoa(n))
	case int64:
		return l.nums.Replace(strconv.FormatInt(n, 10))
	}
	return v
}
