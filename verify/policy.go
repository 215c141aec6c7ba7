package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kycbot/kycbot/passport"
)

// Policy is what a business accepts. The zero value of every field means
// "no rule" except where DefaultPolicy says otherwise; config fills a
// Policy from YAML (the yaml tags are the YAML keys) and validates it with
// Policy.Validate.
type Policy struct {
	// Personal holds the rules for personal_details.
	Personal PersonalRules `yaml:"personal_details"`
	// Documents holds the rules for identity documents (passport,
	// driver_license, identity_card, internal_passport).
	Documents DocumentRules `yaml:"documents"`
	// Address holds the rules for the residential address.
	Address AddressRules `yaml:"address"`
	// Files holds the rules for every scan.
	Files FileRules `yaml:"files"`
	// Duplicates says what becomes of a submission whose identity
	// document, or whose person (names and birth date), another Telegram
	// account was verified with: DuplicatesRefuse (also ""),
	// DuplicatesReview or DuplicatesOff. The verification flow applies it;
	// Checker.Check does not.
	Duplicates string `yaml:"duplicates"`
	// Review is ReviewAlways to have an admin decide on every submission
	// that passes the rules (manual review); "" for only the other
	// triggers (Duplicates, ReviewSample, screening). Applied by the
	// verification flow.
	Review string `yaml:"review"`
	// ReviewSample is the share, from 0 to 1, of the submissions that pass
	// the rules sent to manual review at random, for quality control
	// (0.05: one in twenty). Default 0: none.
	ReviewSample float64 `yaml:"review_sample"`
}

// ReviewAlways is the Policy.Review that sends every submission passing
// the rules to manual review.
const ReviewAlways = "always"

// Values of Policy.Duplicates.
const (
	// DuplicatesRefuse refuses the second account for good, telling the
	// user without naming the first; the admins are alerted. The default.
	DuplicatesRefuse = "refuse"
	// DuplicatesOff records no document and checks none: one document
	// may verify any number of accounts.
	DuplicatesOff = "off"
	// DuplicatesReview sends the second account's submission to manual
	// review: an admin decides.
	DuplicatesReview = "review"
)

// PersonalRules check personal_details.
type PersonalRules struct {
	// MinAge is the minimum age in full years; 0 means none. Being younger
	// is a final rejection.
	MinAge int `yaml:"min_age"`
	// MaxAge is the maximum age in full years; 0 means none.
	MaxAge int `yaml:"max_age"`
	// LatinNames requires first, middle and last name in Latin letters
	// (with spaces, hyphens and apostrophes). Native names are never
	// restricted.
	LatinNames bool `yaml:"latin_names"`
	// MaxNameLength limits every name field, in characters (default 255).
	MaxNameLength int `yaml:"max_name_length"`
	// Citizenship limits country_code.
	Citizenship CountryRule `yaml:"citizenship"`
	// Residence limits residence_country_code.
	Residence CountryRule `yaml:"residence"`
}

// CountryRule accepts or refuses ISO 3166-1 alpha-2 country codes. With
// Allow set, only those countries pass; Deny refuses its countries. Both
// may be set; a country in Deny never passes. Codes are case-insensitive.
type CountryRule struct {
	// Allow, when not empty, is the only countries that pass.
	Allow []string `yaml:"allow"`
	// Deny lists countries that never pass.
	Deny []string `yaml:"deny"`
}

// DocumentRules check the data of identity documents.
type DocumentRules struct {
	// RequireExpiry requires an expiry date (documents without one are
	// refused).
	RequireExpiry bool `yaml:"require_expiry"`
	// MinValidityDays requires the document to stay valid for at least this
	// many days after the check; 0 means it must merely not be expired.
	MinValidityDays int `yaml:"min_validity_days"`
	// Types overrides the rules above per document type.
	Types map[passport.ElementType]DocumentTypeRules `yaml:"types"`
	// CheckNumbers checks document numbers against the formats and check
	// digits of the issuing state (package docno: the countries and types
	// it has rules for; others keep the plausibility check). A number that
	// fails is a problem the user fixes (CodeWrongDocumentNumber), never a
	// final rejection. Nil means true: a wrong check digit is a typo (or a
	// made-up number) that the business would otherwise receive as
	// verified; false turns the rules off.
	CheckNumbers *bool `yaml:"check_numbers"`
}

