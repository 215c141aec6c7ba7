package passport

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
)

// benchKeys are the fixture's key on each backend: "native" as NewKey
// makes it (OpenSSL where available), "go" on crypto/rsa.
func benchKeys(b *testing.B, priv *rsa.PrivateKey) []namedKey {
	native, err := NewKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = native.Close() })
	goKey, err := NewKey(priv, WithGoRSA())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("native backend: %s", native.Backend())
	return []namedKey{{"native", native}, {"go", goKey}}
}

// BenchmarkSubmissionVsRSA decrypts the python-telegram-bot submission
// and, in the same loop, does one bare RSA-2048 OAEP decryption of its
// credentials secret on the same backend, reporting both costs and their
// ratio (interleaving keeps machine noise out of the ratio). "native" is
// the key as NewKey makes it (OpenSSL where available), "go" crypto/rsa;
// "botapi" starts from the Bot API JSON bytes, "parsed" from the parsed
// submission, as a gotd bot starts from the MTProto action.
func BenchmarkSubmissionVsRSA(b *testing.B) {
	f, priv := loadPTB(b)
	for _, k := range benchKeys(b, priv) {
		b.Run(k.name, func(b *testing.B) { benchSubmissionVsRSA(b, f, k.key) })
	}
}

func benchSubmissionVsRSA(b *testing.B, f *ptbFixture, key crypto.Decrypter) {
	raw := []byte(f.PassportData)
	parsed, err := ParseBotAPI(raw)
	if err != nil {
		b.Fatal(err)
	}
	secret := parsed.Credentials.Secret
	variants := []struct {
		name string
		full func() error
	}{
		{"botapi", func() error {
			es, err := ParseBotAPI(raw)
			if err != nil {
				return err
			}
			_, err = Decrypt(key, es)
			return err
		}},
		{"parsed", func() error {
			_, err := Decrypt(key, parsed)
			return err
		}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			// Wall time, and the thread's CPU time (robust to other
			// processes on a shared machine; what openssl speed reports).
			var full, bare, fullCPU, bareCPU time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			_, cpuOK := testkit.ThreadCPU()
			timed := func(f func() error, cpu *time.Duration) time.Duration {
				c0, _ := testkit.ThreadCPU()
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				d := time.Since(t0)
				c1, _ := testkit.ThreadCPU()
				*cpu += c1 - c0
				return d
			}
			rsaOnly := func() error {
				_, err := key.Decrypt(nil, secret, &rsa.OAEPOptions{Hash: crypto.SHA1})
				return err
			}
			b.ReportAllocs()
			// Which goes first is drawn for each pair (fixed sequence), so
			// that neither always runs on caches the other warmed, and so
			// that work RSA does every so many decryptions lands on both
			// alike: OpenSSL makes new blinding values every 32nd
			// decryption with a key, which a strict alternation (full,
			// bare, bare, full: period 4) put on the same side every time,
			// 15 µs a decryption on that side.
			for i := uint64(0); b.Loop(); i++ {
				if fullFirst(i) {
					full += timed(v.full, &fullCPU)
					bare += timed(rsaOnly, &bareCPU)
				} else {
					bare += timed(rsaOnly, &bareCPU)
					full += timed(v.full, &fullCPU)
				}
			}
			b.ReportMetric(float64(full.Nanoseconds())/float64(b.N), "full-ns/op")
			b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "rsa-ns/op")
			b.ReportMetric(float64(full)/float64(bare), "full/rsa")
			if cpuOK {
				b.ReportMetric(float64(fullCPU.Nanoseconds())/float64(b.N), "full-cpu-ns/op")
				b.ReportMetric(float64(bareCPU.Nanoseconds())/float64(b.N), "rsa-cpu-ns/op")
				b.ReportMetric(float64(fullCPU)/float64(bareCPU), "cpu-full/rsa")
			}
		})
	}
}

// fullFirst says whether the full decryption goes first in pair i: a bit
// of splitmix64 of i, so the order has no period a decryption counter
// could fall in step with.
func fullFirst(i uint64) bool {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return (z^z>>31)&1 == 0
}

