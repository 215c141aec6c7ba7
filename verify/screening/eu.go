package screening

import "encoding/xml"

// euEntry reads a sanctionEntity of the EU consolidated list.
type euEntry struct {
	b      builder
	person bool
}

func (u *euEntry) reset(attrs []xml.Attr) {
	u.b.reset()
	u.person = false
	u.b.e.ID = attr(attrs, "logicalId")
}

func (u *euEntry) start(path []string, a []xml.Attr) error {
	switch {
	case is(path, "subjectType"):
		u.person = attr(a, "code") == "person"
	case is(path, "nameAlias"):
		if w := attr(a, "wholeName"); w != "" {
			u.b.name(w)
		} else {
			u.b.name(attr(a, "firstName"), attr(a, "middleName"), attr(a, "lastName"))
		}
	case is(path, "birthdate"):
		if s := attr(a, "birthdate"); s != "" {
			u.b.dates(s)
			break
		}
		d := Date{Year: atoi(attr(a, "year")), Month: max(0, atoi(attr(a, "monthOfYear"))), Day: max(0, atoi(attr(a, "dayOfMonth")))}
		if d.Month == 0 {
			d.Day = 0
		}
		if d.Year > 0 {
			if _, err := ParseDate(d.String()); err == nil {
				u.b.date(d)
			}
		}
	case is(path, "citizenship"):
		u.b.country(attr(a, "countryIso2Code"))
	}
	return nil
}

func (u *euEntry) end([]string, string) error { return nil }

func (u *euEntry) entry() (Entry, bool, error) {
	if err := u.b.done(); err != nil {
		return Entry{}, false, err
	}
	return u.b.e, u.person && len(u.b.e.Names) > 0, nil
}
