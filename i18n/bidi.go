package i18n

import "strings"

// lrm is U+200E LEFT-TO-RIGHT MARK.
const lrm = '\u200E'

// ProtectLTR makes the commands ("/verify full") and usernames
// ("@acme_help") of a right-to-left text read left to right: in Arabic or
// Persian, a slash or at sign takes the direction of the words around it
// and shows up on the wrong side ("verify/"). A U+200E LEFT-TO-RIGHT MARK
// goes before each one that has none, ahead of the spaces or bracket before
// it, so that Telegram apps still see a space before the command and make
// it tappable. Texts of left-to-right languages come back as they are, and
// so do e-mail addresses and URLs (their "@" and "/" follow a letter).
//
// Text and Plural apply it to every message they render, template data
// included; use it on text put together from other pieces.
func (l *Localizer) ProtectLTR(s string) string {
	if l.Dir() != "rtl" || !strings.ContainsAny(s, "/@") {
		return s
	}
	runes := []rune(s)
	out := make([]rune, 0, len(runes)+4)
	for i, r := range runes {
		if (r == '/' || r == '@') && i+1 < len(runes) && commandRune(runes[i+1]) &&
			(i == 0 || !commandRune(runes[i-1]) && runes[i-1] != '/') {
			// Walk back over the spaces and brackets already written.
			j := len(out)
			for j > 0 && (out[j-1] == ' ' || out[j-1] == '(') {
				j--
			}
			if j == 0 || out[j-1] != lrm {
				out = append(out[:j], append([]rune{lrm}, out[j:]...)...)
			}
		}
		out = append(out, r)
	}
	return string(out)
}

// commandRune reports whether r may be part of a command or username.
func commandRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
