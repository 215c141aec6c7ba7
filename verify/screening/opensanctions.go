package screening

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// openSanctionsColumns are the columns of targets.simple.csv the parser
// needs.
var openSanctionsColumns = []string{"id", "schema", "name", "aliases", "birth_date", "countries"}

// parseOpenSanctions reads OpenSanctions' targets.simple.csv.
func parseOpenSanctions(ctx context.Context, in io.Reader, file string, emit func(Entry) error) error {
	guard := newRunGuard(in, '\n')
	r := csv.NewReader(guard)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return &ParseError{File: file, Line: 1, Err: fmt.Errorf("%w: the file is empty (a header row naming the columns is expected)", ErrFormat)}
	}
	if err != nil {
		return csvError(file, guard, err)
	}
	col := make(map[string]int, len(openSanctionsColumns))
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var missing []string
	for _, c := range openSanctionsColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return &ParseError{File: file, Line: 1, Err: fmt.Errorf("%w: the header row lacks the column(s) %s of targets.simple.csv", ErrFormat, strings.Join(missing, ", "))}
	}
	var b builder
	for n := 0; ; n++ {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(file, guard, err)
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, _ := r.FieldPos(0)
		for _, f := range row {
			if len(f) > MaxFieldBytes {
				return &ParseError{File: file, Line: line, Err: fmt.Errorf("%w: a field longer than %d bytes", ErrFormat, MaxFieldBytes)}
			}
		}
		if row[col["schema"]] != "Person" {
			continue
		}
		b.reset()
		b.e.ID = row[col["id"]]
		b.name(row[col["name"]])
		for _, a := range split(row[col["aliases"]]) {
			b.name(a)
		}
		for _, d := range split(row[col["birth_date"]]) {
			b.dates(d)
		}
		for _, c := range split(row[col["countries"]]) {
			b.country(c)
		}
		if err := b.done(); err != nil {
			return &ParseError{File: file, Line: line, Err: err}
		}
		if len(b.e.Names) == 0 {
			continue
		}
		if err := emit(b.e); err != nil {
			return &ParseError{File: file, Line: line, Err: err}
		}
	}
}

// split cuts a multi-valued field at ";".
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// csvError turns a csv.Reader error into a ParseError with its line.
func csvError(file string, guard *runGuard, err error) error {
	if errors.Is(err, ErrFormat) { // from the guard: the line it stopped in
		return &ParseError{File: file, Line: guard.seps + 1, Err: err}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: file, Line: pe.Line, Err: fmt.Errorf("%w: %v", ErrFormat, pe.Err)}
	}
	return &ParseError{File: file, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
}