// ChecksNumbers reports whether document numbers are checked against the
// issuing states' rules (CheckNumbers, default true).
func (d DocumentRules) ChecksNumbers() bool { return d.CheckNumbers == nil || *d.CheckNumbers }

// DocumentTypeRules override DocumentRules for one document type. Nil
// fields inherit.
type DocumentTypeRules struct {
	// RequireExpiry overrides DocumentRules.RequireExpiry.
	RequireExpiry *bool `yaml:"require_expiry"`
	// MinValidityDays overrides DocumentRules.MinValidityDays.
	MinValidityDays *int `yaml:"min_validity_days"`
}

// AddressRules check the residential address.
type AddressRules struct {
	// Countries limits the address country.
	Countries CountryRule `yaml:"countries"`
	// ResidenceMatchesAddress requires personal_details'
	// residence_country_code to equal the address country when both are
	// shared.
	ResidenceMatchesAddress bool `yaml:"residence_matches_address"`
}

// FileRules check scans (front and reverse sides, selfies, files,
// translations).
type FileRules struct {
	// MaxSizeMB limits a decrypted scan (default 10, Telegram's own limit).
	MaxSizeMB int `yaml:"max_size_mb"`
	// MinWidth and MinHeight are the smallest accepted pixel size of a scan
	// (either orientation); 0 means none.
	MinWidth  int `yaml:"min_width"`
	MinHeight int `yaml:"min_height"`
	// MinSharpness is the smallest accepted focus measure of a scan (see
	// Sharpness: the variance of the Laplacian of the scan scaled to 800
	// pixels); a blurrier scan has the problem CodeImageBlurry. Nil means
	// DefaultMinSharpness; 0 turns the rule off. Real photos of
	// documents measure from a few hundred up: raise it towards 200 to
	// refuse slightly soft photos too, lower it if sharp scans are
	// refused (the audit trail and the kycbot_problems_total metric count
	// image_blurry).
	MinSharpness *int `yaml:"min_sharpness"`
	// MaxFiles limits the scans of an address document and MaxTranslations
	// the translation scans of any document (default 20 each, the apps' cap).
	MaxFiles        int `yaml:"max_files"`
	MaxTranslations int `yaml:"max_translations"`
}

// Defaults used where a Policy leaves a field zero.
const (
	DefaultMaxNameLength   = 255
	DefaultMaxSizeMB       = 10
	DefaultMaxFiles        = 20
	DefaultMaxTranslations = 20
)

// DefaultPolicy returns the policy kycbot applies when the admin sets no
// rules: adults only (18+), documents must not be expired.
func DefaultPolicy() Policy {
	return Policy{
		Personal: PersonalRules{MinAge: 18, MaxNameLength: DefaultMaxNameLength},
		Files: FileRules{
			MaxSizeMB: DefaultMaxSizeMB, MaxFiles: DefaultMaxFiles, MaxTranslations: DefaultMaxTranslations,
		},
	}
}

// PolicyError is one invalid value in a Policy. Path is the field's YAML
// path inside the policy ("personal_details.min_age",
// "documents.types.passport.min_validity_days", "address.countries.allow[2]").
type PolicyError struct {
	Path    string
	Message string
}

func (e PolicyError) Error() string { return e.Path + ": " + e.Message }

