package verify

import (
	"regexp"
	"strings"
)

// postCodeFormats are the post code formats kycbot knows, by country. A
// country absent here is not checked (its post codes pass as long as they
// are present); countries in noPostCodes need none at all. Formats accept
// the common spelling with or without the optional separator; matching is
// case-insensitive after trimming.
var postCodeFormats = map[string]string{
	"AR": `[A-Z]?\d{4}([A-Z]{3})?`,
	"AM": `\d{4}`,
	"AT": `\d{4}`,
	"AU": `\d{4}`,
	"AZ": `(AZ ?)?\d{4}`,
	"BE": `\d{4}`,
	"BG": `\d{4}`,
	"BR": `\d{5}-?\d{3}`,
	"BY": `\d{6}`,
	"CA": `[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d`,
	"CH": `\d{4}`,
	"CN": `\d{6}`,
	"CY": `\d{4}`,
	"CZ": `\d{3} ?\d{2}`,
	"DE": `\d{5}`,
	"DK": `\d{4}`,
	"DZ": `\d{5}`,
	"EE": `\d{5}`,
	"EG": `\d{5}`,
	"ES": `\d{5}`,
	"FI": `\d{5}`,
	"FR": `\d{2} ?\d{3}`,
	"GB": `([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|GIR ?0AA)`,
	"GE": `\d{4}`,
	"GR": `\d{3} ?\d{2}`,
	"HR": `\d{5}`,
	"HU": `\d{4}`,
	"ID": `\d{5}`,
	"IE": `[AC-FHKNPRTV-Y]\d[\dW] ?[0-9AC-FHKNPRTV-Y]{4}`,
	"IL": `\d{5}(\d{2})?`,
	"IN": `[1-9]\d{2} ?\d{3}`,
	"IR": `\d{5}-?\d{5}`,
	"IS": `\d{3}`,
	"IT": `\d{5}`,
	"JP": `\d{3}-?\d{4}`,
	"KG": `\d{6}`,
	"KR": `\d{5}`,
	"LT": `(LT-?)?\d{5}`,
	"LU": `(L-?)?\d{4}`,
	"LV": `(LV-?)?\d{4}`,
	"MA": `\d{5}`,
	"MD": `(MD-?)?\d{4}`,
	"MX": `\d{5}`,
	"MY": `\d{5}`,
	"NL": `\d{4} ?[A-Z]{2}`,
	"NO": `\d{4}`,
	"NZ": `\d{4}`,
	"PH": `\d{4}`,
	"PK": `\d{5}`,
	"PL": `\d{2}-?\d{3}`,
	"PT": `\d{4}(-?\d{3})?`,
	"RO": `\d{6}`,
	"RS": `\d{5}`,
	"RU": `\d{6}`,
	"SA": `\d{5}(-?\d{4})?`,
	"SE": `\d{3} ?\d{2}`,
	"SG": `\d{6}`,
	"SI": `(SI-?)?\d{4}`,
	"SK": `\d{3} ?\d{2}`,
	"TH": `\d{5}`,
	"TJ": `\d{6}`,
	"TN": `\d{4}`,
	"TR": `\d{5}`,
	"TW": `\d{3}(\d{2,3})?`,
	"UA": `\d{5}`,
	"US": `\d{5}([ -]?\d{4})?`,
	"UZ": `\d{6}`,
	"VN": `\d{6}`,
	"ZA": `\d{4}`,
}

// noPostCodes lists countries without a national post code system: an
// empty post code is fine there.
const noPostCodes = "AE AG AO AW BF BI BJ BS BW BZ CD CF CG CI CK CM DJ DM ER FJ GA GD GH GM GQ GY HK " +
	"KI KM KN KP LY ML MO MR MW NR NU QA RW SB SC SL SR SS ST SY TD TF TG TK TL TO TV UG VU YE ZW"

// postCodes compiles the formats; a Checker builds it once.
type postCodes map[string]*regexp.Regexp

func compilePostCodes() postCodes {
	pc := make(postCodes, len(postCodeFormats))
	for cc, f := range postCodeFormats {
		pc[cc] = regexp.MustCompile(`^(?i:` + f + `)$`)
	}
	return pc
}

// valid reports whether code is a valid post code for country; countries
// without a known format accept any non-empty code.
func (pc postCodes) valid(country, code string) bool {
	re, ok := pc[strings.ToUpper(country)]
	if !ok {
		return true
	}
	return re.MatchString(strings.TrimSpace(code))
}

// needsPostCode reports whether addresses in country must carry a post code.
func needsPostCode(country string) bool {
	up := strings.ToUpper(country)
	if len(up) != 2 {
		return true
	}
	i := strings.Index(noPostCodes, up)
	return i < 0 || i%3 != 0
}

// HasPostCodeFormat reports whether kycbot checks post codes of country
// against a known format.
func HasPostCodeFormat(country string) bool {
	_, ok := postCodeFormats[strings.ToUpper(country)]
	return ok
}
