package delivery

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerifyStandard(t *testing.T) {
	key, old := []byte("0123456789abcdef0123456789abcdef"), []byte("the key before the rotation.....")
	now := time.Unix(1773491445, 0)
	body := []byte(`{"hello":"world"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := SignStandard([][]byte{key, old}, "evt_1", now, body)
	tests := []struct {
		name        string
		key         []byte
		id, ts, sig string
		body        []byte
		at          time.Time
		want        error
	}{
		{"good", key, "evt_1", ts, sig, body, now, nil},
		{"the previous key", old, "evt_1", ts, sig, body, now, nil},
		{"another key", []byte("not the key"), "evt_1", ts, sig, body, now, ErrSignatureMismatch},
		{"another body", key, "evt_1", ts, sig, []byte(`{"hello":"World"}`), now, ErrSignatureMismatch},
		{"another id", key, "evt_2", ts, sig, body, now, ErrSignatureMismatch},
		{"too old", key, "evt_1", ts, sig, body, now.Add(6 * time.Minute), ErrSignatureTooOld},
		{"from the future", key, "evt_1", ts, sig, body, now.Add(-6 * time.Minute), ErrSignatureFromFuture},
		{"no signature", key, "evt_1", ts, "", body, now, ErrNoSignature},
		{"not base64", key, "evt_1", ts, "v1,@@@", body, now, ErrMalformedSignature},
		{"only other versions", key, "evt_1", ts, "v1a,abc", body, now, ErrMalformedSignature},
		{"a bad timestamp", key, "evt_1", "12a", sig, body, now, ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyStandard(tt.key, tt.id, tt.ts, tt.sig, tt.body, tt.at, 0)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifyStandard: %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzVerifyStandard(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1773491445, 0)
	f.Add("evt_1", "1773491445", SignStandard([][]byte{key}, "evt_1", now, []byte("{}")), []byte("{}"))
	f.Add("", "", "v1,", []byte(nil))
	f.Add("x", "1", "v1,AAAA v2,BBBB  v1,", []byte("a"))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := VerifyStandard(key, id, ts, sig, body, now, time.Hour)
		if err != nil {
			return // refusing is always allowed; it must not panic
		}
		want := SignStandard([][]byte{key}, id, time.Unix(mustInt(ts), 0), body)
		if !slices.Contains(strings.Fields(sig), want) {
			t.Fatalf("accepted %q for id %q, ts %q without the signature %q", sig, id, ts, want)
		}
	})
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
