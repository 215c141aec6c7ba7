package screening

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/kycbot/kycbot/passport"
)

// Subject is the person screened: what the user's Telegram Passport says.
type Subject struct {
	// Names are the person's whole names: the Latin one and, when given,
	// the native one ("Ivan Petrov", "Иван Петров"). Match reads the
	// first four.
	Names []string
	// BirthDate is the date of birth; zero when unknown.
	BirthDate Date
	// Countries are the citizenships, ISO 3166-1 alpha-2.
	Countries []string
}

// SubjectFromPersonalDetails builds the Subject of a Telegram Passport
// personal_details element: the Latin and native names, the birth date
// and the citizenship (country_code). A birth date Telegram would not
// send (not DD.MM.YYYY) is left unknown.
func SubjectFromPersonalDetails(pd *passport.PersonalDetails) Subject {
	var s Subject
	if pd == nil {
		return s
	}
	join := func(parts ...string) string {
		var nonEmpty []string
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				nonEmpty = append(nonEmpty, p)
			}
		}
		return strings.Join(nonEmpty, " ")
	}
	for _, n := range []string{
		join(pd.FirstName, pd.MiddleName, pd.LastName),
		join(pd.FirstNameNative, pd.MiddleNameNative, pd.LastNameNative),
	} {
		if n != "" {
			s.Names = append(s.Names, n)
		}
	}
	if d, err := ParseDate(pd.BirthDate); err == nil && d.Day != 0 {
		s.BirthDate = d
	}
	if pd.CountryCode != "" {
		s.Countries = []string{strings.ToUpper(pd.CountryCode)}
	}
	return s
}

// BirthDateRule says how dates of birth weigh in a match.
type BirthDateRule string

// Birth date rules.
const (
	// BirthDateRequiredMatch: when both the subject and the entry have a
	// date of birth and none of the entry's dates is compatible with the
	// subject's (another day, or another year for a year-only entry), the
	// entry is not a hit whatever the name. A compatible date adds
	// BirthDateBonus when it is the same day. An unknown date on either
	// side leaves the name to decide. The default.
	BirthDateRequiredMatch BirthDateRule = "required_match"
	// BirthDateModifier: a different date subtracts BirthDatePenalty
	// instead of excluding the entry; the same day adds BirthDateBonus.
	BirthDateModifier BirthDateRule = "modifier"
)

// Weights of the modifiers, added to the name's score.
const (
	BirthDateBonus     = 0.05
	BirthDatePenalty   = 0.15
	NationalityBonus   = 0.03
	NationalityPenalty = 0.05
	// DefaultThreshold is the score from which an entry is a hit.
	DefaultThreshold = 0.9
	// maxHits bounds the hits one check returns (the best ones).
	maxHits = 10
	// maxSubjectNames bounds the names of a subject Match reads.
	maxSubjectNames = 4
)

// Verdict says how a date of birth or nationality compared.
type Verdict string

// Verdicts.
const (
	Unknown    Verdict = "unknown"    // missing on one side
	Same       Verdict = "same"       // the same day, or a shared country
	Compatible Verdict = "compatible" // a partial date that fits (the year)
	Different  Verdict = "different"  // known on both sides, no match
)

// Hit is a list entry that matched, with why.
type Hit struct {
	// List and EntryID name the entry (Entry.List, Entry.ID).
	List, EntryID string
	// Score is the final score: NameScore plus the modifiers, within [0, 1].
	Score float64
	// NameScore is the similarity of the best pair of names (see Index).
	NameScore float64
	// EntryName is the entry's name that matched, as the list writes it,
	// and Alias whether it is one of its aliases rather than its primary
	// name. It is the list's data; the subject's name is never kept.
	EntryName string
	Alias     bool
	// BirthDate and Nationality say how those compared.
	BirthDate, Nationality Verdict
}

// Explain says in one line why the entry matched, for the reviewer:
// the entry, the name (the list's), and the modifiers. It holds no data of
// the subject.
func (h Hit) Explain() string {
	kind := "primary name"
	if h.Alias {
		kind = "alias"
	}
	return fmt.Sprintf("%s entry %s: score %.2f; %s %q similar at %.2f; birth date %s; nationality %s",
		h.List, h.EntryID, h.Score, kind, h.EntryName, h.NameScore, h.BirthDate, h.Nationality)
}

