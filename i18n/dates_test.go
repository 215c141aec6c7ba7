package i18n

import (
	"strings"
	"testing"
	"time"
)

// TestDates: each language writes dates and times from CLDR data, in its
// own digits; the same in every place a date is shown.
func TestDates(t *testing.T) {
	c, log := newTestCatalog(t)
	at := time.Date(2026, 12, 5, 6, 52, 0, 0, time.FixedZone("UTC-3", -3*3600)) // 09:52 UTC
	tests := []struct{ lang, date, dateTime string }{
		{"en", "5 Dec 2026", "5 Dec 2026 at 09:52 UTC"},
		{"de", "05.12.2026", "05.12.2026 um 09:52 UTC"},
		{"ru", "5 дек. 2026 г.", "5 дек. 2026 г. в 09:52 UTC"},
		{"uk", "5 груд. 2026 р.", "5 груд. 2026 р., 09:52 UTC"},
		{"es", "5 dic. 2026", "5 dic. 2026, 9:52 UTC"},
		{"pt-BR", "5 de dez. de 2026", "5 de dez. de 2026, 09:52 UTC"},
		{"fr", "5 déc. 2026", "5 déc. 2026 à 09:52 UTC"},
		{"tr", "5 Ara 2026", "5 Ara 2026 09:52 UTC"},
		{"fa", "۵ دسامبر ۲۰۲۶", "۵ دسامبر ۲۰۲۶، ساعت ۹:۵۲ UTC"},
		{"ar", "٠٥\u200f/١٢\u200f/٢٠٢٦", "٠٥\u200f/١٢\u200f/٢٠٢٦، الساعة ٩:٥٢ ص UTC"},
	}
	if len(tests) != len(c.Languages()) {
		t.Fatalf("%d languages tested, %d supported", len(tests), len(c.Languages()))
	}
	for _, tt := range tests {
		l := c.Language(tt.lang)
		if got := l.Date(at); got != tt.date {
			t.Errorf("%s: Date = %q, want %q", tt.lang, got, tt.date)
		}
		if got := l.DateTime(at); got != tt.dateTime {
			t.Errorf("%s: DateTime = %q, want %q", tt.lang, got, tt.dateTime)
		}
		// The same day from a store day and from Telegram Passport dates.
		for _, s := range []string{"2026-12-05", "05.12.2026", "5.12.2026"} {
			if got := l.Day(s); got != tt.date {
				t.Errorf("%s: Day(%s) = %q, want %q", tt.lang, s, got, tt.date)
			}
		}
		// Problem texts show the Passport date the same way.
		p := l.Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "05.12.2026"})
		if !strings.Contains(p, tt.date) {
			t.Errorf("%s: expired problem %q does not show %q", tt.lang, p, tt.date)
		}
	}
	// The UTC day: late on 4 December west of UTC is 5 December.
	if got := c.Language("en").Date(time.Date(2026, 12, 4, 23, 0, 0, 0, time.FixedZone("UTC-3", -3*3600))); got != "5 Dec 2026" {
		t.Errorf("Date in UTC = %q", got)
	}
	for _, bad := range []string{"", "31.02.2026", "2026/12/05", "tomorrow"} {
		if got := c.Language("fa").Day(bad); got != bad {
			t.Errorf("Day(%q) = %q, want it unchanged", bad, got)
		}
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}
}

// TestNativeDigits: Persian and Arabic write the numbers the bot fills in
// (dates, counts, sizes) in their own digits, never in Latin ones; user
// IDs given as strings stay as they are, since admins type them back.
func TestNativeDigits(t *testing.T) {
	c, _ := newTestCatalog(t)
	latin := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0
	}
	for _, tt := range []struct {
		lang string
		zero rune
	}{{"fa", '۰'}, {"ar", '٠'}} {
		l := c.Language(tt.lang)
		texts := []string{
			l.Date(time.Date(2030, 10, 20, 0, 0, 0, 0, time.UTC)),
			l.DateTime(time.Date(2030, 10, 20, 10, 20, 0, 0, time.UTC)),
			l.Plural(MsgRequestWaiting, 30, nil),
			l.Problem("image_too_small", "passport", "front_side", map[string]string{"min_width": "1000", "min_height": "700", "width": "640", "height": "480"}),
			l.Problem("expires_soon", "passport", "data.expiry_date", map[string]string{"date": "20.10.2030", "min_days": "30"}),
			l.Field("address", "street_line1"),
		}
		for _, s := range texts {
			if latin(s) {
				t.Errorf("%s: %q has Latin digits", tt.lang, s)
			}
			if !strings.ContainsFunc(s, func(r rune) bool { return r >= tt.zero && r <= tt.zero+9 }) {
				t.Errorf("%s: %q has no %s digits", tt.lang, s, tt.lang)
			}
		}
		if got := l.Text(MsgAdminStatusUnknown, map[string]any{"User": "123456789"}); !strings.Contains(got, "123456789") {
			t.Errorf("%s: the user ID is not as typed: %q", tt.lang, got)
		}
	}
}
