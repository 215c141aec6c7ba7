package i18n

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden renders, for one language, every problem case, the plural
// messages for a few counts and every other message with sample data.
func golden(c *Catalog, lang string) string {
	l := c.Language(lang)
	var b strings.Builder
	fmt.Fprintf(&b, "# kycbot i18n golden file for %q (dir %s).\n", lang, l.Dir())
	b.WriteString("# Rewrite with: go test ./i18n -run TestGolden -update\n")
	b.WriteString("\n## Problems: code element target params\n")
	for _, pc := range problemCases() {
		keys := make([]string, 0, len(pc.params))
		for k := range pc.params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		params := make([]string, len(keys))
		for i, k := range keys {
			params[i] = k + "=" + pc.params[k]
		}
		fmt.Fprintf(&b, "\n[%s %s %s %s]\n%s\n", pc.code, pc.element, pc.target, strings.Join(params, ","),
			l.Problem(string(pc.code), string(pc.element), pc.target.String(), pc.params))
	}
	b.WriteString("\n## Plural messages\n")
	for _, s := range specs() {
		if s.plural != "Count" {
			continue
		}
		for _, n := range []int{1, 2, 5, 21, 100} {
			fmt.Fprintf(&b, "\n[%s %d]\n%s\n", s.id, n, l.Plural(s.id, n, sampleData(s)))
		}
	}
	b.WriteString("\n## Dates and times (UTC)\n")
	for _, t := range goldenTimes {
		fmt.Fprintf(&b, "\n[%s]\n%s\n%s\n", t.Format(time.RFC3339), l.Date(t), l.DateTime(t))
	}
	b.WriteString("\n## Other messages\n")
	for _, s := range specs() {
		if s.plural != "" || strings.HasPrefix(s.id, "problem.") {
			continue
		}
		d := sampleData(s)
		for k, v := range map[string]string{
			"Since": l.Date(goldenTimes[0]), "Day": l.Day("2026-02-01"),
			"Updated": l.DateTime(goldenTimes[0]), "Created": l.DateTime(goldenTimes[1]),
			"Date": l.Date(goldenTimes[0]), "Time": l.digits(l.cal.FmtTimeShort(goldenTimes[0])),
		} {
			if _, ok := d[k]; ok {
				d[k] = v
			}
		}
		if s.id == MsgStartExplain {
			d["Documents"] = "• " + l.Capitalize(l.Element("personal_details")) +
				"\n• " + l.Capitalize(l.OrList(l.Element("passport"), l.Element("identity_card")))
		}
		if s.id == MsgListOr {
			d["Items"] = l.Element("passport") + l.Text(MsgListSeparator, nil) + l.Element("driver_license")
			d["Last"] = l.Element("identity_card")
		}
		if s.id == MsgResultRejected {
			d["Reason"] = l.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "18", "age": "16"})
		}
		text := l.Text(s.id, d)
		if strings.TrimSpace(text) != text {
			text = strconv.Quote(text) // keep edge spaces visible
		}
		fmt.Fprintf(&b, "\n[%s]\n%s\n", s.id, text)
	}
	return b.String()
}

// goldenTimes are the times the golden files write as dates and times.
var goldenTimes = []time.Time{
	time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
	time.Date(2026, 1, 15, 21, 30, 0, 0, time.UTC),
	time.Date(2031, 12, 31, 23, 59, 0, 0, time.UTC),
}

// unprotectedCommand returns the first /command or @username of a
// right-to-left line that is not protected: in right-to-left text the
// slash (or at sign) takes the direction of the text around it unless a
// left-to-right mark (U+200E) comes before it with nothing but spaces and
// brackets between, and shows up on the right of the word ("verify/").
func unprotectedCommand(line string) (string, bool) {
	runes := []rune(line)
	for i, r := range runes {
		if r != '/' && r != '@' || i+1 == len(runes) || !isASCIIWord(runes[i+1]) || i > 0 && (isASCIIWord(runes[i-1]) || runes[i-1] == '/') {
			continue
		}
		end := i + 1
		for end < len(runes) && isASCIIWord(runes[end]) {
			end++
		}
		protected := false
		for j := i - 1; j >= 0; j-- {
			if runes[j] == '\u200E' {
				protected = true
				break
			}
			if runes[j] != ' ' && runes[j] != '(' {
				break
			}
		}
		if !protected {
			return string(runes[i:end]), true
		}
	}
	return "", false
}