// LogValue is what a log shows of a hit: the list, the entry and the
// scores, no name at all (the entry's name next to a user ID would say
// who the user probably is).
func (h Hit) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("list", h.List), slog.String("entry", h.EntryID),
		slog.Float64("score", h.Score), slog.Float64("name_score", h.NameScore),
		slog.Bool("alias", h.Alias),
		slog.String("birth_date", string(h.BirthDate)), slog.String("nationality", string(h.Nationality)))
}

// word is a normalized word (Tokens) and its phonetic key (Key).
type word struct {
	text, key string
}

// words normalizes a name into its words and their keys.
func words(name string) []word {
	toks := Tokens(name)
	out := make([]word, len(toks))
	for i, t := range toks {
		out[i] = word{text: t, key: Key(t)}
	}
	return out
}

// name is one of an entry's names, as indexed.
type name struct {
	entry int32
	alias bool
	words []word
	text  string
}

// Index finds the entries of a set of lists that match a subject.
//
// The algorithm: each name, the subject's and the entries', is cut into
// words by Tokens (NFKD, marks removed, lower case, other scripts
// transliterated). Two words are similar by Jaro-Winkler, or by 0.95 when
// their phonetic keys (Key) are equal and 3 bytes or longer (0.85 for a
// 2-byte key). Two names are compared word set to word set: the words of
// the shorter name are paired greedily with the most similar words of the
// other, each word used once, and the name score is the mean similarity
// of the pairs; a single word against a name of several words scores 0.8
// of that (a given name alone is not a match). The best pair of names
// between the subject and an entry gives the entry's name score; the
// modifiers (BirthDateRule, nationality) are added and the result,
// clamped to [0, 1], is a hit from the threshold up.
//
// Candidates come from an inverted index of the phonetic keys: an entry
// is scored only when one of its names shares a key with the subject's
// names, and, for keys so common that they are in more than 2% of the
// names (and over 1,000), when it shares two. A name whose every word is
// misspelled beyond its phonetic key is therefore not found.
//
// An Index is immutable and safe for concurrent use.
type Index struct {
	entries []Entry
	names   []name
	byKey   map[string][]int32
	common  int
	counts  sync.Pool // *[]uint8, one per name
}

// NewIndex indexes entries.
func NewIndex(entries []Entry) *Index {
	ix := &Index{entries: entries, byKey: make(map[string][]int32)}
	for i, e := range entries {
		for j, n := range e.Names {
			ws := words(n)
			if len(ws) == 0 {
				continue
			}
			id := int32(len(ix.names))
			for _, w := range ws {
				if p := ix.byKey[w.key]; len(p) == 0 || p[len(p)-1] != id {
					ix.byKey[w.key] = append(p, id)
				}
			}
			ix.names = append(ix.names, name{entry: int32(i), alias: j > 0, words: ws, text: n})
		}
	}
	ix.common = max(1000, len(ix.names)/50)
	n := len(ix.names)
	ix.counts.New = func() any { c := make([]uint8, n); return &c }
	return ix
}

// Len returns the number of entries indexed.
func (ix *Index) Len() int { return len(ix.entries) }

// Params are the matcher's settings.
type Params struct {
	// Threshold is the score from which an entry is a hit; 0 means
	// DefaultThreshold.
	Threshold float64
	// BirthDate is the birth date rule; empty means BirthDateRequiredMatch.
	BirthDate BirthDateRule
}

