package screening

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entry is one person on a watchlist, as a parser read it: only what the
// matcher uses. Entries of other kinds (companies, vessels, aircraft) are
// skipped by the parsers.
type Entry struct {
	// List is the name of the list the entry comes from (the config's
	// screening.lists[].name).
	List string
	// ID is the list's own identifier of the entry (OFAC uid, EU logicalId,
	// UN DATAID or REFERENCE_NUMBER, OpenSanctions id).
	ID string
	// Names are the entry's names as the list writes them: the primary name
	// first, then the aliases. Each is a whole name ("Ivan Petrov").
	Names []string
	// BirthDates are the dates of birth the list gives; a list may give
	// several, or a year only. Empty: unknown.
	BirthDates []Date
	// Countries are the nationalities and citizenships, ISO 3166-1 alpha-2
	// codes in upper case; names the parser could not map are left out.
	Countries []string
}

// Date is a date of birth, possibly partial: a year only (Month and Day
// zero), a year and month (Day zero), or a whole date. The zero Date is
// unknown.
type Date struct {
	Year  int
	Month int
	Day   int
}

// IsZero reports whether the date is unknown.
func (d Date) IsZero() bool { return d.Year == 0 }

// String writes the date as YYYY, YYYY-MM or YYYY-MM-DD.
func (d Date) String() string {
	switch {
	case d.Year == 0:
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Compatible reports whether two dates can be the same day: every part
// known in both is equal (a year-only entry matches any day of that year).
// An unknown date is compatible with everything.
func (d Date) Compatible(o Date) bool {
	if d.IsZero() || o.IsZero() {
		return true
	}
	if d.Year != o.Year {
		return false
	}
	if d.Month != 0 && o.Month != 0 && d.Month != o.Month {
		return false
	}
	return d.Day == 0 || o.Day == 0 || d.Day == o.Day
}

// Exact reports whether both dates are whole and the same day.
func (d Date) Exact(o Date) bool {
	return d.Day != 0 && o.Day != 0 && d == o
}

// ErrBadDate is wrapped by ParseDate's errors.
var ErrBadDate = errors.New("not a date")

var monthNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

// ParseDate reads a date of birth in the forms the lists and Telegram
// Passport use: YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY (Passport), and
// OFAC's "02 Jan 1970", "Jan 1970", "circa 1970" (the year). A range such
// as OFAC's "1968 to 1970" is not one date: ParseDates returns each year.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "circa "), "Circa ")
	bad := func() (Date, error) { return Date{}, fmt.Errorf("%w: %.40q", ErrBadDate, s) }
	var d Date
	switch {
	case strings.Count(s, ".") == 2: // DD.MM.YYYY
		p := strings.Split(s, ".")
		d = Date{Year: atoi(p[2]), Month: atoi(p[1]), Day: atoi(p[0])}
	case strings.Contains(s, "-"): // YYYY-MM-DD or YYYY-MM
		p := strings.Split(s, "-")
		if len(p) > 3 {
			return bad()
		}
		d.Year, d.Month = atoi(p[0]), atoi(p[1])
		if len(p) == 3 {
			d.Day = atoi(p[2])
		}
	case strings.Contains(s, " "): // 02 Jan 1970, Jan 1970
		p := strings.Fields(s)
		if len(p) > 3 {
			return bad()
		}
		d.Year = atoi(p[len(p)-1])
		mon := strings.ToLower(p[len(p)-2])
		m, ok := monthNames[mon[:min(3, len(mon))]]
		if !ok {
			return bad()
		}
		d.Month = m
		if len(p) == 3 {
			d.Day = atoi(p[0])
		}
	default:
		d.Year = atoi(s)
	}
	if d.Year < 1000 || d.Year > 9999 || d.Month < 0 || d.Month > 12 || d.Day < 0 || d.Day > 31 ||
		(d.Day != 0 && d.Month == 0) {
		return bad()
	}
	if d.Day != 0 && time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC).Day() != d.Day {
		return bad()
	}
	return d, nil
}

// ParseDates is ParseDate that also reads a range of years ("1968 to
// 1970", as OFAC writes it) as each year of it, up to 20 years.
func ParseDates(s string) ([]Date, error) {
	from, to, ok := strings.Cut(s, " to ")
	if !ok {
		d, err := ParseDate(s)
		if err != nil {
			return nil, err
		}
		return []Date{d}, nil
	}
	a, err := ParseDate(from)
	if err != nil {
		return nil, err
	}
	b, err := ParseDate(to)
	if err != nil {
		return nil, err
	}
	return yearRange(a.Year, b.Year)
}

// yearRange returns each year from a to b as a year-only Date.
func yearRange(a, b int) ([]Date, error) {
	if a > b || b-a > 20 {
		return nil, fmt.Errorf("%w: years %d to %d", ErrBadDate, a, b)
	}
	var out []Date
	for y := a; y <= b; y++ {
		out = append(out, Date{Year: y})
	}
	return out, nil
}

// atoi returns the number s holds, or -1.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}
