package screening

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// planted are the people the acceptance tests look for, put among the
// synthetic ones in every list.
var planted = []person{
	{id: "900001", first: "Dmitriy", last: "Shcherbakov", aliases: [][2]string{{"Dima", "Shcherbakoff"}},
		dates: []Date{{1975, 3, 14}}, countries: []string{"RU"}},
	{id: "900002", first: "Yuriy", last: "Kovalenko", dates: []Date{{Year: 1968}}, countries: []string{"UA"}},
	{id: "900003", first: "Vasilii", last: "Orlov", aliases: [][2]string{{"Viktor", "Lebedev"}}, dates: []Date{{1961, 11, 2}}},
	{id: "900004", first: "Mohammed", last: "Haddad", dates: []Date{{1980, 1, 5}}, countries: []string{"SY"}},
}

// writeList writes n synthetic people and the planted ones in format f
// to a file in dir.
func writeList(t testing.TB, dir string, f Format, n int) List {
	t.Helper()
	people := synthPeople(uint64(len(f)), n)
	for i, p := range planted {
		at := (i + 1) * n / (len(planted) + 1)
		people = append(people[:at], append([]person{p}, people[at:]...)...)
	}
	file := filepath.Join(dir, string(f))
	fh, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	writers[f](w, people)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return List{Name: strings.TrimSuffix(string(f), "_xml"), Format: f, File: file}
}

func date(y, m, d int) Date { return Date{Year: y, Month: m, Day: d} }

// TestScreeningAcceptance loads 50,000 synthetic people plus the planted
// ones in each of the four formats and screens the cases issue 17 names.
func TestScreeningAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("loads four lists of 50,000 entries")
	}
	dir := t.TempDir()
	var lists []List
	for _, f := range Formats() {
		lists = append(lists, writeList(t, dir, f, 50000))
	}
	s, err := New(context.Background(), lists)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range s.Lists() {
		if n != 50000+len(planted) {
			t.Errorf("list %s holds %d people, want %d", name, n, 50000+len(planted))
		}
	}
	cases := []struct {
		name      string
		subj      Subject
		wantEntry string // the planted id; "" for no hit
		wantAlias bool
	}{
		{"Cyrillic native name, same birth date", Subject{Names: []string{"Дмитрий Щербаков"}, BirthDate: date(1975, 3, 14), Countries: []string{"RU"}}, "900001", false},
		{"ICAO Latin spelling, same birth date", Subject{Names: []string{"Dmitrii Shcherbakov"}, BirthDate: date(1975, 3, 14)}, "900001", false},
		{"same name, another birth date", Subject{Names: []string{"Dmitrii Shcherbakov", "Дмитрий Щербаков"}, BirthDate: date(1975, 3, 15), Countries: []string{"RU"}}, "", false},
		{"same name, birth date unknown", Subject{Names: []string{"Dmitriy Shcherbakov"}}, "900001", false},
		{"year-only entry, a day in that year", Subject{Names: []string{"Iurii Kovalenko"}, BirthDate: date(1968, 7, 2)}, "900002", false},
		{"year-only entry, another year", Subject{Names: []string{"Iurii Kovalenko"}, BirthDate: date(1969, 7, 2)}, "", false},
		{"alias, in Cyrillic", Subject{Names: []string{"Виктор Лебедев"}, BirthDate: date(1961, 11, 2)}, "900003", true},
		{"Arabic script and another Latin spelling", Subject{Names: []string{"Muhammad Haddad", "محمد حداد"}, BirthDate: date(1980, 1, 5), Countries: []string{"SY"}}, "900004", false},
		{"first name only", Subject{Names: []string{"Dmitriy"}, BirthDate: date(1975, 3, 14)}, "", false},
		{"someone else", Subject{Names: []string{"Maria Gonzalez"}, BirthDate: date(1975, 3, 14)}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hits := s.Check(context.Background(), c.subj)
			if c.wantEntry == "" {
				if len(hits) != 0 {
					t.Errorf("unexpected hits %v", explainAll(hits))
				}
				return
			}
			lists := map[string]bool{}
			for _, h := range hits {
				if strings.HasSuffix(h.EntryID, c.wantEntry) {
					lists[h.List] = true
					if h.Alias != c.wantAlias {
						t.Errorf("%s: alias %v, want %v", h.Explain(), h.Alias, c.wantAlias)
					}
					if h.BirthDate == Different {
						t.Errorf("%s: a hit with a different birth date", h.Explain())
					}
				}
			}
			if len(lists) != len(Formats()) {
				t.Errorf("hit in lists %v, want all four; hits: %v", lists, explainAll(hits))
			}
		})
	}
}