// BenchmarkSubmission decrypts the python-telegram-bot submission alone,
// from the Bot API JSON bytes, on each backend.
func BenchmarkSubmission(b *testing.B) {
	f, priv := loadPTB(b)
	raw := []byte(f.PassportData)
	for _, k := range benchKeys(b, priv) {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				es, err := ParseBotAPI(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Decrypt(k.key, es); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const benchFileSize = 10 << 20

func benchFile(b *testing.B) EncryptedValue {
	v, err := EncryptValue(rand.Reader, scan(3, benchFileSize-300))
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// rawCBCSHA256 is the floor for file decryption: AES-256-CBC in place, on
// the backend a FileReader uses (OpenSSL's where the build has it), and
// SHA-256 over the same bytes, with a preallocated buffer and nothing else.
func rawCBCSHA256(b *testing.B, v EncryptedValue, buf []byte) {
	mode, err := newCBC(v.Secret, v.Hash, true)
	if err != nil {
		b.Fatal(err)
	}
	copy(buf, v.Ciphertext)
	mode.CryptBlocks(buf, buf)
	sha256.Sum256(buf)
}

// streamFile decrypts a file through NewFileReader into io.Discard.
func streamFile(ct []byte, fc FileCredentials) error {
	r, err := NewFileReader(bytes.NewReader(ct), fc)
	if err != nil {
		return err
	}
	_, err = r.WriteTo(io.Discard)
	return err
}

// BenchmarkFileDecrypt streams a 10 MB file through NewFileReader.
func BenchmarkFileDecrypt(b *testing.B) {
	v := benchFile(b)
	fc := v.FileCredentials()
	b.SetBytes(int64(len(v.Ciphertext)))
	b.ReportAllocs()
	for b.Loop() {
		if err := streamFile(v.Ciphertext, fc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileRawCBCSHA256 is the raw AES-256-CBC + SHA-256 baseline over
// the same bytes.
func BenchmarkFileRawCBCSHA256(b *testing.B) {
	v := benchFile(b)
	buf := make([]byte, len(v.Ciphertext))
	b.SetBytes(int64(len(v.Ciphertext)))
	b.ReportAllocs()
	for b.Loop() {
		rawCBCSHA256(b, v, buf)
	}
}

// BenchmarkFileVsRaw interleaves the two and reports the throughput ratio
// (stream/raw, higher is better; 1 means no overhead).
func BenchmarkFileVsRaw(b *testing.B) {
	v := benchFile(b)
	fc := v.FileCredentials()
	buf := make([]byte, len(v.Ciphertext))
	var stream, raw time.Duration
	timeStream := func() {
		t0 := time.Now()
		if err := streamFile(v.Ciphertext, fc); err != nil {
			b.Fatal(err)
		}
		stream += time.Since(t0)
	}
	timeRaw := func() {
		t0 := time.Now()
		rawCBCSHA256(b, v, buf)
		raw += time.Since(t0)
	}
	for i := 0; b.Loop(); i++ { // alternate which goes first
		if i%2 == 0 {
			timeStream()
			timeRaw()
		} else {
			timeRaw()
			timeStream()
		}
	}
	b.ReportMetric(float64(raw)/float64(stream), "throughput-ratio")
}

// BenchmarkSubmissionParts times what a decryption does besides RSA, part
// by part, on the python-telegram-bot submission: the credentials data
// (AES-CBC, SHA-256), the credentials JSON, every element's data
// (Credentials.Open) and, for Bot API bots, the PassportData JSON.
func BenchmarkSubmissionParts(b *testing.B) {
	f, priv := loadPTB(b)
	raw := []byte(f.PassportData)
	es, err := ParseBotAPI(raw)
	if err != nil {
		b.Fatal(err)
	}
	secret, err := DecryptCredentialsSecret(priv, es.Credentials.Secret)
	if err != nil {
		b.Fatal(err)
	}
	plain, err := DecryptData(secret, es.Credentials.Hash, es.Credentials.Data)
	if err != nil {
		b.Fatal(err)
	}
	creds, err := ParseCredentials(plain)
	if err != nil {
		b.Fatal(err)
	}
	parts := []struct {
		name string
		run  func() error
	}{
		{"credentials-data", func() error {
			_, err := DecryptData(secret, es.Credentials.Hash, es.Credentials.Data)
			return err
		}},
		{"credentials-json", func() error { _, err := ParseCredentials(plain); return err }},
		{"elements", func() error { _, err := creds.Open(es.Elements); return err }},
		{"botapi-json", func() error { _, err := ParseBotAPI(raw); return err }},
	}
	for _, p := range parts {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, cpuOK := testkit.ThreadCPU()
			for b.Loop() {
				if err := p.run(); err != nil {
					b.Fatal(err)
				}
			}
			if c1, _ := testkit.ThreadCPU(); cpuOK {
				b.ReportMetric(float64((c1-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkRSA is one bare RSA-2048 OAEP-SHA1 decryption of the sample's
// credentials secret on each backend (compare with openssl speed rsa2048).
func BenchmarkRSA(b *testing.B) {
	f, priv := loadPTB(b)
	es, err := ParseBotAPI(f.PassportData)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range benchKeys(b, priv) {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecryptCredentialsSecret(k.key, es.Credentials.Secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
