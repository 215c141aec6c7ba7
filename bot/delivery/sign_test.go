package delivery

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("webhook secret for tests, 32+ bytes long")
	testBody   = []byte(`{"schema":1,"event_id":"evt_0123","kind":"verification.verified"}`)
	testNow    = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
)

func TestSignFormat(t *testing.T) {
	got := Sign([]byte("secret"), time.Unix(1700000000, 0), []byte("body"))
	// printf '1700000000.body' | openssl dgst -sha256 -hmac secret
	want := "t=1700000000,v1=42ac6f0448c1d9c3e1e82b9726248f58fef84afffcbad5188246e96070e0ea46"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	good := Sign(testSecret, testNow, testBody)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	v1 := strings.TrimPrefix(good, "t="+ts+",v1=")
	other := Sign([]byte("another secret, also 32 bytes long!!"), testNow, testBody)
	otherV1 := other[strings.Index(other, "v1=")+3:]
	const tol = 5 * time.Minute
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"good", good, testBody, testNow, tol, nil},
		{"good, default tolerance", good, testBody, testNow.Add(4 * time.Minute), 0, nil},
		{"good, spaces", " t=" + ts + " , v1=" + v1 + " ", testBody, testNow, tol, nil},
		{"good, upper-case hex", "t=" + ts + ",v1=" + strings.ToUpper(v1), testBody, testNow, tol, nil},
		{"good, v1 first", "v1=" + v1 + ",t=" + ts, testBody, testNow, tol, nil},
		{"good among several v1", "t=" + ts + ",v1=" + otherV1 + ",v1=" + v1, testBody, testNow, tol, nil},
		{"good, unknown key ignored", "t=" + ts + ",v0=zz,v1=" + v1 + ",v2=abc", testBody, testNow, tol, nil},
		{"good, at the tolerance", good, testBody, testNow.Add(tol), tol, nil},
		{"missing", "", testBody, testNow, tol, ErrNoSignature},
		{"blank", "   ", testBody, testNow, tol, ErrNoSignature},
		{"other secret", other, testBody, testNow, tol, ErrSignatureMismatch},
		{"body changed", good, append([]byte(" "), testBody...), testNow, tol, ErrSignatureMismatch},
		{"time changed", "t=" + strconv.FormatInt(testNow.Unix()+1, 10) + ",v1=" + v1, testBody, testNow, tol, ErrSignatureMismatch},
		{"too old", good, testBody, testNow.Add(tol + time.Second), tol, ErrSignatureTooOld},
		{"too old, default tolerance", good, testBody, testNow.Add(DefaultTolerance + time.Second), 0, ErrSignatureTooOld},
		{"from the future", good, testBody, testNow.Add(-tol - time.Second), tol, ErrSignatureFromFuture},
		{"far future", "t=999999999999999999,v1=" + hex.EncodeToString(mac(testSecret, "999999999999999999", testBody)), testBody, testNow, tol, ErrSignatureFromFuture},
		{"epoch", "t=0,v1=" + hex.EncodeToString(mac(testSecret, "0", testBody)), testBody, testNow, tol, ErrSignatureTooOld},
		{"too old and another secret", other, testBody, testNow.Add(tol + time.Second), tol, ErrSignatureMismatch},
		{"no t", "v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"no v1", "t=" + ts, testBody, testNow, tol, ErrMalformedSignature},
		{"two t", "t=" + ts + ",t=" + ts + ",v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"t not a number", "t=abc,v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"negative t", "t=-5,v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"t too long", "t=1234567890123456789,v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"empty t", "t=,v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"v1 short", "t=" + ts + ",v1=" + v1[:62], testBody, testNow, tol, ErrMalformedSignature},
		{"v1 not hex", "t=" + ts + ",v1=" + strings.Repeat("g", 64), testBody, testNow, tol, ErrMalformedSignature},
		{"no equals", "t" + ts + ",v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"semicolons", "t=" + ts + ";v1=" + v1, testBody, testNow, tol, ErrMalformedSignature},
		{"trailing comma", good + ",", testBody, testNow, tol, ErrMalformedSignature},
		{"huge", good + "," + strings.Repeat("x=y,", 2000) + "x=y", testBody, testNow, tol, ErrMalformedSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(testSecret, tc.header, tc.body, tc.now, tc.tol)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			for _, s := range []error{ErrNoSignature, ErrMalformedSignature, ErrSignatureTooOld, ErrSignatureFromFuture, ErrSignatureMismatch} {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("Verify error %v also matches %v", err, s)
				}
			}
			if strings.Contains(err.Error(), v1) || strings.Contains(err.Error(), string(testSecret)) {
				t.Errorf("error %q shows the signature or the secret", err)
			}
		})
	}
}

// FuzzVerify feeds arbitrary headers to the parser: no panic, only the
// documented errors, and a header Sign made for the body always verifies.
// Seeds are in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(Sign(testSecret, testNow, testBody), testBody, int64(0))
	f.Add("t=1,v1=00", []byte("x"), int64(-3))
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		// Within 50 years of testNow: signers live after 1970.
		now := testNow.Add(time.Duration(skew%(50*365*86400)) * time.Second)
		err := Verify(testSecret, header, body, now, time.Minute)
		if err != nil {
			known := 0
			for _, s := range []error{ErrNoSignature, ErrMalformedSignature, ErrSignatureTooOld, ErrSignatureFromFuture, ErrSignatureMismatch} {
				if errors.Is(err, s) {
					known++
				}
			}
			if known != 1 {
				t.Fatalf("Verify(%q): %v wraps %d of the sentinel errors, want 1", header, err, known)
			}
		} else if !strings.Contains(header, "v1=") || !strings.Contains(header, "t=") {
			t.Fatalf("Verify(%q) accepted a header without t and v1", header)
		}
		if err := Verify(testSecret, Sign(testSecret, now, body), body, now, time.Minute); err != nil {
			t.Fatalf("Verify of a fresh signature: %v", err)
		}
	})
}

func BenchmarkSignVerify(b *testing.B) {
	body := make([]byte, 4<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		h := Sign(testSecret, testNow, body)
		if err := Verify(testSecret, h, body, testNow, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// During a webhook secret rotation the sender signs under both secrets:
// a receiver checking either accepts the request, one checking a third
// secret does not.
func TestSignRotation(t *testing.T) {
	oldSecret := []byte("the webhook secret before, 32 bytes +")
	newSecret := []byte("the webhook secret after, 32 bytes ++")
	header := Sign(newSecret, testNow, testBody, oldSecret)
	if n := strings.Count(header, "v1="); n != 2 {
		t.Fatalf("Sign with a previous secret = %q: %d v1 signatures, want 2", header, n)
	}
	if !strings.HasPrefix(header, Sign(newSecret, testNow, testBody)+",") {
		t.Errorf("Sign = %q does not start with the new secret's signature", header)
	}
	for _, tc := range []struct {
		name   string
		secret []byte
		want   error
	}{
		{"receiver on the new secret", newSecret, nil},
		{"receiver on the old secret", oldSecret, nil},
		{"receiver on another secret", []byte("some other secret of 32 bytes or more"), ErrSignatureMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.secret, header, testBody, testNow, time.Minute); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
