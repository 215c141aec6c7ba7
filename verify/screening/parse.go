package screening

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format names a watchlist file format.
type Format string

// The formats the parsers read.
const (
	// FormatOFAC is the OFAC SDN list in XML (sdn.xml): sdnEntry elements
	// with uid, firstName, lastName, sdnType, akaList/aka,
	// dateOfBirthList/dateOfBirthItem/dateOfBirth, nationalityList and
	// citizenshipList (country names). Individuals only.
	FormatOFAC Format = "ofac_sdn_xml"
	// FormatEU is the EU consolidated financial sanctions list in XML:
	// sanctionEntity elements (logicalId) with subjectType (code
	// "person"), nameAlias (wholeName or firstName, middleName, lastName),
	// birthdate (birthdate, or year, monthOfYear, dayOfMonth) and
	// citizenship (countryIso2Code), all attributes.
	FormatEU Format = "eu_xml"
	// FormatUN is the UN Security Council consolidated list in XML:
	// INDIVIDUAL elements with DATAID, REFERENCE_NUMBER, FIRST_NAME to
	// FOURTH_NAME, NAME_ORIGINAL_SCRIPT, INDIVIDUAL_ALIAS/ALIAS_NAME,
	// INDIVIDUAL_DATE_OF_BIRTH (DATE, YEAR, or FROM_YEAR and TO_YEAR) and
	// NATIONALITY/VALUE (country names). Entities are skipped.
	FormatUN Format = "un_xml"
	// FormatOpenSanctions is OpenSanctions' "targets.simple.csv" export: a
	// header row naming the columns, of which id, schema, name, aliases,
	// birth_date and countries are read (multiple values separated by
	// ";"); rows of schema Person only.
	FormatOpenSanctions Format = "opensanctions_csv"
)

// Formats lists the formats, in the order the docs give them.
func Formats() []Format {
	return []Format{FormatOFAC, FormatEU, FormatUN, FormatOpenSanctions}
}

// Limits that keep a parser's memory bounded whatever the file holds.
const (
	// MaxFieldBytes is the longest value (an element's text, an attribute,
	// a CSV field) a parser accepts.
	MaxFieldBytes = 64 << 10
	// MaxNamesPerEntry and MaxDatesPerEntry bound what one entry holds.
	MaxNamesPerEntry = 1000
	MaxDatesPerEntry = 100
)

// ErrFormat is wrapped by the errors of a file that does not follow its
// format; ErrUnknownFormat by Parse given a format it does not know.
var (
	ErrFormat        = errors.New("not in the list's format")
	ErrUnknownFormat = errors.New("unknown list format")
)

// ParseError says where a list file is wrong: the file, the line (1-based;
// 0 when unknown) and what is wrong. It never quotes the file's content.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a list in format f from r, calling emit for each person in
// it, in file order; file names the list in errors. It stops at the
// first error (the file's or emit's) and when ctx ends. Memory stays
// bounded by one entry, whatever the size of the file.
func Parse(ctx context.Context, f Format, file string, r io.Reader, emit func(Entry) error) error {
	switch f {
	case FormatOFAC:
		return walkXML(ctx, r, file, "sdnEntry", &ofacEntry{}, emit)
	case FormatEU:
		return walkXML(ctx, r, file, "sanctionEntity", &euEntry{}, emit)
	case FormatUN:
		return walkXML(ctx, r, file, "INDIVIDUAL", &unEntry{}, emit)
	case FormatOpenSanctions:
		return parseOpenSanctions(ctx, r, file, emit)
	}
	return fmt.Errorf("%w %.40q (the formats are %s)", ErrUnknownFormat, f, formatList())
}

