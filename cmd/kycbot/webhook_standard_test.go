package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
)

// With delivery.signature standard (or both), kycbot webhook send signs
// its sample as the bot signs its events, and kycbot webhook verify checks
// the Standard Webhooks headers of a request as received.
func TestWebhookStandardScheme(t *testing.T) {
	clearSecretEnv(t)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("kycbot cli standard webhooks key"))
	key, err := config.StandardKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{config.SignatureStandard, config.SignatureBoth} {
		t.Run(scheme, func(t *testing.T) {
			cfg := writeConfig(t, "levels: {full: {scope: [pd, idd, pn]}}\ndelivery:\n  webhook_secret: "+secret+"\n  signature: "+scheme+"\n")
			// The receiver keeps the request as it came.
			var got http.Header
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				body, _ = io.ReadAll(r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			if r := runCLI(t, nil, "webhook", "send", "--config", cfg, "--url", srv.URL); r.code != exitOK {
				t.Fatalf("send: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			id, ts, sig := got.Get(delivery.StandardIDHeader), got.Get(delivery.StandardTimestampHeader), got.Get(delivery.StandardSignatureHeader)
			if err := delivery.VerifyStandard(key, id, ts, sig, body, time.Now(), 0); err != nil {
				t.Fatalf("the sample's Standard Webhooks headers do not verify: %v (headers %v)", err, got)
			}
			if has := got.Get(delivery.SignatureHeader) != ""; has != (scheme == config.SignatureBoth) {
				t.Errorf("X-Kycbot-Signature present %v under delivery.signature %s", has, scheme)
			}

			bodyFile := writeTemp(t, "body.json", body)
			std := []string{"--webhook-id", id, "--webhook-timestamp", ts, "--webhook-signature", sig}
			verify := func(args ...string) result {
				return runCLI(t, nil, append([]string{"webhook", "verify", "--config", cfg}, args...)...)
			}
			r := verify(append([]string{"--body", bodyFile}, std...)...)
			if r.code != exitOK || !strings.Contains(r.stdout, "Signature good: signed ") || !strings.Contains(r.stdout, "Event "+id) {
				t.Fatalf("verify of the request as received: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if scheme == config.SignatureBoth {
				if r := verify("--body", bodyFile, "--signature", got.Get(delivery.SignatureHeader)); r.code != exitOK {
					t.Errorf("verify of X-Kycbot-Signature under both: exit %d, stderr %q", r.code, r.stderr)
				}
			}

			tampered := strings.Replace(string(body), `"verification.verified"`, `"verification.rejected"`, 1)
			other := writeConfig(t, "levels: {full: {scope: [pd]}}\ndelivery:\n  webhook_secret: "+strings.Repeat("k", 40)+"\n")
			tests := []struct {
				name string
				args []string
				code int
				want string
			}{
				{"tampered body", append([]string{"--body", writeTemp(t, "t.json", []byte(tampered))}, std...), exitFailure,
					"bad signature: it does not match this body with this secret; check that the secret is the bot's whsec_ delivery.webhook_secret"},
				{"body saved with a line break", append([]string{"--body", writeTemp(t, "n.json", append(append([]byte{}, body...), '\n'))}, std...), exitFailure,
					"the body file ends with a line break"},
				{"another event's webhook-id", []string{"--body", bodyFile, "--webhook-id", "evt_00000000000000000000000000000000",
					"--webhook-timestamp", ts, "--webhook-signature", sig}, exitFailure, "bad signature"},
				{"malformed signature", []string{"--body", bodyFile, "--webhook-id", id, "--webhook-timestamp", ts, "--webhook-signature", "v1,???"}, exitFailure,
					"such as 'v1,<base64>'"},
				{"old timestamp", []string{"--body", bodyFile, "--webhook-id", id, "--webhook-timestamp", "1700000000", "--webhook-signature", sig}, exitFailure,
					"bad signature"},
				{"two of the three headers", []string{"--body", bodyFile, "--webhook-id", id, "--webhook-signature", sig}, exitUsage,
					"--webhook-id, --webhook-timestamp and --webhook-signature go together"},
				{"both schemes at once", append([]string{"--body", bodyFile, "--signature", "t=1,v1=00"}, std...), exitUsage, "not both"},
				{"--event-id with the standard headers", append([]string{"--body", bodyFile, "--event-id", id}, std...), exitUsage, "--webhook-id is the event ID"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := verify(tt.args...)
					if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
						t.Errorf("exit %d, stderr %q; want exit %d saying %q", r.code, r.stderr, tt.code, tt.want)
					}
				})
			}
			// A secret that is not whsec_ cannot have signed them.
			r = runCLI(t, nil, append([]string{"webhook", "verify", "--config", other, "--body", bodyFile}, std...)...)
			if r.code != exitFailure || !strings.Contains(r.stderr, "is not a Standard Webhooks secret") {
				t.Errorf("verify with a secret that is not whsec_: exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}
