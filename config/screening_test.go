package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const screeningBase = "levels:\n  a:\n    scope: [pp]\n"

// TestScreeningDefaults: without a screening section nothing is screened
// and the settings hold their defaults.
func TestScreeningDefaults(t *testing.T) {
	cfg, err := Parse([]byte(screeningBase), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Screening
	if len(s.Lists) != 0 || s.Threshold != DefaultScreeningThreshold || s.BirthDate != ScreeningBirthDateRequired || s.PollInterval != time.Minute {
		t.Errorf("defaults: %+v", s)
	}
	built, err := New(Config{Levels: cfg.Levels})
	if err != nil {
		t.Fatal(err)
	}
	if built.Screening.Threshold != DefaultScreeningThreshold || built.Screening.BirthDate != ScreeningBirthDateRequired {
		t.Errorf("New defaults: %+v", built.Screening)
	}
}

// TestScreeningLists: the lists are read, relative files resolved against
// the config's folder, and the list check (check-config's parse) runs on
// each.
func TestScreeningLists(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"sdn.xml", "targets.csv"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "config.yaml")
	src := screeningBase + `screening:
  lists:
    - name: ofac
      format: ofac_sdn_xml
      file: sdn.xml
    - name: os
      format: opensanctions_csv
      file: ` + filepath.Join(dir, "targets.csv") + `
  threshold: 0.85
  birth_date: modifier
  poll_interval: 30s
admins: [1]
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var checked []string
	cfg, err := Load(file, WithEnv(noEnv), WithListCheck(func(l ScreeningList) error {
		checked = append(checked, l.Name+" "+l.File)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Screening
	if len(s.Lists) != 2 || s.Lists[0].File != filepath.Join(dir, "sdn.xml") || s.Threshold != 0.85 || s.BirthDate != ScreeningBirthDateModifier || s.PollInterval != 30*time.Second {
		t.Errorf("screening = %+v", s)
	}
	for _, w := range cfg.Warnings() {
		if strings.HasPrefix(w.Path, "screening") {
			t.Errorf("a warning about screening, which is applied: %v", w)
		}
	}
	if len(checked) != 2 || checked[0] != "ofac "+filepath.Join(dir, "sdn.xml") {
		t.Errorf("checked %q", checked)
	}
	if sum := cfg.Summary(); !strings.Contains(sum, "Screening: every user with personal details against ofac (ofac_sdn_xml), os (opensanctions_csv); a hit from score 0.85 sends the case to manual review (it never rejects by itself)") {
		t.Errorf("summary does not describe screening:\n%s", sum)
	}

	// The list check's error is a problem at the list's file.
	_, err = Load(file, WithEnv(noEnv), WithListCheck(func(l ScreeningList) error {
		if l.Name == "os" {
			return errors.New("targets.csv:7: not in the list's format")
		}
		return nil
	}))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load: %v", err)
	}
	checkProblems(t, cerr.Problems, []want{{"screening.lists[1].file", 11, "targets.csv:7: not in the list's format"}})
}

func TestScreeningProblems(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "l.xml")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := screeningBase + `screening:
  lists:
    - name: OFAC
      format: ofac_sdn_xml
      file: ` + file + `
    - name: eu
      format: eu_xm
      file: ` + filepath.Join(dir, "none.xml") + `
    - name: eu
      format: un_xml
    - name: dir
      format: un_xml
      file: ` + dir + `
  threshold: 1.5
  birth_date: sometimes
  poll_interval: 0s
admins: [1]
`
	_, got := parseProblems(t, src, noEnv)
	checkProblems(t, got, []want{
		{"screening.lists[0].name", 6, "must be 1 to 32 lowercase letters"},
		{"screening.lists[1].format", 10, `"eu_xm" (did you mean "eu_xml"?) is not a list format; the formats are ofac_sdn_xml, eu_xml, un_xml and opensanctions_csv`},
		{"screening.lists[1].file", 11, "does not exist"},
		{"screening.lists[2].file", 12, "is missing: the path of the list file"},
		{"screening.lists[2].name", 12, `"eu" names two lists`},
		{"screening.lists[3].file", 16, "is a folder"},
		{"screening.threshold", 17, "is not between 0.5 and 1"},
		{"screening.birth_date", 18, "must be required_match or modifier"},
		{"screening.poll_interval", 19, "out of range: use between 1s and 24h"},
	})
	// A hit goes to manual review: admins decide there.
	_, got = parseProblems(t, screeningBase+"screening:\n  lists:\n    - {name: un, format: un_xml, file: "+file+"}\n", noEnv)
	checkProblems(t, got, []want{{"admins", 1, "submissions can go to manual review"}})
	_, got = parseProblems(t, screeningBase+"screening:\n  threshold: high\n", noEnv)
	checkProblems(t, got, []want{{"screening.threshold", 5, "must be a number such as 0.9"}})
}