func explainAll(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Explain())
	}
	return out
}

// TestBirthDateModifier: with birth_date: modifier a different date lowers
// the score instead of excluding the entry.
func TestBirthDateModifier(t *testing.T) {
	ix := NewIndex([]Entry{{List: "l", ID: "1", Names: []string{"Dmitriy Shcherbakov"}, BirthDates: []Date{date(1975, 3, 14)}}})
	subj := Subject{Names: []string{"Dmitriy Shcherbakov"}, BirthDate: date(1975, 3, 15)}
	if hits := ix.Match(subj, Params{BirthDate: BirthDateRequiredMatch}); len(hits) != 0 {
		t.Errorf("required_match: %v", explainAll(hits))
	}
	hits := ix.Match(subj, Params{BirthDate: BirthDateModifier, Threshold: 0.8})
	if len(hits) != 1 || hits[0].BirthDate != Different || hits[0].Score != 1-BirthDatePenalty {
		t.Errorf("modifier: %v", explainAll(hits))
	}
	if hits := ix.Match(subj, Params{BirthDate: BirthDateModifier, Threshold: 0.9}); len(hits) != 0 {
		t.Errorf("modifier at 0.9: %v", explainAll(hits))
	}
}

// TestHitLogValue: a hit logs no name.
func TestHitLogValue(t *testing.T) {
	h := Hit{List: "ofac", EntryID: "42", EntryName: "Dmitriy Shcherbakov", Score: 0.97}
	if s := h.LogValue().String(); strings.Contains(s, "Shcherbakov") || !strings.Contains(s, "42") {
		t.Errorf("LogValue = %s", s)
	}
	if s := h.Explain(); !strings.Contains(s, "Shcherbakov") || !strings.Contains(s, "ofac entry 42") {
		t.Errorf("Explain = %s", s)
	}
}

// TestReload: a changed file is read again by Refresh; a broken one keeps
// the previous version and says where it is wrong.
func TestReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "os.csv")
	header := "id,schema,name,aliases,birth_date,countries\n"
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(header + "a,Person,Ivan Petrov,,1970-01-01,ru\n")
	var logs bytes.Buffer
	s, err := New(ctx, []List{{Name: "os", Format: FormatOpenSanctions, File: file}}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	petrov := Subject{Names: []string{"Ivan Petrov"}}
	sidorov := Subject{Names: []string{"Oleg Sidorov"}}
	if len(s.Check(ctx, petrov)) != 1 || len(s.Check(ctx, sidorov)) != 0 {
		t.Fatal("first version not in force")
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	write(header + "a,Person,Ivan Petrov,,1970-01-01,ru\nb,Person,Oleg Sidorov,,,\n")
	// The size differs, so Refresh reads it whatever the clock's grain.
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.Check(ctx, sidorov)) != 1 {
		t.Fatal("Refresh did not read the changed file")
	}
	write(header + "a,Person,Ivan Petrov\n")
	err = s.Refresh(ctx)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || pe.File != file || !errors.Is(err, ErrFormat) {
		t.Fatalf("Refresh of a broken file: %v", err)
	}
	if len(s.Check(ctx, sidorov)) != 1 {
		t.Fatal("the previous version was dropped")
	}
	if l := logs.String(); !strings.Contains(l, `msg="screening: list not reloaded, the previous version stays" list=os`) || !strings.Contains(l, "os.csv:2") ||
		strings.Contains(l, "Petrov") || strings.Contains(l, "Sidorov") {
		t.Errorf("logs: %s", l)
	}
	write(header + "b,Person,Oleg Sidorov,,,\n")
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.Check(ctx, petrov)) != 0 || len(s.Check(ctx, sidorov)) != 1 {
		t.Fatal("Reload did not put the new version in force")
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(ctx); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Reload of a missing file: %v", err)
	}
	if len(s.Check(ctx, sidorov)) != 1 {
		t.Fatal("the previous version was dropped")
	}
}

