package screening

import (
	"math"
	"reflect"
	"testing"
)

func TestTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Ivan  PETROV", []string{"ivan", "petrov"}},
		{"Дмитрий Щербаков", []string{"dmitrii", "shcherbakov"}},              // ICAO: Й I, Щ SHCH
		{"Юлия Ёлкина-Объедкова", []string{"iuliia", "elkina", "obieedkova"}}, // Ю IU, Я IA, Ё E, Ъ IE
		{"Олексій Гончаренко", []string{"oleksii", "goncharenko"}},            // Ukrainian І, Й
		{"Γιώργος Παπαδόπουλος", []string{"giorgos", "papadopoulos"}},         // ELOT 743, ΟΥ ou
		{"محمد حداد", []string{"mhmd", "hdad"}},
		{"José María Ñúñez", []string{"jose", "maria", "nunez"}},
		{"Łukasz Straße", []string{"lukasz", "strasse"}},
		{"O'Neil Jean-Pierre", []string{"oneil", "jean", "pierre"}},
		{"Al-Hashimi al hashimi", []string{"al", "hashimi"}},
		{"ＩＶＡＮ", []string{"ivan"}}, // NFKD folds full-width letters
		{"  ,.; ", nil},
	}
	for _, c := range cases {
		if got := Tokens(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestKeySpellings: spellings of one name in different transliterations
// share a key; different names do not.
func TestKeySpellings(t *testing.T) {
	same := [][]string{
		{"yuriy", "iurii", "jurij", "yuri"},
		{"aleksandr", "alexander", "aleksander"},
		{"mohammed", "muhammad", "mohamed", "mhmd"},
		{"sergei", "sergey", "serguei"},
		{"shcherbakov", "shcherbakoff"},
		{"tchaikovsky", "chaikovskii"},
		{"philipp", "filip"},
	}
	for _, group := range same {
		for _, w := range group[1:] {
			if Key(w) != Key(group[0]) {
				t.Errorf("Key(%q) = %q, Key(%q) = %q: want equal", w, Key(w), group[0], Key(group[0]))
			}
		}
	}
	for _, pair := range [][2]string{{"petrov", "ivanov"}, {"haddad", "hamid"}, {"orlov", "lebedev"}} {
		if Key(pair[0]) == Key(pair[1]) {
			t.Errorf("Key(%q) = Key(%q) = %q", pair[0], pair[1], Key(pair[0]))
		}
	}
}

// TestJaroWinkler checks the values Winkler's papers give.
func TestJaroWinkler(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.840},
		{"dixon", "dicksonx", 0.813},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
	}
	for _, c := range cases {
		got := JaroWinkler(c.a, c.b)
		if math.Abs(got-c.want) > 0.001 || math.Abs(JaroWinkler(c.b, c.a)-got) > 1e-9 {
			t.Errorf("JaroWinkler(%q, %q) = %.3f, want %.3f", c.a, c.b, got, c.want)
		}
	}
}

func TestNameScore(t *testing.T) {
	cases := []struct {
		a, b     string
		min, max float64
	}{
		{"Ivan Petrov", "Petrov Ivan", 1, 1},                            // order does not matter
		{"Ivan Petrov", "Ivan Ivanovich Petrov", 1, 1},                  // a patronymic more
		{"Dmitrii Shcherbakov", "Dmitriy Shcherbakov", 0.95, 1},         // transliterations
		{"Ivan Petrov", "Ivan Sidorov", 0, 0.85},                        // another surname
		{"Ivan", "Ivan Petrov", 0.8, 0.8},                               // one word against a name
		{"Abdul Rahman Al Hashimi", "Abdulrahman Hashimi", 0.85, 0.999}, // joined words are close, not equal
	}
	for _, c := range cases {
		got := nameScore(words(c.a), words(c.b))
		if got < c.min || got > c.max {
			t.Errorf("nameScore(%q, %q) = %.3f, want within [%.2f, %.2f]", c.a, c.b, got, c.min, c.max)
		}
	}
}

// TestNameScoreExamples keeps the table of docs/screening.md true.
func TestNameScoreExamples(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		{"Sergei Ivanov", "Sergey Ivanov", 0.975},
		{"Дмитрий Щербаков", "Dmitriy Shcherbakov", 0.975},
		{"Ivan Petrov", "Ivan Petrenko", 0.946},
		{"Олег Коваленко", "Oleh Kovalenko", 0.942},
		{"John Smith", "Jon Smyth", 0.942},
		{"Maria Gonzalez", "Mario Gonzales", 0.935},
		{"Ali Hassan", "Eli Hassan", 0.925},
		{"Iurii Kovalenko", "Yuriy Kovalenko", 0.925},
		{"Mohammed Ali", "Mohammad Alavi", 0.851},
		{"Anna Ivanova", "Ivan Ivanov", 0.736},
		{"Kim Jong Un", "Kim Jong Il", 0.667},
	}
	for _, c := range cases {
		if got := nameScore(words(c.a), words(c.b)); math.Abs(got-c.want) > 0.0005 {
			t.Errorf("nameScore(%q, %q) = %.3f, docs/screening.md says %.3f", c.a, c.b, got, c.want)
		}
	}
}
