package screening

import (
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/kycbot/kycbot/verify"
)

// countryAliases are the formal and older country names the OFAC and UN
// lists use where CLDR's English short name differs, normalized as
// countryKey does.
var countryAliases = map[string]string{
	"russian federation":                   "RU",
	"iran islamic republic of":             "IR",
	"syrian arab republic":                 "SY",
	"democratic peoples republic of korea": "KP",
	"korea north":                          "KP",
	"korea south":                          "KR",
	"republic of korea":                    "KR",
	"united states of america":             "US",
	"united kingdom of great britain and northern ireland": "GB",
	"united republic of tanzania":                          "TZ",
	"venezuela bolivarian republic of":                     "VE",
	"bolivia plurinational state of":                       "BO",
	"republic of moldova":                                  "MD",
	"lao peoples democratic republic":                      "LA",
	"viet nam":                                             "VN",
	"democratic republic of the congo":                     "CD",
	"congo democratic republic of the":                     "CD",
	"congo":                                                "CG",
	"republic of the congo":                                "CG",
	"burma":                                                "MM",
	"myanmar":                                              "MM",
	"state of palestine":                                   "PS",
	"palestine":                                            "PS",
	"turkiye":                                              "TR",
	"cote divoire":                                         "CI",
	"the former yugoslav republic of macedonia":            "MK",
	"north macedonia":                                      "MK",
	"czech republic":                                       "CZ",
	"swaziland":                                            "SZ",
	"eswatini":                                             "SZ",
	"gambia the":                                           "GM",
	"the gambia":                                           "GM",
	"bahamas the":                                          "BS",
	"micronesia federated states of":                       "FM",
	"brunei darussalam":                                    "BN",
	"cabo verde":                                           "CV",
	"holy see":                                             "VA",
}

// countryNames maps normalized English country names to ISO codes.
var countryNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 300)
	namer := display.English.Regions()
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			if !verify.IsCountry(code) {
				continue
			}
			r, err := language.ParseRegion(code)
			if err != nil {
				continue
			}
			if n := countryKey(namer.Name(r)); n != "" {
				m[n] = code
			}
		}
	}
	for k, v := range countryAliases {
		m[k] = v
	}
	return m
})

// countryKey normalizes a country name: the words of Tokens, in order.
func countryKey(s string) string {
	return strings.Join(Tokens(s), " ")
}

// CountryCode returns the ISO 3166-1 alpha-2 code of a country as the lists
// write it: a code ("RU", "ru") or an English name ("Russia", "Russian
// Federation", "Korea, North"); "" when it is neither.
func CountryCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 2 && verify.IsCountry(s) {
		return strings.ToUpper(s)
	}
	return countryNames()[countryKey(s)]
}
