package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Screening says which watchlists users are screened against (screening),
// and how (package verify/screening). No lists: no screening.
type Screening struct {
	// Lists are the watchlist files (lists), each with a unique name. The
	// files are the business's own copies (kycbot downloads nothing);
	// they are read again on SIGHUP and when they change on disk.
	Lists []ScreeningList `yaml:"lists"`
	// Threshold is the score, between 0.5 and 1, from which a list entry
	// is a hit (threshold). Default DefaultScreeningThreshold.
	Threshold float64 `yaml:"threshold"`
	// BirthDate says how dates of birth weigh (birth_date):
	// ScreeningBirthDateRequired (default) excludes an entry whose known
	// dates of birth all differ from the user's; ScreeningBirthDateModifier
	// only lowers its score.
	BirthDate string `yaml:"birth_date"`
	// PollInterval is how often the list files are checked for changes
	// (poll_interval), between 1 second and 24 hours. Default 1m.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// ScreeningList is one watchlist file.
type ScreeningList struct {
	// Name names the list in hits, audit and logs (name): lowercase
	// letters, digits, _ and -, at most 32 characters.
	Name string `yaml:"name"`
	// Format is the file's format (format): one of ScreeningFormats.
	Format string `yaml:"format"`
	// File is the path of the list (file). Load resolves a relative path
	// against the directory of the config file.
	File string `yaml:"file"`
}

// Defaults and bounds of the screening settings.
const (
	DefaultScreeningThreshold    = 0.9
	MinScreeningThreshold        = 0.5
	DefaultScreeningPollInterval = time.Minute
	MinScreeningPollInterval     = time.Second
	MaxScreeningPollInterval     = 24 * time.Hour
	// ScreeningBirthDateRequired and ScreeningBirthDateModifier are the
	// values of screening.birth_date.
	ScreeningBirthDateRequired = "required_match"
	ScreeningBirthDateModifier = "modifier"
)

// ScreeningFormats lists the formats of screening.lists[].format: the OFAC
// SDN list's sdn.xml, the EU consolidated list's XML, the UN Security
// Council consolidated list's XML and OpenSanctions' targets.simple.csv.
// They are package verify/screening's Formats (config does not import it;
// a test there keeps them equal).
func ScreeningFormats() []string {
	return []string{"ofac_sdn_xml", "eu_xml", "un_xml", "opensanctions_csv"}
}

// WithListCheck has Load and Parse check each screening list file
// further with check (kycbot check-config parses it with package
// verify/screening); an error it returns is a problem at the list's file.
// Without it, a list file is only checked to exist.
func WithListCheck(check func(ScreeningList) error) Option {
	return func(o *options) { o.listCheck = check }
}

var listName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// screening checks the screening section and resolves the list files.
func (c *checker) screening(s *Screening, check func(ScreeningList) error) {
	if s.Threshold < MinScreeningThreshold || s.Threshold > 1 {
		c.add("screening.threshold", "%v is not between %v and 1: the score from which a list entry is a hit (default %v)", s.Threshold, MinScreeningThreshold, DefaultScreeningThreshold)
	}
	if s.BirthDate != ScreeningBirthDateRequired && s.BirthDate != ScreeningBirthDateModifier {
		c.add("screening.birth_date", "must be %s or %s, not %.40q", ScreeningBirthDateRequired, ScreeningBirthDateModifier, s.BirthDate)
	}
	c.duration("screening.poll_interval", s.PollInterval, MinScreeningPollInterval, MaxScreeningPollInterval)
	seen := map[string]bool{}
	for i := range s.Lists {
		l := &s.Lists[i]
		path := fmt.Sprintf("screening.lists[%d]", i)
		switch {
		case !listName.MatchString(l.Name):
			c.add(path+".name", "%.40q must be 1 to 32 lowercase letters, digits, _ or -, such as ofac", l.Name)
		case seen[l.Name]:
			c.add(path+".name", "%q names two lists: give each its own name", l.Name)
		}
		seen[l.Name] = true
		known := false
		for _, f := range ScreeningFormats() {
			known = known || f == l.Format
		}
		if !known {
			c.add(path+".format", "%.40q%s is not a list format; the formats are %s", l.Format,
				didYouMean(l.Format, ScreeningFormats()), andList(ScreeningFormats()))
		}
		if l.File == "" {
			c.add(path+".file", "is missing: the path of the list file")
			continue
		}
		if !filepath.IsAbs(l.File) && c.baseDir != "" {
			l.File = filepath.Join(c.baseDir, l.File)
		}
		st, err := os.Stat(l.File)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.add(path+".file", "%.200q does not exist (a relative path starts at the config file's folder)", l.File)
			continue
		case err != nil:
			c.add(path+".file", "cannot read %.200q: %v", l.File, errors.Unwrap(err))
			continue
		case st.IsDir():
			c.add(path+".file", "%.200q is a folder: name the list file", l.File)
			continue
		}
		if check != nil && known {
			if err := check(*l); err != nil {
				c.add(path+".file", "%s", strings.TrimSpace(err.Error()))
			}
		}
	}
}

// describeScreening says what screening does, for the summary.
func (c *Config) describeScreening() string {
	s := c.Screening
	if len(s.Lists) == 0 {
		return "off (no screening.lists)."
	}
	var names []string
	for _, l := range s.Lists {
		names = append(names, l.Name+" ("+l.Format+")")
	}
	return fmt.Sprintf("every user with personal details against %s; a hit from score %v sends the case to manual review (it never rejects by itself); birth dates %s; files checked every %s and read again on SIGHUP.",
		strings.Join(names, ", "), s.Threshold, s.BirthDate, fmtDuration(s.PollInterval))
}
