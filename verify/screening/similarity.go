package screening

// JaroWinkler returns the Jaro-Winkler similarity of two words, between 0
// (nothing in common) and 1 (equal), over bytes (the words come from
// Tokens, Latin after transliteration). The prefix scale is 0.1 over at
// most 4 characters, Winkler's values.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	window = max(window, 0)
	var ma, mb [maxWord]bool
	if la > maxWord || lb > maxWord {
		return jaroLong(a, b)
	}
	matches := 0
	for i := range la {
		lo, hi := max(0, i-window), min(lb, i+window+1)
		for j := lo; j < hi; j++ {
			if mb[j] || a[i] != b[j] {
				continue
			}
			ma[i], mb[j] = true, true
			matches++
			break
		}
	}
	if matches == 0 {
		return 0
	}
	half, k := 0, 0
	for i := range la {
		if !ma[i] {
			continue
		}
		for !mb[k] {
			k++
		}
		if a[i] != b[k] {
			half++
		}
		k++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(half/2))/m) / 3
	prefix := 0
	for prefix < min(4, la, lb) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// maxWord is the longest word JaroWinkler compares without allocating.
const maxWord = 64

// jaroLong compares words longer than maxWord: only their first maxWord
// bytes (no name has such words; this keeps the cost bounded).
func jaroLong(a, b string) float64 {
	return JaroWinkler(a[:min(len(a), maxWord)], b[:min(len(b), maxWord)])
}
