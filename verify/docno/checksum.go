package docno

import "strings"

// The check digit algorithms of the tables. Each takes the whole
// normalized number in the form its row's pattern matched (so lengths and
// character classes are already right) and reports whether its check
// characters are right. None of them panics on any string.

// value is the numeric value of a character as ICAO Doc 9303 Part 3 §4.9
// and the national schemes built on it count it: digits their value, A=10
// to Z=35, the filler '<' 0; -1 for anything else.
func value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c == '<':
		return 0
	}
	return -1
}

// digit is the value of a decimal digit, -1 for anything else.
func digit(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	return -1
}

// weighted sums values(s[i]) * w[i mod len(w)]; ok is false when a character
// has no value.
func weighted(s string, w []int, val func(byte) int) (sum int, ok bool) {
	for i := 0; i < len(s); i++ {
		v := val(s[i])
		if v < 0 {
			return 0, false
		}
		sum += v * w[i%len(w)]
	}
	return sum, true
}

// icao731 computes the check digit of ICAO Doc 9303 Part 3 §4.9: weights
// 7, 3, 1 repeated, the sum modulo 10.
func icao731(s string) int {
	sum, ok := weighted(s, []int{7, 3, 1}, value)
	if !ok {
		return -1
	}
	return sum % 10
}

// mrzDocumentNumber checks a 9-character document number followed by its
// MRZ check digit (ICAO 7-3-1), as people copy it from the machine
// readable zone.
func mrzDocumentNumber(s string) bool {
	return len(s) == 10 && icao731(s[:9]) == digit(s[9])
}

// spanishLetter checks the control letter of a Spanish DNI (8 digits, or 7
// without the leading zero) or
// NIE (X, Y or Z for 0, 1 or 2, then 7 digits): the number modulo 23 picks
// the letter from TRWAGMYFPDXBNJZSQVHLCKE (Ministerio del Interior,
// "Cálculo del dígito de control del NIF/NIE"; Real Decreto 1553/2005,
// art. 11).
func spanishLetter(s string) bool {
	if len(s) < 2 || len(s) > 9 {
		return false
	}
	num := strings.NewReplacer("X", "0", "Y", "1", "Z", "2").Replace(s[:1]) + s[1:len(s)-1]
	n := 0
	for i := 0; i < len(num); i++ {
		d := digit(num[i])
		if d < 0 {
			return false
		}
		n = n*10 + d
	}
	return "TRWAGMYFPDXBNJZSQVHLCKE"[n%23] == s[len(s)-1]
}

// chineseResidentID checks the 18th character of a resident identity
// number (GB 11643-1999, ISO 7064 MOD 11-2): weights 2^(17-i) mod 11 for
// the 17 digits; the check value makes the weighted sum 1 modulo 11, and
// 10 is written X.
func chineseResidentID(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum, ok := weighted(s[:17], []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}, digit)
	if !ok {
		return false
	}
	return "10X98765432"[sum%11] == s[17]
}

// polishIDCard checks the series and number of a Polish identity card (3
// letters, then the check digit, then 5 digits): values A=10 to Z=35,
// weights 7 3 1 9 7 3 1 7 3, the sum a multiple of 10 (rozporządzenie
// MSWiA w sprawie wzoru dowodu osobistego, the algorithm in its annex).
func polishIDCard(s string) bool {
	sum, ok := weighted(s, []int{7, 3, 1, 9, 7, 3, 1, 7, 3}, value)
	return ok && len(s) == 9 && sum%10 == 0
}

// pesel checks the Polish PESEL (ustawa o ewidencji ludności, art. 15):
// weights 1 3 7 9 repeated over the first 10 digits, the 11th is
// (10 - sum mod 10) mod 10.
func pesel(s string) bool {
	if len(s) != 11 {
		return false
	}
	sum, ok := weighted(s[:10], []int{1, 3, 7, 9}, digit)
	return ok && (10-sum%10)%10 == digit(s[10])
}

// portugueseCitizenCard checks the document number of the Cartão de
// Cidadão (civil identification number, its check digit, the 2-character
// version, the document check digit) as AMA's "Validação de Número de
// Documento do Cartão de Cidadão" (v1.0, 2009) specifies: values A=10 to
// Z=35, from the right every second value doubled (minus 9 above 9), the
// sum a multiple of 10. Older civil numbers have 7 digits: a leading zero
// changes nothing.
func portugueseCitizenCard(s string) bool {
	alnum := func(c byte) int {
		if c == '<' {
			return -1
		}
		return value(c)
	}
	return len(s) >= 11 && luhnOf(s, alnum)
}

// dutchBSN checks the burgerservicenummer printed on Dutch passports and
// identity cards: the "elfproef" (Wet algemene bepalingen
// burgerservicenummer; Logisch Ontwerp BSN): weights 9 to 2 and -1, the
// sum a multiple of 11, and not zero.
func dutchBSN(s string) bool {
	sum, ok := weighted(s, []int{9, 8, 7, 6, 5, 4, 3, 2, -1}, digit)
	return ok && len(s) == 9 && sum != 0 && sum%11 == 0
}