// Match returns the hits for s, best first, at most 10.
func (ix *Index) Match(s Subject, p Params) []Hit {
	if p.Threshold == 0 {
		p.Threshold = DefaultThreshold
	}
	if p.BirthDate == "" {
		p.BirthDate = BirthDateRequiredMatch
	}
	var (
		subj [][]word // the words of each subject name
		keys []string // the distinct keys of all of them
	)
	for _, n := range s.Names[:min(len(s.Names), maxSubjectNames)] {
		ws := words(n)
		if len(ws) == 0 {
			continue
		}
		subj = append(subj, ws)
		for _, w := range ws {
			if !slices.Contains(keys, w.key) {
				keys = append(keys, w.key)
			}
		}
	}
	if len(subj) == 0 || len(ix.names) == 0 {
		return nil
	}
	cp := ix.counts.Get().(*[]uint8)
	counts := *cp
	defer ix.counts.Put(cp)
	const rare = 0x80
	var touched []int32
	for _, k := range keys {
		post := ix.byKey[k]
		flag := uint8(0)
		if len(post) <= ix.common {
			flag = rare
		}
		for _, id := range post {
			c := counts[id]
			if c == 0 {
				touched = append(touched, id)
			}
			if c&^rare < 0x7f {
				c++
			}
			counts[id] = c | flag
		}
	}
	single := len(keys) == 1
	best := make(map[int32]Hit)
	for _, id := range touched {
		c := counts[id]
		counts[id] = 0
		if c&rare == 0 && c&^rare < 2 && !single {
			continue
		}
		nm := &ix.names[id]
		var ns float64
		for _, q := range subj {
			ns = max(ns, nameScore(q, nm.words))
		}
		if ns+BirthDateBonus+NationalityBonus < p.Threshold {
			continue
		}
		if h, ok := best[nm.entry]; ok && h.NameScore >= ns {
			continue
		}
		best[nm.entry] = Hit{NameScore: ns, EntryName: nm.text, Alias: nm.alias}
	}
	var hits []Hit
	for ei, h := range best {
		e := &ix.entries[ei]
		h.List, h.EntryID = e.List, e.ID
		h.BirthDate = compareDates(s.BirthDate, e.BirthDates)
		h.Nationality = compareCountries(s.Countries, e.Countries)
		score := h.NameScore
		switch h.BirthDate {
		case Same:
			score += BirthDateBonus
		case Different:
			if p.BirthDate == BirthDateRequiredMatch {
				continue
			}
			score -= BirthDatePenalty
		}
		switch h.Nationality {
		case Same:
			score += NationalityBonus
		case Different:
			score -= NationalityPenalty
		}
		h.Score = min(1, max(0, score))
		if h.Score >= p.Threshold {
			hits = append(hits, h)
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		switch {
		case a.Score != b.Score:
			if a.Score > b.Score {
				return -1
			}
			return 1
		case a.List != b.List:
			return strings.Compare(a.List, b.List)
		}
		return strings.Compare(a.EntryID, b.EntryID)
	})
	if len(hits) > maxHits {
		hits = hits[:maxHits]
	}
	return hits
}

// wordScore is the similarity of two normalized words.
func wordScore(a, b word) float64 {
	s := JaroWinkler(a.text, b.text)
	if s >= 0.95 || a.key != b.key {
		return s
	}
	switch {
	case len(a.key) >= 3:
		return 0.95
	case len(a.key) == 2:
		return max(s, 0.85)
	}
	return s
}

// nameScore compares two names word set to word set (see Index).
func nameScore(q, e []word) float64 {
	short, long := q, e
	if len(short) > len(long) {
		short, long = long, short
	}
	// Tokens returns at most maxWords words: a matrix on the stack.
	var buf [maxWords * maxWords]float64
	short, long = short[:min(len(short), maxWords)], long[:min(len(long), maxWords)]
	sim := buf[:len(short)*len(long)]
	for i, a := range short {
		for j, b := range long {
			sim[i*len(long)+j] = wordScore(a, b)
		}
	}
	var usedS, usedL [maxWords]bool
	total := 0.0
	for range short {
		bi, bj, bs := -1, -1, -1.0
		for i := range short {
			if usedS[i] {
				continue
			}
			for j := range long {
				if !usedL[j] && sim[i*len(long)+j] > bs {
					bi, bj, bs = i, j, sim[i*len(long)+j]
				}
			}
		}
		usedS[bi], usedL[bj] = true, true
		total += bs
	}
	score := total / float64(len(short))
	if len(short) == 1 && len(long) > 1 {
		score *= 0.8
	}
	return score
}

// compareDates compares the subject's date with an entry's.
func compareDates(d Date, list []Date) Verdict {
	if d.IsZero() || len(list) == 0 {
		return Unknown
	}
	v := Different
	for _, e := range list {
		switch {
		case e.Exact(d):
			return Same
		case e.Compatible(d):
			v = Compatible
		}
	}
	return v
}

// compareCountries compares the subject's citizenships with an entry's
// countries.
func compareCountries(a, b []string) Verdict {
	if len(a) == 0 || len(b) == 0 {
		return Unknown
	}
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				return Same
			}
		}
	}
	return Different
}
