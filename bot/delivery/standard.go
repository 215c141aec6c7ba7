package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/config"
)

// Headers of Standard Webhooks (https://www.standardwebhooks.com), sent
// when config delivery.signature is standard or both.
const (
	// StandardIDHeader carries the event ID (Event.EventID).
	StandardIDHeader = "webhook-id"
	// StandardTimestampHeader carries the time of the attempt, in Unix
	// seconds.
	StandardTimestampHeader = "webhook-timestamp"
	// StandardSignatureHeader carries "v1,<base64 HMAC-SHA256>" per key,
	// separated by spaces.
	StandardSignatureHeader = "webhook-signature"
)

// SignStandard returns the webhook-signature value of body sent as event
// id at t: "v1," and the standard base64 of HMAC-SHA256(key,
// "<id>.<unix seconds>.<body>") for each key (the current one, then the
// one before a rotation), separated by spaces. Keys are the decoded
// whsec_ secrets (config.StandardKey).
func SignStandard(keys [][]byte, id string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	sigs := make([]string, 0, len(keys))
	for _, k := range keys {
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(standardMAC(k, id, ts, body)))
	}
	return strings.Join(sigs, " ")
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// SetStandardHeaders adds the Standard Webhooks headers of body, the
// event id sent at t, to req, signed with keys (SignStandard).
func SetStandardHeaders(req *http.Request, keys [][]byte, id string, t time.Time, body []byte) {
	req.Header.Set(StandardIDHeader, id)
	req.Header.Set(StandardTimestampHeader, strconv.FormatInt(t.Unix(), 10))
	req.Header.Set(StandardSignatureHeader, SignStandard(keys, id, t, body))
}

// VerifyStandard checks the Standard Webhooks headers of a request
// (webhook-id, webhook-timestamp, webhook-signature) against body and
// key (config.StandardKey of the whsec_ secret): one v1 signature must
// match, compared in constant time, and the timestamp be within
// tolerance of now (DefaultTolerance when 0 or less). Pass the body
// exactly as received. The error wraps ErrNoSignature,
// ErrMalformedSignature, ErrSignatureMismatch, ErrSignatureTooOld or
// ErrSignatureFromFuture.
func VerifyStandard(key []byte, id, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if strings.TrimSpace(signature) == "" || id == "" || timestamp == "" {
		return fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are all needed", ErrNoSignature)
	}
	if len(signature) > maxSignatureHeader || len(id) > 256 {
		return fmt.Errorf("%w: header too long", ErrMalformedSignature)
	}
	if !isTimestamp(timestamp) {
		return fmt.Errorf("%w: webhook-timestamp must be unix seconds (1 to 18 decimal digits)", ErrMalformedSignature)
	}
	want := standardMAC(key, id, timestamp, body)
	matched, seen := false, 0
	for part := range strings.FieldsSeq(signature) {
		v, sig, ok := strings.Cut(part, ",")
		if !ok || v != "v1" {
			continue // other versions (v1a: asymmetric) are not ours
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w: a v1 signature must be the base64 of 32 bytes", ErrMalformedSignature)
		}
		seen++
		matched = hmac.Equal(want, b) || matched
	}
	if seen == 0 {
		return fmt.Errorf("%w: no v1 signature", ErrMalformedSignature)
	}
	if !matched {
		return fmt.Errorf("%w: check the whsec_ secret and that the body is passed as received", ErrSignatureMismatch)
	}
	return checkTime(timestamp, now, tolerance)
}

// Signer signs webhook requests as config delivery.signature says: the
// X-Kycbot-Signature header (config.SignatureKycbot), the Standard
// Webhooks headers (config.SignatureStandard), or both
// (config.SignatureBoth). The Sender and `kycbot webhook send` sign with
// it, so that a sample event is signed exactly as the bot's events.
type Signer struct {
	scheme   string
	secret   []byte
	previous [][]byte
	standard [][]byte // the Standard Webhooks keys, when they sign
}

// NewSigner returns the Signer of scheme ("" is config.SignatureKycbot)
// with the webhook secret and, during a rotation, the previous one
// (empty when there is none): requests then carry a signature under each.
// For the Standard Webhooks schemes the secrets must be whsec_ secrets
// (config.StandardKey); the error says which is not.
func NewSigner(scheme string, secret, previous []byte) (*Signer, error) {
	s := &Signer{scheme: scheme, secret: secret}
	if len(previous) > 0 {
		s.previous = [][]byte{previous}
	}
	switch scheme {
	case "", config.SignatureKycbot:
		s.scheme = config.SignatureKycbot
	case config.SignatureStandard, config.SignatureBoth:
		for _, sec := range [][]byte{secret, previous} {
			if len(sec) == 0 {
				continue
			}
			k, err := config.StandardKey(string(sec))
			if err != nil {
				return nil, fmt.Errorf("a secret %s", err.Error())
			}
			s.standard = append(s.standard, k)
		}
	default:
		return nil, fmt.Errorf("Signature %q is not %s, %s or %s", scheme, config.SignatureKycbot, config.SignatureStandard, config.SignatureBoth)
	}
	return s, nil
}

// Request returns the POST of body, the event eventID, to webhookURL,
// signed at t with the Signer's scheme (NewRequest's headers, then the
// Standard Webhooks ones; X-Kycbot-Signature is left out under
// config.SignatureStandard).
func (s *Signer) Request(ctx context.Context, webhookURL, eventID string, body []byte, t time.Time) (*http.Request, error) {
	req, err := NewRequest(ctx, webhookURL, s.secret, eventID, body, t, s.previous...)
	if err != nil {
		return nil, err
	}
	if len(s.standard) > 0 {
		SetStandardHeaders(req, s.standard, eventID, t, body)
		if s.scheme == config.SignatureStandard {
			req.Header.Del(SignatureHeader)
		}
	}
	return req, nil
}