func formatList() string {
	var s []string
	for _, f := range Formats() {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

// record collects one XML record (sdnEntry, sanctionEntity, INDIVIDUAL).
type record interface {
	reset(attrs []xml.Attr)
	// start is called for each element inside the record, path being the
	// names from the record's child down to the element.
	start(path []string, attrs []xml.Attr) error
	// end is called at each element's end with its text, trimmed.
	end(path []string, text string) error
	// entry returns the person read, or false for a record to skip.
	entry() (Entry, bool, error)
}

// walkXML streams r token by token, handing each element named rec to r
// and emitting its entry.
func walkXML(ctx context.Context, in io.Reader, file, name string, rec record, emit func(Entry) error) error {
	d := xml.NewDecoder(newRunGuard(in, '<'))
	d.Strict = true
	var (
		path    []string // inside a record
		inside  bool
		text    strings.Builder
		line    int
		records int
		root    bool
	)
	fail := func(err error) error {
		l, _ := d.InputPos()
		return &ParseError{File: file, Line: l, Err: err}
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !root {
				return &ParseError{File: file, Err: fmt.Errorf("%w: no XML element in the file", ErrFormat)}
			}
			if inside {
				return fail(fmt.Errorf("%w: the file ends inside a %s element", ErrFormat, name))
			}
			return nil
		}
		if errors.Is(err, ErrFormat) {
			return fail(err)
		}
		if err != nil {
			return fail(fmt.Errorf("%w: %v", ErrFormat, err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			root = true
			text.Reset()
			for _, a := range t.Attr {
				if len(a.Value) > MaxFieldBytes {
					return fail(fmt.Errorf("%w: an attribute longer than %d bytes", ErrFormat, MaxFieldBytes))
				}
			}
			if !inside {
				if t.Name.Local == name {
					inside, path = true, path[:0]
					line, _ = d.InputPos()
					rec.reset(t.Attr)
				}
				continue
			}
			if len(path) >= 16 {
				return fail(fmt.Errorf("%w: elements nested too deep in a %s", ErrFormat, name))
			}
			path = append(path, t.Name.Local)
			if err := rec.start(path, t.Attr); err != nil {
				return fail(err)
			}
		case xml.CharData:
			if inside {
				if text.Len()+len(t) > MaxFieldBytes {
					return fail(fmt.Errorf("%w: a value longer than %d bytes", ErrFormat, MaxFieldBytes))
				}
				text.Write(t)
			}
		case xml.EndElement:
			if !inside {
				continue
			}
			if len(path) == 0 { // the record ends
				inside = false
				records++
				if records%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				e, ok, err := rec.entry()
				if err != nil {
					return &ParseError{File: file, Line: line, Err: err}
				}
				if ok {
					if err := emit(e); err != nil {
						return &ParseError{File: file, Line: line, Err: err}
					}
				}
				continue
			}
			if err := rec.end(path, strings.TrimSpace(text.String())); err != nil {
				return fail(err)
			}
			text.Reset()
			path = path[:len(path)-1]
		}
	}
}

// builder accumulates an entry's fields within the limits.
type builder struct {
	e        Entry
	overflow bool
}

func (b *builder) reset() { b.e, b.overflow = Entry{}, false }

func (b *builder) name(parts ...string) {
	var nonEmpty []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) == 0 {
		return
	}
	if len(b.e.Names) >= MaxNamesPerEntry {
		b.overflow = true
		return
	}
	b.e.Names = append(b.e.Names, strings.Clone(strings.Join(nonEmpty, " ")))
}

// dates adds the dates s holds; a value that is not a date is ignored
// (the lists write free text there at times: "circa 1970-1972").
func (b *builder) dates(s string) {
	ds, err := ParseDates(s)
	if err != nil {
		return
	}
	b.date(ds...)
}

func (b *builder) date(ds ...Date) {
	for _, d := range ds {
		if len(b.e.BirthDates) >= MaxDatesPerEntry {
			b.overflow = true
			return
		}
		b.e.BirthDates = append(b.e.BirthDates, d)
	}
}

// country adds a country given as a code or an English name; others are
// ignored.
func (b *builder) country(s string) {
	c := CountryCode(s)
	if c == "" {
		return
	}
	for _, have := range b.e.Countries {
		if have == c {
			return
		}
	}
	if len(b.e.Countries) < MaxDatesPerEntry {
		b.e.Countries = append(b.e.Countries, c)
	}
}

func (b *builder) done() error {
	if b.overflow {
		return fmt.Errorf("%w: entry %.40q has more than %d names or %d dates", ErrFormat, b.e.ID, MaxNamesPerEntry, MaxDatesPerEntry)
	}
	return nil
}

func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

func is(path []string, names ...string) bool {
	if len(path) != len(names) {
		return false
	}
	for i := range path {
		if path[i] != names[i] {
			return false
		}
	}
	return true
}
