package screening

import "encoding/xml"

// ofacEntry reads an sdnEntry of OFAC's sdn.xml.
type ofacEntry struct {
	b           builder
	individual  bool
	first, last string // the primary name
	akaF, akaL  string // of the aka being read
}

func (o *ofacEntry) reset([]xml.Attr) {
	o.b.reset()
	o.individual = false
	o.first, o.last, o.akaF, o.akaL = "", "", "", ""
}

func (o *ofacEntry) start(path []string, _ []xml.Attr) error {
	if is(path, "akaList", "aka") {
		o.akaF, o.akaL = "", ""
	}
	return nil
}

func (o *ofacEntry) end(path []string, text string) error {
	switch {
	case is(path, "uid"):
		o.b.e.ID = text
	case is(path, "sdnType"):
		o.individual = text == "Individual"
	case is(path, "firstName"):
		o.first = text
	case is(path, "lastName"):
		o.last = text
	case is(path, "akaList", "aka", "firstName"):
		o.akaF = text
	case is(path, "akaList", "aka", "lastName"):
		o.akaL = text
	case is(path, "akaList", "aka"):
		o.b.name(o.akaF, o.akaL)
	case is(path, "dateOfBirthList", "dateOfBirthItem", "dateOfBirth"):
		o.b.dates(text)
	case is(path, "nationalityList", "nationality", "country"),
		is(path, "citizenshipList", "citizenship", "country"):
		o.b.country(text)
	}
	return nil
}

func (o *ofacEntry) entry() (Entry, bool, error) {
	if !o.individual {
		return Entry{}, false, nil
	}
	// The primary name comes first, then the aliases.
	primary := builder{}
	primary.name(o.first, o.last)
	o.b.e.Names = append(primary.e.Names, o.b.e.Names...)
	if err := o.b.done(); err != nil {
		return Entry{}, false, err
	}
	return o.b.e, len(o.b.e.Names) > 0, nil
}
