package adapterkit

import (
	"os"
	"strings"
	"testing"
)

// SameAsReadme fails the test unless the Go code block of the README
// section headed heading (after its first line, a comment on the
// imports) is the body of the function fn of the Go file example, line
// for line (indentation aside): the README shows compiled code.
func SameAsReadme(t *testing.T, readme, heading, example, fn string) {
	t.Helper()
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("%s has no section %q", readme, heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatalf("the section %q of %s has no Go code block", heading, readme)
	}
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "\nfunc "+fn+"(")
	if !ok {
		t.Fatalf("%s has no func %s", example, fn)
	}
	body, _, _ = strings.Cut(body, "\n}\n")
	_, body, _ = strings.Cut(body, "\n") // the signature's line
	want, got := codeLines(body), codeLines(block)
	if len(got) > 0 && strings.HasPrefix(got[0], "//") {
		got = got[1:]
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the README's %q code is not %s's %s:\nREADME:\n%s\n%s:\n%s", heading, example, fn,
			strings.Join(got, "\n"), fn, strings.Join(want, "\n"))
	}
	if len(got) >= 15 {
		t.Logf("the README's %q code is %d lines", heading, len(got))
	}
}

// codeLines returns the lines of s without their indentation, blank
// lines left out.
func codeLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
