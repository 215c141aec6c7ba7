package config

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/verify"
)

// TestReviewSettings: the review triggers decode (review_sample is a
// number), inherit into levels, need admins and a private ops server, and
// the summary says them.
func TestReviewSettings(t *testing.T) {
	const base = `telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
`
	cfg, err := Parse([]byte(base+`admins: [42]
default_level: basic
levels:
  basic: {scope: [personal_details]}
  full: {scope: [personal_details, passport], rules: {review: always, duplicates: off}}
rules: {review_sample: 0.05, duplicates: review}
web: {public_url: "https://kyc.acme.example", ops_url: "http://10.0.0.5:9090/"}
`), "config.yaml", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	basic, full := cfg.Levels["basic"].Policy, cfg.Levels["full"].Policy
	if basic.ReviewSample != 0.05 || basic.Duplicates != verify.DuplicatesReview || basic.Review != "" {
		t.Errorf("basic: %+v", basic)
	}
	if full.Review != verify.ReviewAlways || full.Duplicates != verify.DuplicatesOff || full.ReviewSample != 0.05 {
		t.Errorf("full: %+v", full)
	}
	if !cfg.NeedsReview() || cfg.Web.OpsBaseURL() != "http://10.0.0.5:9090" {
		t.Errorf("NeedsReview %t, OpsBaseURL %q", cfg.NeedsReview(), cfg.Web.OpsBaseURL())
	}
	for _, want := range []string{"5% of the cases go to manual review at random.", "goes to manual review."} {
		if got := DescribePolicy(basic, cfg.Levels["basic"].Scope); !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if got := DescribePolicy(full, cfg.Levels["full"].Scope); !strings.Contains(got, "Every case goes to manual review.") || !strings.Contains(got, "not checked") {
		t.Errorf("summary %q", got)
	}

	// Without admins, or with the ops endpoints public, review cannot be.
	_, probs := parseProblems(t, base+level+`rules: {review_sample: 1.5, review: sometimes}
web: {public_url: "https://kyc.acme.example", ops_listen: public, ops_url: "ftp://x"}
`, noEnv)
	var paths []string
	for _, p := range probs {
		paths = append(paths, p.Path)
	}
	for _, want := range []string{"rules.review_sample", "rules.review", "web.ops_url"} {
		if !strings.Contains(strings.Join(paths, " "), want) {
			t.Errorf("problems %v lack %s", paths, want)
		}
	}
	_, probs = parseProblems(t, base+level+`rules: {review: always}
web: {public_url: "https://kyc.acme.example", ops_listen: public}
`, noEnv)
	got := ""
	for _, p := range probs {
		got += p.Path + ": " + p.Message + "\n"
	}
	if !strings.Contains(got, "admins: is empty, but submissions can go to manual review") || !strings.Contains(got, "web.ops_listen") {
		t.Errorf("problems:\n%s", got)
	}
	// The default ops URL is the ops listener's.
	if u := (Web{OpsListen: ":9090"}).OpsBaseURL(); u != "http://127.0.0.1:9090" {
		t.Errorf("OpsBaseURL of :9090 = %q", u)
	}
}
