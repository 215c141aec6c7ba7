package config

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// TestCheckNumbers: rules.documents.check_numbers is on unless set false,
// a level can turn it off alone, and the summary says when it is off.
func TestCheckNumbers(t *testing.T) {
	src := `default_level: a
levels:
  a:
    scope: [pp]
  b:
    scope: [pp]
    rules:
      documents:
        check_numbers: false
`
	cfg, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Levels["a"].Policy, cfg.Levels["b"].Policy
	if !cfg.Rules.Documents.ChecksNumbers() || !a.Documents.ChecksNumbers() {
		t.Errorf("check_numbers is off without being set")
	}
	if b.Documents.ChecksNumbers() {
		t.Errorf("level b set check_numbers: false and still checks")
	}
	scope := passport.NewScope(passport.Require(passport.TypePassport))
	const off = "Document numbers are not checked"
	if got := DescribePolicy(a, scope); strings.Contains(got, off) {
		t.Errorf("level a summary %q says numbers are not checked", got)
	}
	if got := DescribePolicy(b, scope); !strings.Contains(got, off) {
		t.Errorf("level b summary %q does not say numbers are not checked", got)
	}
	if got := DescribePolicy(verify.DefaultPolicy(), passport.NewScope(passport.Require(passport.TypePersonalDetails))); strings.Contains(got, off) {
		t.Errorf("summary without documents mentions numbers: %q", got)
	}
}
