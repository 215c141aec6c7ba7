package screening

import "encoding/xml"

// unEntry reads an INDIVIDUAL of the UN Security Council consolidated
// list.
type unEntry struct {
	b        builder
	dataID   string
	names    [4]string // FIRST_NAME .. FOURTH_NAME
	original string
	aliases  []string
	// of the INDIVIDUAL_DATE_OF_BIRTH being read
	date, year, from, to string
}

func (u *unEntry) reset([]xml.Attr) {
	u.b.reset()
	u.dataID, u.names, u.original, u.aliases = "", [4]string{}, "", u.aliases[:0]
}

func (u *unEntry) start(path []string, _ []xml.Attr) error {
	if is(path, "INDIVIDUAL_DATE_OF_BIRTH") {
		u.date, u.year, u.from, u.to = "", "", "", ""
	}
	return nil
}

func (u *unEntry) end(path []string, text string) error {
	if len(path) == 1 {
		switch path[0] {
		case "DATAID":
			u.dataID = text
		case "REFERENCE_NUMBER":
			u.b.e.ID = text
		case "FIRST_NAME":
			u.names[0] = text
		case "SECOND_NAME":
			u.names[1] = text
		case "THIRD_NAME":
			u.names[2] = text
		case "FOURTH_NAME":
			u.names[3] = text
		case "NAME_ORIGINAL_SCRIPT":
			u.original = text
		case "INDIVIDUAL_DATE_OF_BIRTH":
			switch {
			case u.date != "":
				u.b.dates(u.date)
			case u.year != "":
				u.b.dates(u.year)
			case u.from != "" && u.to != "":
				if ds, err := yearRange(atoi(u.from), atoi(u.to)); err == nil {
					u.b.date(ds...)
				}
			}
		}
		return nil
	}
	switch {
	case is(path, "INDIVIDUAL_ALIAS", "ALIAS_NAME"):
		if len(u.aliases) < MaxNamesPerEntry {
			u.aliases = append(u.aliases, text)
		} else {
			u.b.overflow = true
		}
	case is(path, "INDIVIDUAL_DATE_OF_BIRTH", "DATE"):
		u.date = text
	case is(path, "INDIVIDUAL_DATE_OF_BIRTH", "YEAR"):
		u.year = text
	case is(path, "INDIVIDUAL_DATE_OF_BIRTH", "FROM_YEAR"):
		u.from = text
	case is(path, "INDIVIDUAL_DATE_OF_BIRTH", "TO_YEAR"):
		u.to = text
	case is(path, "NATIONALITY", "VALUE"):
		u.b.country(text)
	}
	return nil
}

func (u *unEntry) entry() (Entry, bool, error) {
	if u.b.e.ID == "" {
		u.b.e.ID = u.dataID
	}
	u.b.name(u.names[:]...)
	u.b.name(u.original)
	for _, a := range u.aliases {
		u.b.name(a)
	}
	if err := u.b.done(); err != nil {
		return Entry{}, false, err
	}
	return u.b.e, len(u.b.e.Names) > 0, nil
}
