package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigScreening: check-config parses each screening list and
// names the line of a file that does not parse.
func TestCheckConfigScreening(t *testing.T) {
	clearSecretEnv(t)
	p := writeConfig(t, `levels:
  only: {scope: [pd]}
delivery:
  none: true
admins: [1]
screening:
  lists:
    - name: opensanctions
      format: opensanctions_csv
      file: targets.simple.csv
`)
	list := filepath.Join(filepath.Dir(p), "targets.simple.csv")
	good := "id,schema,name,aliases,birth_date,countries\nNK-1,Person,Ivan Petrov,,1970,ru\n"
	if err := os.WriteFile(list, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check-config", "--config", p)
	if want := "Screening: every user with personal details against opensanctions (opensanctions_csv); a hit from score 0.9 sends the case to manual review"; r.code != exitOK || !strings.Contains(r.stdout, want) {
		t.Errorf("exit status %d, summary lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if err := os.WriteFile(list, []byte(good+"NK-2,Person\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "check-config", "--config", p)
	want := p + ":10:13: screening.lists[0].file: screening: list opensanctions: " + list + ":3: not in the list's format: wrong number of fields"
	if r.code != exitFailure || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit status %d, stderr %q, want it to start with %q", r.code, r.stderr, want)
	}
	if strings.Contains(r.stderr, "Petrov") {
		t.Errorf("stderr quotes the list: %s", r.stderr)
	}
}