// belgianCardNumber checks the 12-digit number of a Belgian eID card: the
// last two digits are the first ten modulo 97, 97 for 0 (FOD Binnenlandse
// Zaken, Algemene Directie Instellingen en Bevolking, eID card number).
func belgianCardNumber(s string) bool {
	n, c, ok := numberAndCheck(s, 12)
	if !ok {
		return false
	}
	if r := n % 97; r != 0 {
		return r == c
	}
	return c == 97
}

// belgianNationalNumber checks the national register number (YYMMDD, a
// 3-digit serial, 2 check digits): 97 minus the first nine digits modulo
// 97; for people born from 2000 on the nine digits are preceded by a 2
// (wet van 8 augustus 1983 tot regeling van een Rijksregister; Rijksregister,
// "Structuur van het identificatienummer").
func belgianNationalNumber(s string) bool {
	n, c, ok := numberAndCheck(s, 11)
	if !ok {
		return false
	}
	return c == 97-n%97 || c == 97-(2_000_000_000+n)%97
}

// numberAndCheck splits a string of length digits into the number and its
// last two digits, the check.
func numberAndCheck(s string, length int) (n, check int, ok bool) {
	if len(s) != length {
		return 0, 0, false
	}
	n, ok = number(s[:length-2])
	check, ok2 := number(s[length-2:])
	return n, check, ok && ok2
}

// number parses a short string of digits.
func number(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		d := digit(s[i])
		if d < 0 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, len(s) > 0 && len(s) <= 18
}

// balticPersonalCode checks the Estonian isikukood (EVS 585:2007) and the
// Lithuanian asmens kodas (LST 1185, the same scheme): weights 1..9,1; if
// the sum modulo 11 is 10, weights 3..9,1,2,3; if that is 10 too, the check
// digit is 0.
func balticPersonalCode(s string) bool {
	if len(s) != 11 {
		return false
	}
	check := -1
	for _, w := range [][]int{{1, 2, 3, 4, 5, 6, 7, 8, 9, 1}, {3, 4, 5, 6, 7, 8, 9, 1, 2, 3}} {
		sum, ok := weighted(s[:10], w, digit)
		if !ok {
			return false
		}
		if r := sum % 11; r < 10 {
			check = r
			break
		}
	}
	if check < 0 {
		check = 0
	}
	return check == digit(s[10])
}

// finnishIdentityCode checks the henkilötunnus (DDMMYY, the century sign,
// a 3-digit individual number, the control character): the nine digits
// as one number modulo 31 pick the character from
// 0123456789ABCDEFHJKLMNPRSTUVWXY (Digi- ja väestötietovirasto; asetus
// väestötietojärjestelmästä 128/2010, 2023 amendment for the new century
// signs). The century sign (dropped with the dashes) is not in the sum.
func finnishIdentityCode(s string) bool {
	if len(s) < 10 {
		return false
	}
	n, ok := number(s[:6] + s[len(s)-4:len(s)-1])
	return ok && "0123456789ABCDEFHJKLMNPRSTUVWXY"[n%31] == s[len(s)-1]
}

// swedishPersonalNumber checks a personnummer or samordningsnummer
// (YYMMDD or YYYYMMDD, an optional +, 4 digits) with the Luhn algorithm
// over the 10 digits without the century (Skatteverket, SKV 704
// "Personnummer").
func swedishPersonalNumber(s string) bool {
	s = strings.ReplaceAll(s, "+", "")
	if len(s) == 12 {
		s = s[2:]
	}
	return len(s) == 10 && luhn(s)
}

// luhn reports whether s (digits) passes the Luhn check (ISO/IEC 7812-1
// Annex B).
func luhn(s string) bool { return luhnOf(s, digit) }

// luhnOf runs the Luhn scheme over the values of s: from the right every
// second value doubled, minus 9 above 9, the sum a multiple of 10.
func luhnOf(s string, val func(byte) int) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		v := val(s[len(s)-1-i])
		if v < 0 {
			return false
		}
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return len(s) > 0 && sum%10 == 0
}

// turkishIdentityNumber checks the T.C. kimlik numarası (Nüfus ve
// Vatandaşlık İşleri Genel Müdürlüğü): 11 digits, the first not 0; the
// 10th is 7 times the sum of the odd-placed first nine minus the sum of
// the even-placed, modulo 10; the 11th is the sum of the first ten modulo
// 10.
func turkishIdentityNumber(s string) bool {
	if len(s) != 11 || s[0] == '0' {
		return false
	}
	var d [11]int
	for i := range d {
		if d[i] = digit(s[i]); d[i] < 0 {
			return false
		}
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	if ((odd*7-even)%10+10)%10 != d[9] {
		return false
	}
	sum := 0
	for _, x := range d[:10] {
		sum += x
	}
	return sum%10 == d[10]
}

// verhoeff reports whether s (digits) passes the Verhoeff check, which
// UIDAI uses for the last digit of the Aadhaar number ("Aadhaar number:
// 12 digits, the last a Verhoeff check digit").
func verhoeff(s string) bool {
	d := [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	p := [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	c := 0
	for i := 0; i < len(s); i++ {
		x := digit(s[len(s)-1-i])
		if x < 0 {
			return false
		}
		c = d[c][p[i%8][x]]
	}
	return len(s) > 0 && c == 0
}
