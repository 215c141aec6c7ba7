package screening

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/kycbot/kycbot/passport"
)

// ptbPath is the python-telegram-bot Passport sample the passport
// package's benchmarks decrypt.
const ptbPath = "../../../shared/testdata/passport/ptb-passport-1.1.json"

// benchIndex parses 50,000 synthetic people (and the planted ones) from
// an OpenSanctions CSV written in memory and indexes them.
func benchIndex(b *testing.B) *Index {
	b.Helper()
	var buf bytes.Buffer
	writeOpenSanctions(&buf, append(synthPeople(9, 50000), planted...))
	var entries []Entry
	if err := Parse(context.Background(), FormatOpenSanctions, "bench.csv", &buf, func(e Entry) error {
		entries = append(entries, e)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return NewIndex(entries)
}

// benchSubjects: a person on the list (in Latin and Cyrillic), and one
// who is not but shares a first name common in the list.
func benchSubjects(ix *Index) map[string]Subject {
	common := Tokens(ix.entries[0].Names[0])[0]
	return map[string]Subject{
		"hit":  {Names: []string{"Dmitrii Shcherbakov", "Дмитрий Щербаков"}, BirthDate: Date{1975, 3, 14}, Countries: []string{"RU"}},
		"miss": {Names: []string{common + " Nobodyknows", "Иван Никтознает"}, BirthDate: Date{1975, 3, 14}, Countries: []string{"DE"}},
	}
}

// BenchmarkCheckVsDecrypt screens one subject against 50,000 entries and,
// in the same loop, decrypts one Telegram Passport submission (the
// python-telegram-bot sample, as passport.BenchmarkSubmission does),
// reporting both costs and their ratio. Interleaving keeps the machine's
// noise out of the ratio. Issue 17: screening must not cost more than
// decryption (check/decrypt below 1).
func BenchmarkCheckVsDecrypt(b *testing.B) {
	raw, key := loadSubmission(b)
	ix := benchIndex(b)
	for name, subj := range benchSubjects(ix) {
		b.Run(name, func(b *testing.B) {
			var check, decrypt time.Duration
			hits := 0
			doCheck := func() {
				t0 := time.Now()
				hits = len(ix.Match(subj, Params{}))
				check += time.Since(t0)
			}
			doDecrypt := func() {
				t0 := time.Now()
				es, err := passport.ParseBotAPI(raw)
				if err == nil {
					_, err = passport.Decrypt(key, es)
				}
				if err != nil {
					b.Fatal(err)
				}
				decrypt += time.Since(t0)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					doCheck()
					doDecrypt()
				} else {
					doDecrypt()
					doCheck()
				}
			}
			if (name == "hit") != (hits > 0) {
				b.Fatalf("%s: %d hits", name, hits)
			}
			b.ReportMetric(float64(check.Nanoseconds())/float64(b.N), "check-ns/op")
			b.ReportMetric(float64(decrypt.Nanoseconds())/float64(b.N), "decrypt-ns/op")
			b.ReportMetric(float64(check)/float64(decrypt), "check/decrypt")
		})
	}
}

// BenchmarkCheck screens one subject against 50,000 entries, alone.
func BenchmarkCheck(b *testing.B) {
	ix := benchIndex(b)
	for name, subj := range benchSubjects(ix) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ix.Match(subj, Params{})
			}
		})
	}
}

// BenchmarkLoad parses and indexes a list of 50,000 people in each
// format (the cost of a reload).
func BenchmarkLoad(b *testing.B) {
	people := synthPeople(9, 50000)
	for _, f := range Formats() {
		var buf bytes.Buffer
		writers[f](&buf, people)
		data := buf.Bytes()
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				entries, err := read(context.Background(), List{Name: "b", Format: f, File: "b"}, bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				NewIndex(entries)
			}
		})
	}
}

func loadSubmission(b *testing.B) ([]byte, *rsa.PrivateKey) {
	b.Helper()
	data, err := os.ReadFile(ptbPath)
	if errors.Is(err, os.ErrNotExist) {
		b.Skipf("shared test data not found at %s (clone with ../shared beside the project to run this benchmark)", ptbPath)
	}
	if err != nil {
		b.Fatal(err)
	}
	var f struct {
		Key  string          `json:"private_key_pem"`
		Data json.RawMessage `json:"passport_data"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		b.Fatal(err)
	}
	key, err := passport.ParsePrivateKey([]byte(f.Key))
	if err != nil {
		b.Fatal(err)
	}
	return f.Data, key
}
