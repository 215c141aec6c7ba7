package screening

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// maxNameBytes and maxWords bound a name the matcher reads: longer names
// are cut there (no person's name comes near them).
const (
	maxNameBytes = 512
	maxWords     = 16
)

// translit maps letters of non-Latin scripts, after NFKD decomposition and
// the removal of combining marks, to lower-case Latin.
//
// Cyrillic follows ICAO Doc 9303 Part 3 (the transliteration machine
// readable passports use): Ж zh, Х kh, Ц ts, Ч ch, Ш sh, Щ shch, Ъ ie,
// Ы y, Ь dropped, Ю iu, Я ia, Є ie, Ґ g, Ј j, Љ lj, Њ nj, Ђ d, Ћ c, Џ dz,
// Ѕ dz. Letters with a diacritic (Й, Ё, Ї, Ў, Ѓ, Ќ) decompose under NFKD
// into their base letter, which gives ICAO's value (I, E, I, U, G, K).
// ICAO's language exceptions (Г as H in Belarusian and Serbian, И as Y in
// Ukrainian) are left to the matcher's similarity and phonetic key.
//
// Greek follows ELOT 743 as ICAO Doc 9303 applies it (Η i, Θ th, Ξ x,
// Υ y, Φ f, Χ ch, Ψ ps, Ω o); the digraph ΟΥ is ou (see foldName).
//
// Arabic (and the Persian letters) follow a simplified, consonant-only
// romanization after UNGEGN's: short vowels are not written in Arabic
// script, so a native name yields its consonants ("محمد" mhmd) and
// matches a Latin spelling through the phonetic key ("Mohammed" mhmd).
var translit = map[rune]string{
	// Cyrillic
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'ґ': "g", 'д': "d", 'ђ': "d",
	'е': "e", 'є': "ie", 'ж': "zh", 'з': "z", 'ѕ': "dz", 'и': "i", 'і': "i",
	'ј': "j", 'к': "k", 'л': "l", 'љ': "lj", 'м': "m", 'н': "n", 'њ': "nj",
	'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'ћ': "c", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'џ': "dz", 'ш': "sh",
	'щ': "shch", 'ъ': "ie", 'ы': "y", 'ь': "", 'э': "e", 'ю': "iu", 'я': "ia",
	// Greek
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i",
	'θ': "th", 'ι': "i", 'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x",
	'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t", 'υ': "y",
	'φ': "f", 'χ': "ch", 'ψ': "ps", 'ω': "o",
	// Arabic and Persian
	'ا': "a", 'أ': "a", 'إ': "i", 'آ': "a", 'ٱ': "a", 'ب': "b", 'پ': "p",
	'ت': "t", 'ث': "th", 'ج': "j", 'چ': "ch", 'ح': "h", 'خ': "kh", 'د': "d",
	'ذ': "dh", 'ر': "r", 'ز': "z", 'ژ': "zh", 'س': "s", 'ش': "sh", 'ص': "s",
	'ض': "d", 'ط': "t", 'ظ': "z", 'ع': "", 'غ': "gh", 'ف': "f", 'ق': "q",
	'ك': "k", 'ک': "k", 'گ': "g", 'ل': "l", 'م': "m", 'ن': "n", 'ه': "h",
	'ة': "a", 'و': "w", 'ي': "y", 'ی': "y", 'ى': "a", 'ء': "", 'ؤ': "",
	'ئ': "",
	// Latin letters NFKD leaves whole
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th",
	'ł': "l", 'ı': "i", 'ħ': "h",
}

// joiners are dropped inside a word without splitting it: apostrophes
// (O'Neil, the Ukrainian apostrophe) and the Arabic tatweel.
func joiner(r rune) bool {
	switch r {
	case '\'', '’', 'ʼ', '`', 'ʻ', '´', 'ـ':
		return true
	}
	return false
}

