package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	// SignatureHeader carries the signature: "t=<unix seconds>,v1=<hex
	// HMAC-SHA256(secret, "<t>." + body)>".
	SignatureHeader = "X-Kycbot-Signature"
	// EventIDHeader carries the event ID (Event.EventID), so that a
	// receiver can drop a duplicate before reading the body.
	EventIDHeader = "X-Kycbot-Event-Id"
	// UserAgent is the User-Agent of the requests.
	UserAgent = "kycbot/1"
)

// DefaultTolerance is how far from the receiver's clock a signature's
// time may be when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// maxSignatureHeader bounds the header Verify parses.
const maxSignatureHeader = 4096

// Errors of Verify; test with errors.Is. None of them holds the secret or
// the expected signature.
var (
	// ErrNoSignature: the signature header is missing or empty.
	ErrNoSignature = errors.New("delivery: no signature header")
	// ErrMalformedSignature: the header is not "t=<unix seconds>,v1=<64
	// hex digits>" (more v1 values, and other keys, are allowed).
	ErrMalformedSignature = errors.New("delivery: malformed signature header")
	// ErrSignatureTooOld: the signature's time is older than the
	// tolerance (a replay, or a clock far behind).
	ErrSignatureTooOld = errors.New("delivery: signature too old")
	// ErrSignatureFromFuture: the signature's time is ahead of the
	// receiver's clock by more than the tolerance.
	ErrSignatureFromFuture = errors.New("delivery: signature time in the future")
	// ErrSignatureMismatch: no v1 signature matches the body with this
	// secret (another secret, or a changed body or time).
	ErrSignatureMismatch = errors.New("delivery: signature mismatch")
)

// Sign returns the signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>", followed
// by one more v1 under each of previous (a webhook secret rotation), so
// that a receiver that checks either secret accepts the request.
func Sign(secret []byte, t time.Time, body []byte, previous ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body)))
	for _, p := range previous {
		b.WriteString(",v1=" + hex.EncodeToString(mac(p, ts, body)))
	}
	return b.String()
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header (the value of X-Kycbot-Signature) of
// body against secret: one of its v1 signatures must match, compared in
// constant time, and then its time must be within tolerance of now (a
// tolerance of 0 or less means DefaultTolerance); a request signed with
// another secret is a mismatch, however old. Pass the body exactly
// as received, before any JSON decoding. The header is a comma-separated
// list of key=value pairs: exactly one t, at least one v1 (several when
// the sender signs with more than one secret during a rotation), and
// keys Verify does not know, which it ignores.
//
// The error wraps ErrNoSignature, ErrMalformedSignature,
// ErrSignatureTooOld, ErrSignatureFromFuture or ErrSignatureMismatch.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	// The signature first: a request signed with another secret is
	// reported as such, however old it is.
	want := mac(secret, ts, body)
	ok := 0
	for _, s := range sigs {
		ok |= subtle.ConstantTimeCompare(want, s)
	}
	if ok == 0 {
		return fmt.Errorf("%w: check the webhook secret and that the body is passed as received", ErrSignatureMismatch)
	}
	return checkTime(ts, now, tolerance)
}

// checkTime checks a signature's time (unix seconds, checked digits)
// against now and tolerance.
func checkTime(ts string, now time.Time, tolerance time.Duration) error {
	t, _ := strconv.ParseInt(ts, 10, 64)
	signed := time.Unix(t, 0)
	switch {
	case signed.Before(now.Add(-tolerance)):
		return fmt.Errorf("%w: signed %ds ago, tolerance %v", ErrSignatureTooOld, now.Unix()-t, tolerance)
	case signed.After(now.Add(tolerance)):
		return fmt.Errorf("%w: signed %ds ahead of this clock, tolerance %v", ErrSignatureFromFuture, t-now.Unix(), tolerance)
	}
	return nil
}

// parseSignature splits a signature header into its time (decimal digits)
// and v1 signatures (32 bytes each).
func parseSignature(header string) (ts string, sigs [][]byte, err error) {
	if len(header) > maxSignatureHeader {
		return "", nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedSignature, maxSignatureHeader)
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: %q is not key=value", ErrMalformedSignature, clip(part))
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, fmt.Errorf("%w: more than one t", ErrMalformedSignature)
			}
			if !isTimestamp(v) {
				return "", nil, fmt.Errorf("%w: t must be unix seconds (1 to 18 decimal digits)", ErrMalformedSignature)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1 must be 64 hex digits", ErrMalformedSignature)
			}
			sigs = append(sigs, b)
		}
	}
	switch {
	case ts == "":
		return "", nil, fmt.Errorf("%w: no t", ErrMalformedSignature)
	case len(sigs) == 0:
		return "", nil, fmt.Errorf("%w: no v1 signature", ErrMalformedSignature)
	}
	return ts, sigs, nil
}

// isTimestamp accepts 1 to 18 decimal digits: any time a signer will use,
// and never an overflow.
func isTimestamp(s string) bool {
	if len(s) == 0 || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a piece of a header for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
