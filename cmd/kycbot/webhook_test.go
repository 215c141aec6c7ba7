package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// webhookSecretValue is the secret of the webhook tests; it must never
// show in any output.
const webhookSecretValue = "webhook-SECRET-for-cli-tests-0123456789"

// webhookPersonal is in the events of the verify tests and must never show.
var webhookPersonal = []string{"Johanna", "Musterfrau", "4915550001234", "johanna@example.org", "crm-REF-42"}

func webhookConfig(t *testing.T, extra string) string {
	t.Helper()
	return writeConfig(t, "levels: {full: {scope: [pd, idd, pn]}}\ndelivery:\n  webhook_secret: "+webhookSecretValue+"\n"+extra)
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// personalEvent returns the JSON of a verified event with personal data.
func personalEvent(t *testing.T) (delivery.Event, []byte) {
	t.Helper()
	ev, err := delivery.FromVerified(context.Background(), bot.Verified{
		UserID: 424242, Level: "full", Ref: "crm-REF-42", At: time.Now(), NonceHash: "ab",
		Submission: &passport.Submission{Elements: []passport.Element{
			{Type: passport.TypePersonalDetails, Fields: map[string]string{"first_name": "Johanna", "last_name": "Musterfrau"}},
			{Type: passport.TypePhoneNumber, PhoneNumber: "4915550001234"},
			{Type: passport.TypeEmail, Email: "johanna@example.org"},
		}},
	}, delivery.Include{Data: true})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return ev, body
}

// noLeaks fails when r's output shows the secret or personal data.
func noLeaks(t *testing.T, r result, also ...string) {
	t.Helper()
	for _, s := range append(append([]string{webhookSecretValue, "for-cli-tests"}, webhookPersonal...), also...) {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output shows %q:\nstdout %s\nstderr %s", s, r.stdout, r.stderr)
		}
	}
}