// Tokens normalizes a name and splits it into words: Unicode NFKD, the
// combining marks removed, upper case folded to lower, letters of other
// scripts transliterated to Latin (see translit), apostrophes dropped,
// every other character that is not a letter or digit a separator. Words
// come out in order, repeated words once, at most 16 (the rest of a
// longer name is ignored).
func Tokens(name string) []string {
	if len(name) > maxNameBytes {
		name = name[:maxNameBytes]
	}
	var (
		out  []string
		word strings.Builder
	)
	flush := func() {
		if word.Len() == 0 {
			return
		}
		w := word.String()
		word.Reset()
		if len(out) >= maxWords {
			return
		}
		for _, o := range out {
			if o == w {
				return
			}
		}
		out = append(out, w)
	}
	var prev rune
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case joiner(r):
			continue
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prev = 0
			continue
		}
		r = unicode.ToLower(r)
		if r == 'υ' && prev == 'ο' { // Greek ΟΥ is ou, not oy
			word.WriteByte('u')
			prev = r
			continue
		}
		prev = r
		if t, ok := translit[r]; ok {
			word.WriteString(t)
			continue
		}
		if r < unicode.MaxASCII || unicode.Is(unicode.Latin, r) {
			word.WriteRune(r)
			continue
		}
		// Other scripts (CJK, Hebrew, ...) are kept as they are: they match
		// the same script only.
		word.WriteRune(r)
	}
	flush()
	return out
}

// Key is the phonetic key of a normalized word (from Tokens), which
// spellings of one name in different transliterations share: Yuriy,
// Iurii and Jurij (ar); Aleksandr and Alexander (alksndr); Mohammed,
// Muhammad and the consonants of the Arabic script (mhmd).
//
// It rewrites, left to right: x as ks; sch, shch, tsch, tch, ch, sh and
// zh as one sibilant each (s, s, c, c, c, s, z); kh, gh, th, dh as h, g,
// t, d; c, ck, q as k; f, ph and w as v (Smirnoff, Smirnov); j as i; ts,
// tz as c; doubled letters once. Then a
// leading vowel (a e i o u y) becomes a, and the other vowels are
// dropped. Digits are kept.
func Key(word string) string {
	var b []byte
	w := word
	push := func(c byte) {
		if len(b) > 0 && b[len(b)-1] == c {
			return
		}
		b = append(b, c)
	}
	for i := 0; i < len(w); {
		rest := w[i:]
		switch {
		case strings.HasPrefix(rest, "tsch"):
			push('c')
			i += 4
		case strings.HasPrefix(rest, "sch"), strings.HasPrefix(rest, "tch"), strings.HasPrefix(rest, "shch"):
			if strings.HasPrefix(rest, "shch") {
				push('s')
				i += 4
				continue
			}
			if rest[0] == 's' {
				push('s')
			} else {
				push('c')
			}
			i += 3
		case len(rest) >= 2 && rest[1] == 'h' && strings.IndexByte("cszkgtdp", rest[0]) >= 0:
			push(map[byte]byte{'c': 'c', 's': 's', 'z': 'z', 'k': 'h', 'g': 'g', 't': 't', 'd': 'd', 'p': 'v'}[rest[0]])
			i += 2
		case strings.HasPrefix(rest, "ck"):
			push('k')
			i += 2
		case strings.HasPrefix(rest, "ts"), strings.HasPrefix(rest, "tz"):
			push('c')
			i += 2
		default:
			c := rest[0]
			i++
			switch c {
			case 'x':
				push('k')
				push('s')
				continue
			case 'c', 'q':
				c = 'k'
			case 'w', 'f':
				c = 'v'
			case 'j':
				c = 'i'
			}
			if isVowel(c) {
				if len(b) == 0 {
					b = append(b, 'a')
				} else if !isVowel(b[len(b)-1]) {
					b = append(b, 'e') // a marker, removed below
				}
				continue
			}
			push(c)
		}
	}
	// Drop the vowel markers but keep a leading a; doubled consonants
	// around a dropped vowel stay doubled only once.
	out := b[:0:0]
	for i, c := range b {
		if c == 'e' && i > 0 {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == c {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}
