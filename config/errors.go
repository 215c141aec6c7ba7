package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	// Path is the YAML path of the setting, such as
	// "levels.full.scope[1].one_of[0]"; empty for problems of the file as a
	// whole (YAML syntax).
	Path string
	// Line and Column locate the offending node (1-based). For a setting
	// absent from the file they locate its nearest parent that is present.
	// Zero when unknown.
	Line, Column int
	// Message says what is wrong and what to write instead. It never holds
	// the value of a secret.
	Message string
}

// Format renders the problem as "file:line:col: path: message", leaving out
// the parts that are unknown.
func (p Problem) Format(file string) string {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		b.WriteString(":")
	}
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(":")
		if p.Column > 0 {
			b.WriteString(strconv.Itoa(p.Column))
			b.WriteString(":")
		}
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// String is Format without a file name.
func (p Problem) String() string { return p.Format("") }

// Error is returned by Load and Parse when the config has problems. It
// holds every problem found, in file order.
type Error struct {
	// File is the file name used in messages.
	File string
	// Problems are sorted by position, then path.
	Problems []Problem
}

// Error returns one problem per line, each "file:line:col: path: message".
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Format(e.File)
	}
	if len(lines) == 0 {
		return fmt.Sprintf("%s: invalid config", e.File)
	}
	return strings.Join(lines, "\n")
}