// Validate reports every invalid value at once, each with its YAML path and
// a message saying what to write instead.
func (p Policy) Validate() []PolicyError {
	var errs []PolicyError
	add := func(path, format string, args ...any) {
		errs = append(errs, PolicyError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	// inRange checks a count whose zero means "no rule" (or, for the fields
	// with a default, "the default").
	inRange := func(path string, v, most int, zero string) {
		switch {
		case v < 0:
			add(path, "%d is negative; use 0 for %s or a positive number", v, zero)
		case v > most:
			add(path, "%d is too large; the most that makes sense is %d", v, most)
		}
	}
	pr := p.Personal
	inRange("personal_details.min_age", pr.MinAge, 150, "no minimum")
	inRange("personal_details.max_age", pr.MaxAge, 150, "no maximum")
	if pr.MaxAge > 0 && pr.MinAge > pr.MaxAge {
		add("personal_details.max_age", "%d is below min_age %d: no one could pass", pr.MaxAge, pr.MinAge)
	}
	inRange("personal_details.max_name_length", pr.MaxNameLength, 1000,
		fmt.Sprintf("the default (%d)", DefaultMaxNameLength))
	errs = append(errs, pr.Citizenship.validate("personal_details.citizenship")...)
	errs = append(errs, pr.Residence.validate("personal_details.residence")...)

	d := p.Documents
	inRange("documents.min_validity_days", d.MinValidityDays, 3650, "no minimum")
	for _, t := range sortedTypes(d.Types) {
		path := "documents.types." + string(t)
		if !t.IsIdentityDocument() {
			add(path, "%q is not an identity document type; use passport, driver_license, identity_card or internal_passport", string(t))
			continue
		}
		if v := d.Types[t].MinValidityDays; v != nil {
			inRange(path+".min_validity_days", *v, 3650, "no minimum")
		}
	}
	errs = append(errs, p.Address.Countries.validate("address.countries")...)

	f := p.Files
	if f.MaxSizeMB > DefaultMaxSizeMB {
		add("files.max_size_mb", "%d is above Telegram's own limit of %d MB, which no scan exceeds", f.MaxSizeMB, DefaultMaxSizeMB)
	} else {
		inRange("files.max_size_mb", f.MaxSizeMB, DefaultMaxSizeMB, fmt.Sprintf("the default (%d)", DefaultMaxSizeMB))
	}
	inRange("files.min_width", f.MinWidth, 10000, "no minimum")
	inRange("files.min_height", f.MinHeight, 10000, "no minimum")
	if v := f.MinSharpness; v != nil {
		switch {
		case *v < 0:
			add("files.min_sharpness", "%d is not a sharpness; use 0 to turn the rule off or a number up to %d (default %d)",
				*v, MaxMinSharpness, DefaultMinSharpness)
		case *v > MaxMinSharpness:
			add("files.min_sharpness", "%d is too large: sharp photos of faces measure less; the most that makes sense is %d (default %d)",
				*v, MaxMinSharpness, DefaultMinSharpness)
		}
	}
	switch p.Duplicates {
	case "", DuplicatesRefuse, DuplicatesReview, DuplicatesOff:
	default:
		add("duplicates", "%.40q is not a choice; use refuse (the default), review or off", p.Duplicates)
	}
	if p.Review != "" && p.Review != ReviewAlways {
		add("review", "%.40q is not a choice; use always, or leave it out for the other triggers only", p.Review)
	}
	if !(p.ReviewSample >= 0 && p.ReviewSample <= 1) {
		add("review_sample", "%v is not a share; use a number from 0 (none, the default) to 1 (every submission), such as 0.05", p.ReviewSample)
	}
	inRange("files.max_files", f.MaxFiles, DefaultMaxFiles, fmt.Sprintf("the default (%d)", DefaultMaxFiles))
	inRange("files.max_translations", f.MaxTranslations, DefaultMaxTranslations,
		fmt.Sprintf("the default (%d)", DefaultMaxTranslations))
	return errs
}

func (r CountryRule) validate(path string) []PolicyError {
	var errs []PolicyError
	check := func(list string, codes []string) map[string]bool {
		set := map[string]bool{}
		for i, c := range codes {
			p := fmt.Sprintf("%s.%s[%d]", path, list, i)
			if !IsCountry(c) {
				msg := fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code (two letters, such as DE or US)", c)
				errs = append(errs, PolicyError{Path: p, Message: msg})
				continue
			}
			up := strings.ToUpper(c)
			if set[up] {
				errs = append(errs, PolicyError{Path: p, Message: fmt.Sprintf("%s is listed twice", up)})
			}
			set[up] = true
		}
		return set
	}
	allow := check("allow", r.Allow)
	deny := check("deny", r.Deny)
	both := make([]string, 0, len(allow))
	for c := range allow {
		if deny[c] {
			both = append(both, c)
		}
	}
	sort.Strings(both)
	for _, c := range both {
		errs = append(errs, PolicyError{Path: path, Message: fmt.Sprintf("%s is both allowed and denied; keep it in one list", c)})
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
	return errs
}

func sortedTypes(m map[passport.ElementType]DocumentTypeRules) []passport.ElementType {
	out := make([]passport.ElementType, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
