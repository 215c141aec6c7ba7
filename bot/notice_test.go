package bot

import (
	"context"
	"regexp"
	"testing"
	"time"
)

// The admins' notice of a verification says where the result went (the
// webhook event, the bot's hook, or nowhere on purpose) and how to look
// the user up.
func TestAdminNoticeSaysWhereResultsWent(t *testing.T) {
	const admin, user = 777, 1001
	webhook := func(yml string) string {
		return yml + "delivery: {webhook_url: \"http://127.0.0.1:1/kyc\", webhook_secret: \"0123456789abcdef0123456789abcdef\"}\n"
	}
	none := func(yml string) string { return yml + "delivery: {none: true}\n" }
	hook := WithOnVerified(func(context.Context, Verified) error { return nil })
	tests := []struct {
		name   string
		change func(string) string
		opts   []Option
		want   string // a regexp
	}{
		{"webhook", webhook, nil, `\nThe result is on its way to your backend's webhook as event evt_[0-9a-f]{32}\.\n`},
		{"hook", nil, []Option{hook}, `\nThe data was handed to your bot's code \(its OnVerified hook\)\.\n`},
		{"nowhere on purpose", none, nil, `\nThe data was neither kept nor sent anywhere: delivery is off \(delivery\.none\)\.\n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t)
			tb := env.newBotConfig(t, "a", parseConfig(t, env.prefix, "777", "", tt.change), tt.opts...)
			tr := newFakeTransport()
			tb.enqueue(t, tb.submission(t, user))
			tb.start(t, tr)
			text := tr.waitMessages(t, admin, 1, 15*time.Second)[0].Text
			want := regexp.MustCompile(`^User 1001 has been verified \(level: basic\)\.` + tt.want + `Status: /kyc_status 1001$`)
			if !want.MatchString(text) {
				t.Errorf("the admin's notice is %q, want it to match %s", text, want)
			}
		})
	}
}
