package i18n

import "testing"

// Commands and usernames in Arabic and Persian texts get a left-to-right
// mark ahead of the space before them; what is already protected, e-mail
// addresses, URLs and left-to-right languages are left alone.
func TestProtectLTR(t *testing.T) {
	c, _ := newTestCatalog(t)
	ar, en := c.Language("ar"), c.Language("en")
	for _, tc := range []struct {
		name    string
		loc     *Localizer
		in, out string
	}{
		{"command after a word", ar, "أرسل /verify full.", "أرسل\u200e /verify full."},
		{"command at the start of a line", ar, "مرحبًا\n/start – التعريف", "مرحبًا\n\u200e/start – التعريف"},
		{"after a right-to-left mark", ar, "\u200f/help – المساعدة", "\u200f\u200e/help – المساعدة"},
		{"in brackets", ar, "الأمر (/setpublickey)", "الأمر\u200e (/setpublickey)"},
		{"username", ar, "تواصل معنا: @acme_help", "تواصل معنا:\u200e @acme_help"},
		{"already protected", ar, "أرسل\u200e /verify", "أرسل\u200e /verify"},
		{"two commands", ar, "/a و /b", "\u200e/a و\u200e /b"},
		{"e-mail", ar, "تواصل معنا: help@acme.example", "تواصل معنا: help@acme.example"},
		{"url", ar, "https://acme.example/help", "https://acme.example/help"},
		{"a lone slash", ar, "١ / ٢", "١ / ٢"},
		{"english", en, "Send /verify or write to @acme_help.", "Send /verify or write to @acme_help."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.loc.ProtectLTR(tc.in); got != tc.out {
				t.Errorf("ProtectLTR(%q) = %q, want %q", tc.in, got, tc.out)
			}
			if _, bad := unprotectedCommand(tc.out); bad && tc.loc.Dir() == "rtl" {
				t.Errorf("%q still has an unprotected command", tc.out)
			}
		})
	}
	// Template data is protected too: the command of a status line comes
	// from the conversation, not from the catalog.
	got := ar.Text(MsgStatusNext, map[string]any{"Command": "/verify"})
	if cmd, bad := unprotectedCommand(got); bad {
		t.Errorf("status.next in Arabic: %q unprotected in %q", cmd, got)
	}
}
