package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLifecycleSettings: badge, revocation, reverification and
// reverify_after, their defaults, what check-config says of them, and the
// problems of bad values.
func TestLifecycleSettings(t *testing.T) {
	const webhook = "delivery:\n  webhook_url: https://backend.example.com/kyc\n  webhook_secret: 0123456789abcdef0123456789abcdef\n"
	good := []struct {
		name, yaml string
		badge      bool
		notify     bool
		days       []int
		reverify   time.Duration
		summary    []string
	}{
		{name: "defaults", yaml: level, notify: true, days: []int{30, 7, 1},
			summary: []string{"Verification badge: off (badge.enabled).", "reminders 30, 7, 1 days before the end", "/kyc_revoke: the user is told."}},
		{name: "all set", yaml: "levels: {basic: {scope: [personal_details], reverify_after: 8760h}}\nbadge: {enabled: true, description: Verified by Acme}\nrevocation: {notify_user: false}\nreverification: {remind_days: [14]}\n",
			badge: true, days: []int{14}, reverify: 8760 * time.Hour,
			summary: []string{`Verification badge: on: verified users get this bot's verification mark with "Verified by Acme"`, "BOT_VERIFIER_FORBIDDEN",
				"or earlier after basic 365d", "reminders 14 days", "the user is not told (revocation.notify_user)"}},
		{name: "no reminders", yaml: level + "reverification: {remind_days: []}\n", notify: true, days: []int{}, summary: []string{"no reminders"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml+webhook), "", WithEnv(noEnv))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Badge.Enabled != tt.badge || cfg.Revocation.NotifyUser != tt.notify || !slices.Equal(cfg.Reverification.RemindDays, tt.days) ||
				cfg.Levels["basic"].ReverifyAfter != tt.reverify {
				t.Errorf("badge %v, notify %v, days %v, reverify %v", cfg.Badge.Enabled, cfg.Revocation.NotifyUser, cfg.Reverification.RemindDays, cfg.Levels["basic"].ReverifyAfter)
			}
			sum := cfg.Summary()
			for _, want := range tt.summary {
				if !strings.Contains(sum, want) {
					t.Errorf("summary lacks %q:\n%s", want, sum)
				}
			}
		})
	}
	bad := []struct {
		name, yaml, path, msg string
	}{
		{"long description", level + "badge: {enabled: true, description: " + strings.Repeat("x", 71) + "}\n", "badge.description", "at most 70"},
		{"two lines", level + "badge: {description: \"a\\nb\"}\n", "badge.description", "one line"},
		{"short period", "levels: {basic: {scope: [personal_details], reverify_after: 1h}}\n", "levels.basic.reverify_after", "shorter than a day"},
		{"zero day", level + "reverification: {remind_days: [0]}\n", "reverification.remind_days[0]", "from 1 to 3650"},
		{"twice", level + "reverification: {remind_days: [7, 7]}\n", "reverification.remind_days[1]", "twice"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := parseProblems(t, tt.yaml+webhook, noEnv)
			found := false
			for _, p := range probs {
				found = found || p.Path == tt.path && strings.Contains(p.Message, tt.msg)
			}
			if !found {
				t.Errorf("problems %v lack %s: %s", probs, tt.path, tt.msg)
			}
		})
	}
}
