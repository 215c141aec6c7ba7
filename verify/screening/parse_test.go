package screening

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func parseAll(t testing.TB, f Format, data string) ([]Entry, error) {
	t.Helper()
	var out []Entry
	err := Parse(context.Background(), f, "list."+string(f), strings.NewReader(data), func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// TestParseRoundTrip writes synthetic people in each format and reads
// them back: every person, with every name, date and country, and none of
// the companies.
func TestParseRoundTrip(t *testing.T) {
	people := append(synthPeople(1, 300), planted...)
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			writers[f](&buf, people)
			got, err := parseAll(t, f, buf.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(people) {
				t.Fatalf("%d entries, want %d", len(got), len(people))
			}
			for i, p := range people {
				e := got[i]
				if !strings.HasSuffix(e.ID, p.id) {
					t.Errorf("entry %d: id %q, want %q", i, e.ID, p.id)
				}
				want := []string{p.first + " " + p.last}
				for _, a := range p.aliases {
					want = append(want, a[0]+" "+a[1])
				}
				if !reflect.DeepEqual(lowerAll(e.Names), lowerAll(want)) {
					t.Errorf("entry %s: names %q, want %q", p.id, e.Names, want)
				}
				if len(e.BirthDates) != len(p.dates) || (len(p.dates) > 0 && !reflect.DeepEqual(e.BirthDates, p.dates)) {
					t.Errorf("entry %s: dates %v, want %v", p.id, e.BirthDates, p.dates)
				}
				if !reflect.DeepEqual(e.Countries, dedupe(p.countries)) {
					t.Errorf("entry %s: countries %v, want %v", p.id, e.Countries, dedupe(p.countries))
				}
			}
		})
	}
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		dup := false
		for _, y := range out {
			dup = dup || x == y
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

// TestParseShapes reads the variants the published files use that the
// generator does not write.
func TestParseShapes(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		data string
		want Entry
	}{
		{"OFAC date range, circa, month and year, citizenship", FormatOFAC, `<sdnList><sdnEntry><uid>7</uid><lastName>ONE</lastName><sdnType>Individual</sdnType>
<citizenshipList><citizenship><uid>2</uid><country>Iran</country></citizenship></citizenshipList>
<dateOfBirthList><dateOfBirthItem><dateOfBirth>1968 to 1970</dateOfBirth></dateOfBirthItem><dateOfBirthItem><dateOfBirth>circa 1955</dateOfBirth></dateOfBirthItem><dateOfBirthItem><dateOfBirth>Feb 1960</dateOfBirth></dateOfBirthItem><dateOfBirthItem><dateOfBirth>unknown</dateOfBirth></dateOfBirthItem></dateOfBirthList></sdnEntry></sdnList>`,
			Entry{ID: "7", Names: []string{"ONE"}, BirthDates: []Date{{Year: 1968}, {Year: 1969}, {Year: 1970}, {Year: 1955}, {Year: 1960, Month: 2}}, Countries: []string{"IR"}}},
		{"EU parts of a name, birth date by parts", FormatEU, `<export xmlns="http://eu.europa.ec/fpi/fsd/export"><sanctionEntity logicalId="5"><subjectType code="person"/>
<nameAlias firstName="Ivan" middleName="Ivanovich" lastName="Ivanov" wholeName=""/><nameAlias wholeName="Иван Иванович Иванов"/>
<birthdate year="1971" monthOfYear="4" dayOfMonth="0"/><citizenship countryIso2Code="00"/><citizenship countryIso2Code="BY"/></sanctionEntity></export>`,
			Entry{ID: "5", Names: []string{"Ivan Ivanovich Ivanov", "Иван Иванович Иванов"}, BirthDates: []Date{{Year: 1971, Month: 4}}, Countries: []string{"BY"}}},
		{"UN four names, original script, range of years, formal country name", FormatUN, `<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>6</DATAID><FIRST_NAME>ABDUL</FIRST_NAME><SECOND_NAME>RAHMAN</SECOND_NAME><THIRD_NAME>AL</THIRD_NAME><FOURTH_NAME>HASHIMI</FOURTH_NAME>
<NAME_ORIGINAL_SCRIPT>عبد الرحمن الهاشمي</NAME_ORIGINAL_SCRIPT><NATIONALITY><VALUE>Syrian Arab Republic</VALUE><VALUE>Iran (Islamic Republic of)</VALUE></NATIONALITY>
<INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Abu Karim</ALIAS_NAME></INDIVIDUAL_ALIAS>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1961</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>`,
			Entry{ID: "6", Names: []string{"ABDUL RAHMAN AL HASHIMI", "عبد الرحمن الهاشمي", "Abu Karim"}, BirthDates: []Date{{Year: 1960}, {Year: 1961}}, Countries: []string{"SY", "IR"}}},
		{"OpenSanctions columns in another order, a BOM, extra columns", FormatOpenSanctions, "\ufeffname,id,schema,countries,aliases,birth_date,topics\nOleg Sidorov,x1,Person,ru;suhh,Oleg Sidoroff,1965;1966-02,sanction\n",
			Entry{ID: "x1", Names: []string{"Oleg Sidorov", "Oleg Sidoroff"}, BirthDates: []Date{{Year: 1965}, {Year: 1966, Month: 2}}, Countries: []string{"RU"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseAll(t, c.f, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestParseErrors: a file that is not in its format names the file and
// the line.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		data string
		line int
	}{
		{"empty XML", FormatOFAC, "", 0},
		{"not XML", FormatEU, "id,name\n1,x\n", 0},
		{"truncated", FormatUN, "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL>\n<DATAID>1</DATAID>\n", 5},
		{"mismatched tags", FormatOFAC, "<sdnList>\n<sdnEntry>\n<uid>1</lastName>\n</sdnEntry></sdnList>", 3},
		{"huge value", FormatOFAC, "<sdnList><sdnEntry><uid>" + strings.Repeat("9", MaxFieldBytes+1) + "</uid></sdnEntry></sdnList>", 1},
		{"2 MiB without markup", FormatUN, "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><COMMENTS1>" + strings.Repeat("9", 2<<20), 1},
		{"2 MiB attribute", FormatEU, "<export><sanctionEntity logicalId=\"" + strings.Repeat("9", 2<<20) + "\">", 1},
		{"2 MiB line", FormatOpenSanctions, "id,schema,name,aliases,birth_date,countries\n1,Person," + strings.Repeat("9", 2<<20) + ",,,\n", 2},
		{"empty CSV", FormatOpenSanctions, "", 1},
		{"CSV without the columns", FormatOpenSanctions, "id,name\n1,x\n", 1},
		{"CSV row of the wrong width", FormatOpenSanctions, "id,schema,name,aliases,birth_date,countries\n1,Person,x,,,\n2,Person\n", 3},
		{"CSV bad quote", FormatOpenSanctions, "id,schema,name,aliases,birth_date,countries\n1,Person,\"x\"y,,,\n", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseAll(t, c.f, c.data)
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v, want a ParseError wrapping ErrFormat", err)
			}
			if pe.Line != c.line || pe.File != "list."+string(c.f) {
				t.Errorf("error at %s:%d, want line %d: %v", pe.File, pe.Line, c.line, err)
			}
			if strings.Contains(err.Error(), "999999") {
				t.Errorf("the error quotes the file: %.200s", err)
			}
		})
	}
}

// TestParseStopsOnEmitError: emit's error stops the parse and comes back
// with the line of the entry.
func TestParseStopsOnEmitError(t *testing.T) {
	stop := errors.New("stop")
	var buf bytes.Buffer
	writeUN(&buf, synthPeople(2, 3))
	n := 0
	err := Parse(context.Background(), FormatUN, "un.xml", &buf, func(Entry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d entries", err, n)
	}
}

func TestParseDate(t *testing.T) {
	cases := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"1970-01-12", Date{1970, 1, 12}, true},
		{"1970-01", Date{1970, 1, 0}, true},
		{"1970", Date{1970, 0, 0}, true},
		{"12.01.1970", Date{1970, 1, 12}, true},
		{"12 Jan 1970", Date{1970, 1, 12}, true},
		{"Jan 1970", Date{1970, 1, 0}, true},
		{"circa 1970", Date{1970, 0, 0}, true},
		{"31.02.1970", Date{}, false},
		{"1970-13-01", Date{}, false},
		{"70", Date{}, false},
		{"12 Foo 1970", Date{}, false},
		{"", Date{}, false},
		{"1-2-3-4", Date{}, false},
	}
	for _, c := range cases {
		got, err := ParseDate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDate(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadDate) {
			t.Errorf("ParseDate(%q): %v does not wrap ErrBadDate", c.in, err)
		}
	}
}

func TestDateCompatible(t *testing.T) {
	day := Date{1970, 1, 12}
	cases := []struct {
		a, b        Date
		compat, eql bool
	}{
		{day, day, true, true},
		{day, Date{Year: 1970}, true, false},
		{day, Date{1970, 1, 0}, true, false},
		{day, Date{1970, 2, 0}, false, false},
		{day, Date{Year: 1971}, false, false},
		{day, Date{1970, 1, 13}, false, false},
		{day, Date{}, true, false},
	}
	for _, c := range cases {
		if c.a.Compatible(c.b) != c.compat || c.b.Compatible(c.a) != c.compat || c.a.Exact(c.b) != c.eql {
			t.Errorf("%v vs %v: compatible %v, exact %v", c.a, c.b, c.a.Compatible(c.b), c.a.Exact(c.b))
		}
	}
}

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{
		"RU": "RU", "ru": "RU", "Russia": "RU", "Russian Federation": "RU", "RUSSIA": "RU",
		"Korea, North": "KP", "Democratic People's Republic of Korea": "KP", "Iran (Islamic Republic of)": "IR",
		"Côte d'Ivoire": "CI", "Germany": "DE", "United Kingdom": "GB", "Atlantis": "", "UK": "", "": "",
	} {
		if got := CountryCode(in); got != want {
			t.Errorf("CountryCode(%q) = %q, want %q", in, got, want)
		}
	}
}