func isASCIIWord(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// firstStrongIsLatin reports whether the first letter of line, before any
// right-to-left mark, is a Latin one: Telegram would then lay the line out
// left to right.
func firstStrongIsLatin(line string) bool {
	for _, r := range line {
		switch {
		case r == '\u200F':
			return false
		case unicode.IsLetter(r):
			return unicode.Is(unicode.Latin, r)
		}
	}
	return false
}

func TestGolden(t *testing.T) {
	c, log := newTestCatalog(t)
	for _, lang := range c.Languages() {
		t.Run(lang, func(t *testing.T) {
			got := golden(c, lang)
			for i, line := range strings.Split(got, "\n") {
				if strings.Contains(strings.ReplaceAll(line, "...", ""), "..") {
					t.Errorf("line %d has a doubled full stop (a date ending a sentence?): %q", i+1, line)
				}
			}
			if c.Language(lang).Dir() == "rtl" {
				for i, line := range strings.Split(got, "\n") {
					if !strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "#") {
						if cmd, ok := unprotectedCommand(line); ok {
							t.Errorf("line %d: %q would show its slash or at sign on the wrong side in right-to-left text (put U+200E and a space before it): %q", i+1, cmd, line)
						}
					}
					if !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "[") && firstStrongIsLatin(line) {
						t.Errorf("line %d starts left to right: %q", i+1, line)
					}
				}
			}
			path := filepath.Join("testdata", "golden", lang+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run with -update if the change is intended)", path, i+1, g, w)
					}
				}
			}
		})
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("rendering reported %v", errs)
	}
}

func TestUnprotectedCommand(t *testing.T) {
	for _, tt := range []struct {
		line string
		cmd  string
	}{
		{"برای شروع، /verify را بزنید", "/verify"},
		{"\u200F/start – آشنایی", "/start"},
		{"در @BotFather بررسی کنید", "@BotFather"},
		{"کلید (/setpublickey) را", "/setpublickey"},
		{"برای شروع،\u200E /verify را بزنید", ""},
		{"\u200F\u200E /start – آشنایی", ""},
		{"کلید \u200E(/setpublickey)\u200E را", ""},
		{"https://example.com/path و a/b", ""},
	} {
		cmd, bad := unprotectedCommand(tt.line)
		if bad != (tt.cmd != "") || cmd != tt.cmd {
			t.Errorf("unprotectedCommand(%q) = %q, %v; want %q", tt.line, cmd, bad, tt.cmd)
		}
	}
}

// TestOneTermEach: each language names a thing one way in every text; the
// variants below were once mixed in.
func TestOneTermEach(t *testing.T) {
	c, _ := newTestCatalog(t)
	for _, tt := range []struct {
		lang, avoid, use string
	}{
		{"es", "selfi ", "selfie"},
		{"es", "solo este bot puede", "pueda (subjunctive after de modo que)"},
		{"pt-BR", "só este bot consegue", "consiga (subjunctive after de forma que)"},
		{"ar", "تيليجرام", "Telegram, as in Telegram Passport"},
		{"ar", "مستند", "وثيقة / وثائق"},
		{"fa", "تلگرام", "Telegram, as in Telegram Passport"},
		{"fa", "رمزگذاری", "رمزنگاری"},
		{"fa", "احراز هویت", "تأیید هویت"},
	} {
		text := golden(c, tt.lang)
		if i := strings.Index(text, tt.avoid); i >= 0 {
			line := strings.Count(text[:i], "\n") + 1
			t.Errorf("%s: line %d of the golden text says %q: use %s", tt.lang, line, tt.avoid, tt.use)
		}
	}
}
