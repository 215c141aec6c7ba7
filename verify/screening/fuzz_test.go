package screening

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// fuzzParse parses data in format f and checks what must hold for any
// input: no panic, an error or entries, and every entry within the
// limits.
func fuzzParse(t *testing.T, f Format, data []byte) {
	err := Parse(context.Background(), f, "fuzz", bytes.NewReader(data), func(e Entry) error {
		if len(e.Names) == 0 || len(e.Names) > MaxNamesPerEntry || len(e.BirthDates) > MaxDatesPerEntry {
			t.Fatalf("entry out of bounds: %d names, %d dates", len(e.Names), len(e.BirthDates))
		}
		for _, d := range e.BirthDates {
			if _, err := ParseDate(d.String()); err != nil {
				t.Fatalf("entry with a bad date %v", d)
			}
		}
		NewIndex([]Entry{e}).Match(Subject{Names: e.Names[:min(2, len(e.Names))], BirthDate: Date{1970, 1, 1}}, Params{})
		return nil
	})
	if err != nil && !strings.HasPrefix(err.Error(), "fuzz") {
		t.Fatalf("error without the file name: %v", err)
	}
}

func seeds(f *testing.F, format Format) {
	var buf bytes.Buffer
	writers[format](&buf, append(synthPeople(3, 3), planted...))
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add([]byte("<a><b>"))
}

func FuzzParseOFAC(f *testing.F) {
	seeds(f, FormatOFAC)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, FormatOFAC, data) })
}

func FuzzParseEU(f *testing.F) {
	seeds(f, FormatEU)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, FormatEU, data) })
}

func FuzzParseUN(f *testing.F) {
	seeds(f, FormatUN)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, FormatUN, data) })
}

func FuzzParseOpenSanctions(f *testing.F) {
	seeds(f, FormatOpenSanctions)
	f.Add([]byte("id,schema,name,aliases,birth_date,countries\n1,Person,x;y,,1970;1970-02-30,ru\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, FormatOpenSanctions, data) })
}

// FuzzMatch: names in any script never make the matcher panic, and a
// name always matches itself.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"Дмитрий Щербаков", "محمد حداد", "Γιώργος", "José Ñúñez", "a", "\xff\xfe", "x x x x x x x x x x x x x x x x x x x"} {
		f.Add(s, s+" b")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ix := NewIndex([]Entry{{List: "l", ID: "1", Names: []string{a}}})
		Tokens(b)
		ix.Match(Subject{Names: []string{b}}, Params{})
		if len(Tokens(a)) > 0 {
			if hits := ix.Match(Subject{Names: []string{a}}, Params{}); len(hits) != 1 {
				t.Fatalf("%q does not match itself: %v", a, hits)
			}
		}
	})
}