// TestWatch: Watch picks up a changed file by itself.
func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	file := filepath.Join(t.TempDir(), "os.csv")
	header := "id,schema,name,aliases,birth_date,countries\n"
	if err := os.WriteFile(file, []byte(header), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, []List{{Name: "os", Format: FormatOpenSanctions, File: file}}, WithPollInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	go s.Watch(ctx)
	if err := os.WriteFile(file, []byte(header+"b,Person,Oleg Sidorov,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for len(s.Check(ctx, Subject{Names: []string{"Oleg Sidorov"}})) == 0 {
		select {
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatal("Watch never read the changed file")
		}
	}
}

// TestNewErrors: bad settings and a broken list at start are errors.
func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "x.xml")
	if err := os.WriteFile(file, []byte("<sdnList><sdnEntry><uid>1</uid>"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		lists []List
		opts  []Option
		want  error
	}{
		{"threshold", nil, []Option{WithThreshold(1.5)}, ErrBadSettings},
		{"rule", nil, []Option{WithBirthDateRule("sometimes")}, ErrBadSettings},
		{"duplicate name", []List{{Name: "a", Format: FormatOFAC, File: file}, {Name: "a", Format: FormatOFAC, File: file}}, nil, ErrBadSettings},
		{"truncated file", []List{{Name: "a", Format: FormatOFAC, File: file}}, nil, ErrFormat},
		{"missing file", []List{{Name: "a", Format: FormatOFAC, File: file + ".none"}}, nil, os.ErrNotExist},
		{"unknown format", []List{{Name: "a", Format: "pdf", File: file}}, nil, ErrUnknownFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(ctx, c.lists, c.opts...)
			if !errors.Is(err, c.want) {
				t.Errorf("New: %v, want %v", err, c.want)
			}
		})
	}
}

// TestConfigure: a config reload puts new lists and settings in force; a
// list that fails keeps what it had under its name.
func TestConfigure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	header := "id,schema,name,aliases,birth_date,countries\n"
	write := func(name, s string) string {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(header+s), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := write("a.csv", "1,Person,Ivan Petrov,,,\n")
	b := write("b.csv", "2,Person,Oleg Sidorov,,,\n")
	s, err := New(ctx, []List{{Name: "a", Format: FormatOpenSanctions, File: a}, {Name: "b", Format: FormatOpenSanctions, File: b}})
	if err != nil {
		t.Fatal(err)
	}
	petrov := Subject{Names: []string{"Ivan Petrova"}} // 0.98 or so
	if len(s.Check(ctx, petrov)) != 1 {
		t.Fatal("no hit at the default threshold")
	}
	broken := filepath.Join(dir, "broken.csv")
	if err := os.WriteFile(broken, []byte("id,name\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken2 := filepath.Join(dir, "none.csv")
	err = s.Configure(ctx, []List{
		{Name: "a", Format: FormatOpenSanctions, File: broken2},
		{Name: "c", Format: FormatOpenSanctions, File: broken},
	}, WithThreshold(0.999))
	if err == nil {
		t.Fatal("Configure with failing lists: no error")
	}
	if got := s.Lists(); len(got) != 1 || got["a"] != 1 {
		t.Errorf("lists after Configure: %v, want a (kept) only", got)
	}
	if len(s.Check(ctx, petrov)) != 0 || len(s.Check(ctx, Subject{Names: []string{"Ivan Petrov"}})) != 1 {
		t.Error("the new threshold is not in force, or list a was dropped")
	}
	if len(s.Check(ctx, Subject{Names: []string{"Oleg Sidorov"}})) != 0 {
		t.Error("list b is still screened")
	}
	if err := s.Configure(ctx, nil, WithThreshold(2)); !errors.Is(err, ErrBadSettings) {
		t.Errorf("bad settings: %v", err)
	}
}

// TestCheckDuringReload: checks run while lists reload (run with -race).
func TestCheckDuringReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := writeList(t, dir, FormatUN, 2000)
	s, err := New(ctx, []List{l})
	if err != nil {
		t.Fatal(err)
	}
	subj := Subject{Names: []string{"Dmitrii Shcherbakov"}, BirthDate: date(1975, 3, 14)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			if err := s.Reload(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for checks := 0; ; checks++ {
		if hits := s.Check(ctx, subj); len(hits) != 1 {
			t.Fatalf("check %d during reloads: %v", checks, explainAll(hits))
		}
		select {
		case <-done:
			return
		default:
		}
	}
}