func TestWebhookVerify(t *testing.T) {
	clearSecretEnv(t)
	t.Setenv("KYCBOT_TEST_WEBHOOK_SECRET", webhookSecretValue)
	t.Setenv("KYCBOT_TEST_OTHER_SECRET", "another-SECRET-also-long-enough-0123456789")
	secret := []byte(webhookSecretValue)
	now := time.Now()
	cfg := webhookConfig(t, "")
	noSecretCfg := writeConfig(t, "levels: {full: {scope: [pd]}}\n")

	ev, body := personalEvent(t)
	bodyFile := writeTemp(t, "body.json", body)
	sig := delivery.Sign(secret, now, body)
	oldSig := delivery.Sign(secret, now.Add(-10*time.Minute), body)
	futureSig := delivery.Sign(secret, now.Add(10*time.Minute), body)
	altered := writeTemp(t, "altered.json", []byte(strings.Replace(string(body), `"user_id":424242`, `"user_id":424243`, 1)))
	newline := writeTemp(t, "newline.json", append(append([]byte(nil), body...), '\n'))
	signed := func(name, content string) (file, signature string) {
		return writeTemp(t, name, []byte(content)), delivery.Sign(secret, now, []byte(content))
	}
	notJSON, notJSONSig := signed("not.json", "event: yes")
	array, arraySig := signed("array.json", `[1, 2]`)
	hello, helloSig := signed("hello.json", `{"hello":"world"}`)
	schema2, schema2Sig := signed("schema2.json", strings.Replace(string(body), `"schema":3`, `"schema":2`, 1))
	schema4, schema4Sig := signed("schema4.json", strings.Replace(string(body), `"schema":3`, `"schema":4`, 1))
	wrongDecision, wrongDecisionSig := signed("decision.json", strings.Replace(string(body), `"decision":"verified"`, `"decision":"rejected"`, 1))
	badType, badTypeSig := signed("type.json", strings.Replace(string(body), `"user_id":424242`, `"user_id":"424242"`, 1))
	badTime, badTimeSig := signed("time.json", strings.Replace(string(body), ev.Time.Format(time.RFC3339), "yesterday", 1))
	rej, err := json.Marshal(delivery.FromRejected(bot.Rejected{UserID: 7, Level: "full", Ref: "crm-REF-42", At: now, NonceHash: "cd",
		Problems: []verify.Problem{{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: verify.CodeTooYoung, Final: true}}}))
	if err != nil {
		t.Fatal(err)
	}
	rejected, rejectedSig := signed("rejected.json", string(rej))

	base := []string{"webhook", "verify", "--config", cfg, "--body", bodyFile}
	eventOut := []string{
		"Event " + ev.EventID + "\n",
		"kind:     verification.verified (decision verified)",
		"schema:   3",
		"user ID:  424242",
		"level:    full",
		"time:     " + ev.Time.Format(time.RFC3339),
		"data:     3 elements (not shown)",
		"files:    none",
	}
	goodOut := append([]string{"Signature good: signed " + time.Unix(now.Unix(), 0).UTC().Format(time.RFC3339)}, eventOut...)
	tests := []struct {
		name  string
		args  []string
		stdin string
		env   string // KYCBOT_WEBHOOK_SECRET
		code  int
		want  []string // on stdout when code is 0, else in the one line on stderr
	}{
		{name: "good, secret from the config", args: append(base, "--signature", sig), want: append(goodOut, "s ago, tolerance 5m0s).")},
		{name: "good, secret from the environment, body on stdin",
			args: []string{"webhook", "verify", "--secret-env", "KYCBOT_TEST_WEBHOOK_SECRET", "--body", "-", "--signature", sig}, stdin: string(body), want: goodOut},
		{name: "good, KYCBOT_WEBHOOK_SECRET replaces the config's", args: []string{"webhook", "verify", "--config", noSecretCfg, "--body", bodyFile, "--signature", sig},
			env: webhookSecretValue, want: goodOut},
		{name: "good, header line pasted whole", args: append(base, "--signature", "X-Kycbot-Signature: "+sig), want: goodOut},
		{name: "good, event ID header matches", args: append(base, "--signature", sig, "--event-id", ev.EventID), want: goodOut},
		{name: "good, old request with --tolerance 0", args: append(base, "--signature", oldSig, "--tolerance", "0"),
			want: append(eventOut, "Signature good: signed "+time.Unix(now.Unix()-600, 0).UTC().Format(time.RFC3339)+" (time not checked: --tolerance 0).")},
		{name: "good, old request within a wider tolerance", args: append(base, "--signature", oldSig, "--tolerance", "1h"), want: append(eventOut, "s ago, tolerance 1h0m0s)")},
		{name: "good, a clock a little behind", args: append(base, "--signature", delivery.Sign(secret, now.Add(2*time.Minute), body)),
			want: append(eventOut, "s ahead of this clock, tolerance 5m0s).")},
		{name: "rejected event", args: []string{"webhook", "verify", "--config", cfg, "--body", rejected, "--signature", rejectedSig}, want: []string{"verification.rejected (decision rejected)", "problems: personal_details data.birth_date too_young", "data:     none"}},

		{name: "wrong secret", args: []string{"webhook", "verify", "--secret-env", "KYCBOT_TEST_OTHER_SECRET", "--body", bodyFile, "--signature", sig},
			code: exitFailure, want: []string{"kycbot webhook verify: bad signature:", "delivery.webhook_secret", "exact bytes received"}},
		{name: "altered body", args: []string{"webhook", "verify", "--config", cfg, "--body", altered, "--signature", sig},
			code: exitFailure, want: []string{"bad signature: it does not match this body with this secret"}},
		{name: "body saved with a line break", args: []string{"webhook", "verify", "--config", cfg, "--body", newline, "--signature", sig},
			code: exitFailure, want: []string{"bad signature: the body file ends with a line break"}},
		{name: "old timestamp", args: append(base, "--signature", oldSig),
			code: exitFailure, want: []string{"signature too old: signed 60", "s ago, tolerance 5m0s; a replayed request, or a clock behind", "add --tolerance 0"}},
		{name: "old timestamp, shorter tolerance", args: append(base, "--signature", delivery.Sign(secret, now.Add(-2*time.Minute), body), "--tolerance", "1m"),
			code: exitFailure, want: []string{"signature too old", "tolerance 1m0s"}},
		{name: "timestamp from the future", args: append(base, "--signature", futureSig),
			code: exitFailure, want: []string{"signature time ahead of this clock", "NTP"}},
		{name: "malformed header", args: append(base, "--signature", strings.Replace(sig, ",", ";", 1)),
			code: exitFailure, want: []string{"malformed signature header: t must be unix seconds", "pass the whole X-Kycbot-Signature value"}},
		{name: "header without v1", args: append(base, "--signature", sig[:strings.Index(sig, ",")]),
			code: exitFailure, want: []string{"malformed signature header: no v1 signature"}},
		{name: "empty header", args: append(base, "--signature", ""),
			code: exitFailure, want: []string{"malformed signature header: --signature is empty"}},
		{name: "body not JSON", args: []string{"webhook", "verify", "--config", cfg, "--body", notJSON, "--signature", notJSONSig},
			code: exitFailure, want: []string{"the signature is good, but the body is not a kycbot event: not JSON (error at byte 1)"}},
		{name: "body a JSON array", args: []string{"webhook", "verify", "--config", cfg, "--body", array, "--signature", arraySig},
			code: exitFailure, want: []string{"not a kycbot event: a JSON array, not an object"}},
		{name: "body JSON but not an event", args: []string{"webhook", "verify", "--config", cfg, "--body", hello, "--signature", helloSig},
			code: exitFailure, want: []string{"not a kycbot event: schema is 0, want 3, 2 or 1"}},
		{name: "body of schema 2 (queued by an older kycbot)", args: []string{"webhook", "verify", "--config", cfg, "--body", schema2, "--signature", schema2Sig},
			want: []string{"schema:   2", "kind:     verification.verified"}},
		{name: "body of a newer schema", args: []string{"webhook", "verify", "--config", cfg, "--body", schema4, "--signature", schema4Sig},
			code: exitFailure, want: []string{"not a kycbot event: schema is 4, want 3, 2 or 1"}},
		{name: "body with a field of the wrong type", args: []string{"webhook", "verify", "--config", cfg, "--body", badType, "--signature", badTypeSig},
			code: exitFailure, want: []string{"not a kycbot event: user_id is a JSON string, not a number"}},
		{name: "body with a bad time", args: []string{"webhook", "verify", "--config", cfg, "--body", badTime, "--signature", badTimeSig},
			code: exitFailure, want: []string{"not a kycbot event: a time is not in RFC 3339 form"}},
		{name: "decision not of the kind", args: []string{"webhook", "verify", "--config", cfg, "--body", wrongDecision, "--signature", wrongDecisionSig},
			code: exitFailure, want: []string{`not a kycbot event: decision "rejected" does not go with kind verification.verified`}},
		{name: "event ID header differs", args: append(base, "--signature", sig, "--event-id", "evt_00000000000000000000000000000000"),
			code: exitFailure, want: []string{`X-Kycbot-Event-Id "evt_00000000000000000000000000000000" (--event-id) is not the body's event_id ` + ev.EventID}},
		{name: "body file missing", args: []string{"webhook", "verify", "--config", cfg, "--body", filepath.Join(t.TempDir(), "nope.json"), "--signature", sig},
			code: exitFailure, want: []string{"the body:", "no such file"}},
		{name: "config without secret", args: []string{"webhook", "verify", "--config", noSecretCfg, "--body", bodyFile, "--signature", sig},
			code: exitFailure, want: []string{"sets no delivery.webhook_secret and KYCBOT_WEBHOOK_SECRET is not set"}},
		{name: "secret variable not set", args: []string{"webhook", "verify", "--secret-env", "KYCBOT_TEST_UNSET", "--body", bodyFile, "--signature", sig},
			code: exitFailure, want: []string{"the environment variable KYCBOT_TEST_UNSET is not set or empty"}},

		{name: "no secret", args: []string{"webhook", "verify", "--body", bodyFile, "--signature", sig},
			code: exitUsage, want: []string{"kycbot webhook verify: the secret is needed: --config FILE", "--secret-env VAR", "kycbot help webhook"}},
		{name: "two secrets", args: append(base, "--secret-env", "KYCBOT_TEST_WEBHOOK_SECRET", "--signature", sig),
			code: exitUsage, want: []string{"--config or --secret-env, not both"}},
		{name: "no body", args: []string{"webhook", "verify", "--config", cfg, "--signature", sig},
			code: exitUsage, want: []string{"--body FILE is required"}},
		{name: "no signature", args: base, code: exitUsage, want: []string{"--signature is required"}},
		{name: "negative tolerance", args: append(base, "--signature", sig, "--tolerance", "-1m"),
			code: exitUsage, want: []string{"--tolerance must not be negative"}},
		{name: "tolerance not a duration", args: append(base, "--signature", sig, "--tolerance", "5"),
			code: exitUsage, want: []string{"-tolerance", "kycbot help webhook"}},
		{name: "the secret as a flag", args: append(base, "--signature", sig, "--secret", webhookSecretValue),
			code: exitUsage, want: []string{"flag provided but not defined: -secret"}},
		{name: "positional argument", args: append(base, "--signature", sig, "extra"),
			code: exitUsage, want: []string{`unexpected argument "extra"`}},
		{name: "no subcommand", args: []string{"webhook"}, code: exitUsage, want: []string{"the subcommands are verify, send and resend"}},
		{name: "unknown subcommand", args: []string{"webhook", "check"}, code: exitUsage, want: []string{"the subcommands are verify, send and resend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KYCBOT_WEBHOOK_SECRET", tt.env)
			r := runCLI(t, strings.NewReader(tt.stdin), tt.args...)
			noLeaks(t, r)
			if tt.code != exitOK {
				wantOneLineError(t, r, tt.code, tt.want...)
				return
			}
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit status %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// hook is a webhook receiver for send: it records the requests and
// answers with status (and, for redirects, a Location).
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
}

func newHook(t *testing.T, status int) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, r)
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		if status >= 300 && status <= 399 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		if status >= 300 {
			_, _ = io.WriteString(w, "bad signature\n(from the test receiver)")
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests() ([]*http.Request, [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.got...), append([][]byte(nil), h.bodies...)
}

func TestWebhookSend(t *testing.T) {
	clearSecretEnv(t)
	cfg := webhookConfig(t, "")
	noData := webhookConfig(t, "  include_data: false\n")
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name     string
		status   int      // of the receiver; 0: no receiver
		args     []string // after "webhook send"; the receiver's URL is added when status > 0
		code     int
		want     []string // on stdout, or on stderr for usage errors and failures without an answer
		kind     string   // of the event received
		withData bool
	}{
		{name: "verified, accepted", status: http.StatusNoContent, args: []string{"--config", cfg},
			want: []string{"(verification.verified, user 1234567, level full, with the sample personal data)", "The receiver answered 204 No Content: accepted."},
			kind: delivery.KindVerified, withData: true},
		{name: "rejected, accepted", status: http.StatusOK, args: []string{"--config", cfg, "--kind", "rejected"},
			want: []string{"(verification.rejected, user 1234567, level full, without personal data)", "The receiver answered 200 OK: accepted."},
			kind: delivery.KindRejected},
		{name: "without data", status: http.StatusAccepted, args: []string{"--config", noData},
			want: []string{"without personal data", "202 Accepted: accepted."}, kind: delivery.KindVerified},
		{name: "wrong secret on the receiver", status: http.StatusUnauthorized, args: []string{"--config", cfg}, code: exitFailure,
			want: []string{"The receiver answered 401 Unauthorized: NOT accepted; check that the receiver uses the same webhook_secret",
				"Its answer began: bad signature; (from the test receiver)"}, kind: delivery.KindVerified, withData: true},
		{name: "receiver error", status: http.StatusInternalServerError, args: []string{"--config", cfg}, code: exitFailure,
			want: []string{"500 Internal Server Error: NOT accepted; the bot would count it as a failure and send it again later"}, kind: delivery.KindVerified, withData: true},
		{name: "redirect not followed", status: http.StatusFound, args: []string{"--config", cfg}, code: exitFailure,
			want: []string{"302 Found: NOT accepted; redirects are not followed"}, kind: delivery.KindVerified, withData: true},

		{name: "no receiver", args: []string{"--config", cfg, "--url", closedURL + "/kyc?token=URLTOKEN"}, code: exitFailure,
			want: []string{"kycbot webhook send: no answer from 127.0.0.1:", "connection refused"}},
		{name: "config without secret", args: []string{"--config", writeConfig(t, "levels: {a: {scope: [pd]}}\n"), "--url", "http://127.0.0.1:1/"},
			code: exitFailure, want: []string{"sets no delivery.webhook_secret"}},
		{name: "config missing", args: []string{"--config", filepath.Join(t.TempDir(), "nope.yaml"), "--url", "http://127.0.0.1:1/"},
			code: exitFailure, want: []string{"kycbot webhook send:", "no such file"}},
		{name: "no URL", args: []string{"--config", cfg}, code: exitUsage,
			want: []string{"kycbot webhook send: --url is required", "webhook_url is not used", "kycbot help webhook"}},
		{name: "relative URL", args: []string{"--config", cfg, "--url", "/kyc?token=URLTOKEN"}, code: exitUsage,
			want: []string{"--url must be an absolute http or https URL"}},
		{name: "ftp URL", args: []string{"--config", cfg, "--url", "ftp://backend.example.com/?token=URLTOKEN"}, code: exitUsage,
			want: []string{"--url must be an absolute http or https URL"}},
		{name: "bad kind", args: []string{"--config", cfg, "--url", "http://127.0.0.1:1/", "--kind", "approved"}, code: exitUsage,
			want: []string{`--kind is verified or rejected, not "approved"`}},
		{name: "positional argument", args: []string{"--config", cfg, "--url", "http://127.0.0.1:1/", "now"}, code: exitUsage,
			want: []string{`unexpected argument "now"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *hook
			args := append([]string{"webhook", "send"}, tt.args...)
			if tt.status > 0 {
				h = newHook(t, tt.status)
				args = append(args, "--url", h.srv.URL+"/kyc?token=URLTOKEN")
			}
			r := runCLI(t, nil, args...)
			noLeaks(t, r, "URLTOKEN", "Sample", "Person", "12025550100")
			if h == nil {
				wantOneLineError(t, r, tt.code, tt.want...)
				return
			}
			if r.code != tt.code || r.stderr != "" {
				t.Errorf("exit status %d, stderr %q; want %d and nothing", r.code, r.stderr, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			reqs, bodies := h.requests()
			if len(reqs) != 1 {
				t.Fatalf("the receiver got %d requests, want 1 (redirects not followed)", len(reqs))
			}
			req, body := reqs[0], bodies[0]
			if err := delivery.Verify([]byte(webhookSecretValue), req.Header.Get(delivery.SignatureHeader), body, time.Now(), time.Minute); err != nil {
				t.Errorf("signature: %v", err)
			}
			var ev delivery.Event
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			if req.Method != http.MethodPost || req.URL.Path != "/kyc" || req.Header.Get("Content-Type") != "application/json" ||
				req.Header.Get("User-Agent") != delivery.UserAgent || req.Header.Get(delivery.EventIDHeader) != ev.EventID {
				t.Errorf("request %s %s, headers %v", req.Method, req.URL.Path, req.Header)
			}
			if !strings.Contains(r.stdout, "Sent the sample event "+ev.EventID+" ") {
				t.Errorf("stdout does not name the event %s:\n%s", ev.EventID, r.stdout)
			}
			if ev.Kind != tt.kind || ev.Schema != delivery.Schema || ev.UserID != sampleUserID || ev.Level != "full" || ev.Ref != sampleRef {
				t.Errorf("event %+v", ev)
			}
			if tt.kind == delivery.KindRejected && (len(ev.Problems) != 1 || ev.Problems[0].Code != "too_young" || ev.Data != nil) {
				t.Errorf("rejected event: problems %v, data %v", ev.Problems, ev.Data != nil)
			}
			pd := ev.Data[passport.TypePersonalDetails]
			if hasData := ev.Data != nil; hasData != tt.withData ||
				(tt.withData && (pd["first_name"] != "Sample" || ev.Data[passport.TypePassport]["document_no"] != "SAMPLE0000" || len(ev.Data) != 3)) {
				t.Errorf("data %v, want data: %v", ev.Data, tt.withData)
			}
			if len(ev.Files) != 0 {
				t.Errorf("%d files in the sample", len(ev.Files))
			}

			// What send posted passes verify, as a receiver's test would
			// check it.
			v := runCLI(t, strings.NewReader(string(body)), "webhook", "verify", "--config", cfg, "--body", "-",
				"--signature", req.Header.Get(delivery.SignatureHeader), "--event-id", req.Header.Get(delivery.EventIDHeader))
			if v.code != exitOK || !strings.Contains(v.stdout, "Event "+ev.EventID) {
				t.Errorf("verify of what send posted: exit status %d, stdout %q, stderr %q", v.code, v.stdout, v.stderr)
			}
			noLeaks(t, v, "Sample", "Person", "12025550100")
		})
	}
}

// Every send is a new event.
func TestWebhookSendNewEventIDs(t *testing.T) {
	clearSecretEnv(t)
	cfg := webhookConfig(t, "")
	h := newHook(t, http.StatusNoContent)
	for range 2 {
		if r := runCLI(t, nil, "webhook", "send", "--config", cfg, "--url", h.srv.URL); r.code != exitOK {
			t.Fatalf("exit status %d, stderr %q", r.code, r.stderr)
		}
	}
	reqs, _ := h.requests()
	if len(reqs) != 2 || reqs[0].Header.Get(delivery.EventIDHeader) == reqs[1].Header.Get(delivery.EventIDHeader) {
		t.Errorf("%d requests; event IDs of two sends are equal", len(reqs))
	}
}

func TestWebhookHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "webhook"}, {"webhook", "-h"}, {"webhook", "verify", "-h"}, {"webhook", "send", "--help"}} {
		r := runCLI(t, nil, args...)
		if r.code != exitOK || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: kycbot webhook verify") ||
			!strings.Contains(r.stdout, "kycbot webhook send --url URL") || !strings.Contains(r.stdout, "0 skips that check") {
			t.Errorf("%q: exit status %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}
