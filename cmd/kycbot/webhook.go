package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

const webhookUsage = `Usage: kycbot webhook verify (--config FILE | --secret-env VAR) --body FILE
                              (--signature VALUE [--event-id ID] |
                               --webhook-id ID --webhook-timestamp T --webhook-signature VALUE)
                              [--tolerance D]
       kycbot webhook send --url URL [--config FILE] [--kind verified|rejected]
       kycbot webhook resend [--config FILE] EVENT_ID

Helpers for testing the receiver of kycbot's webhook (docs/webhook.md).

verify checks a webhook request as a receiver must: the signature (the
X-Kycbot-Signature header, or with delivery.signature: standard the
Standard Webhooks headers) over the body exactly as received, with the
webhook secret, then that the body is a kycbot event. It prints the event's
ID, kind, decision, schema, user ID, level and time; never its personal
data. The secret is never taken from a flag value (flags show in process
lists and shell histories) and never printed.

  --config FILE      take the secret from this config's
                     delivery.webhook_secret (KYCBOT_WEBHOOK_SECRET, when
                     set, replaces it, as for the bot)
  --secret-env VAR   or take it from the environment variable VAR
  --body FILE        the request body as received; - reads stdin
  --signature VALUE  the X-Kycbot-Signature header as received, such as
                     't=1773491445,v1=bd67...' (quote it in the shell)
  --event-id ID      the X-Kycbot-Event-Id header, checked against the body
  --webhook-id ID, --webhook-timestamp T, --webhook-signature VALUE
                     instead of --signature: the three Standard Webhooks
                     headers as received (delivery.signature standard or
                     both; the secret is then the whsec_ one); webhook-id
                     is checked against the body's event_id
  --tolerance D      how far the signature's time may be from this
                     machine's clock (default 5m); 0 skips that check, to
                     check a recorded request later

send posts a sample event to URL exactly as the bot posts its events (the
same JSON, headers and signatures: the config's delivery.signature, under
its webhook_secret and previous_webhook_secret),
and prints the status code the receiver answered. The sample is made up: a
fixed user (ID 1234567, "Sample Person", example.com addresses), no real
person; each send has a new event ID. Its data follows
delivery.include_data and the default level's scope; it never has scans.

  --url URL          the receiver to test, http or https. Required: the
                     config's webhook_url is not used, so that a sample
                     never reaches production by mistake
  --config FILE      the config whose webhook_secret signs (default
                     config.yaml)
  --kind KIND        verified (default) or rejected

resend queues an event the bot sent (or tried to) for the webhook again: the
kept copy (delivery.keep_events, default 7d), sealed as it was, with the same
event_id; the running kycbot instances deliver it after the user's events
queued before it, with fresh scan links. It reads the config's redis section
and prints the event's ID, kind and user ID; never its data. Admins can do
the same in the chat with /kyc_resend EVENT_ID.

  --config FILE      the bot's config (default config.yaml)

Exit status: resend exits 0 once the event is queued, 1 when it is not kept
(unknown, older than keep_events, or its user erased) or Redis fails; verify exits 0 when the signature and the event are good, and
send when the receiver answered 2xx; both exit 1 otherwise, saying what was
wrong; 2 on bad flags.
`

// maxWebhookBody bounds the body verify reads: events with scans can be
// tens of megabytes.
const maxWebhookBody = 256 << 20

// eventIDPattern is the form of delivery.NewEventID's IDs.
var eventIDPattern = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)

func runWebhook(e *env, args []string) int {
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprint(e.stdout, webhookUsage)
		return exitOK
	}
	if len(args) > 0 {
		switch args[0] {
		case "verify":
			return runWebhookVerify(e, args[1:])
		case "send":
			return runWebhookSend(e, args[1:])
		case "resend":
			return runWebhookResend(e, args[1:])
		}
	}
	return e.usageError("webhook", "the subcommands are verify, send and resend: kycbot webhook verify|send|resend")
}

// webhookUsageError reports a usage problem of "kycbot webhook sub" and
// returns exitUsage.
func (e *env) webhookUsageError(sub, problem string) int {
	fmt.Fprintf(e.stderr, "kycbot webhook %s: %s; run 'kycbot help webhook' for usage\n", sub, oneLine(problem))
	return exitUsage
}

// parseWebhookFlags parses the flags of "kycbot webhook sub", as
// parseCommandFlags does for a command.
func (e *env) parseWebhookFlags(sub string, fs *flag.FlagSet, args []string) (code int, done bool) {
	positional, err := parseFlags(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, webhookUsage)
		return exitOK, true
	case err != nil:
		return e.webhookUsageError(sub, err.Error()), true
	case len(positional) > 0:
		return e.webhookUsageError(sub, fmt.Sprintf("unexpected argument %q", positional[0])), true
	}
	return exitOK, false
}

func runWebhookVerify(e *env, args []string) int {
	const sub, name = "verify", "webhook verify"
	flags := newFlagSet(name)
	file := flags.String("config", "", "")
	secretEnv := flags.String("secret-env", "", "")
	bodyFile := flags.String("body", "", "")
	signature := flags.String("signature", "", "")
	eventID := flags.String("event-id", "", "")
	stdID := flags.String("webhook-id", "", "")
	stdTime := flags.String("webhook-timestamp", "", "")
	stdSig := flags.String("webhook-signature", "", "")
	tolerance := flags.Duration("tolerance", delivery.DefaultTolerance, "")
	if code, done := e.parseWebhookFlags(sub, flags, args); done {
		return code
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["config"] && set["secret-env"]:
		return e.webhookUsageError(sub, "give the secret through --config or --secret-env, not both")
	case *file == "" && *secretEnv == "":
		return e.webhookUsageError(sub, "the secret is needed: --config FILE (its delivery.webhook_secret) or --secret-env VAR")
	case *bodyFile == "":
		return e.webhookUsageError(sub, "--body FILE is required: the request body as received (- reads stdin)")
	case set["signature"] && (set["webhook-id"] || set["webhook-timestamp"] || set["webhook-signature"]):
		return e.webhookUsageError(sub, "give --signature (X-Kycbot-Signature) or the Standard Webhooks headers (--webhook-id, --webhook-timestamp, --webhook-signature), not both")
	case !set["signature"] && !set["webhook-id"] && !set["webhook-timestamp"] && !set["webhook-signature"]:
		return e.webhookUsageError(sub, "--signature is required: the X-Kycbot-Signature header as received "+
			"(or, with delivery.signature: standard, --webhook-id, --webhook-timestamp and --webhook-signature)")
	case !set["signature"] && (!set["webhook-id"] || !set["webhook-timestamp"] || !set["webhook-signature"]):
		return e.webhookUsageError(sub, "--webhook-id, --webhook-timestamp and --webhook-signature go together: the three Standard Webhooks headers as received")
	case set["webhook-id"] && set["event-id"]:
		return e.webhookUsageError(sub, "--event-id is X-Kycbot-Event-Id, which goes with --signature; with the Standard Webhooks headers, --webhook-id is the event ID")
	case *tolerance < 0:
		return e.webhookUsageError(sub, "--tolerance must not be negative: use a duration such as 5m, or 0 to skip the time check")
	}
	secret, err := webhookSecret(*file, *secretEnv)
	if err != nil {
		return e.fail(name, err)
	}
	body, err := readBody(e, *bodyFile)
	if err != nil {
		return e.fail(name, err)
	}
	tol := *tolerance
	if tol == 0 {
		// Verify takes 0 for its default: the longest tolerance there is
		// lets any time since 1970 pass.
		tol = math.MaxInt64
	}
	now := time.Now()
	// check verifies a body against the headers given, in the scheme
	// they belong to; signed is the time they carry.
	var check func(body []byte) error
	var hints schemeHints
	var signed time.Time
	var timed bool
	idFlag, idHeader := *eventID, "X-Kycbot-Event-Id %.60q (--event-id)"
	if set["signature"] {
		header := signatureValue(*signature)
		check = func(b []byte) error { return delivery.Verify(secret, header, b, now, tol) }
		hints = kycbotHints
		signed, timed = signedAt(header)
	} else {
		key, err := config.StandardKey(string(secret))
		if err != nil {
			return e.fail(name, fmt.Errorf("the secret %w; the Standard Webhooks headers are signed with the whsec_ delivery.webhook_secret", err))
		}
		check = func(b []byte) error { return delivery.VerifyStandard(key, *stdID, *stdTime, *stdSig, b, now, tol) }
		hints = standardHints
		if sec, err := strconv.ParseInt(*stdTime, 10, 64); err == nil {
			signed, timed = time.Unix(sec, 0), true
		}
		idFlag, idHeader = *stdID, "webhook-id %.60q (--webhook-id)"
	}
	if err := check(body); err != nil {
		return e.fail(name, explainVerify(err, hints, body, check))
	}
	ev, err := parseEvent(body)
	if err != nil {
		return e.fail(name, fmt.Errorf("the signature is good, but the body is not a kycbot event: %w", err))
	}
	if idFlag != "" && idFlag != ev.EventID {
		return e.fail(name, fmt.Errorf("the signature is good, but the "+idHeader+" is not the body's event_id %s: pass the headers and body of one request", idFlag, ev.EventID))
	}
	printEvent(e, ev, signed, timed, now, *tolerance)
	return exitOK
}

// schemeHints are what explainVerify tells about the headers of one
// signature scheme.
type schemeHints struct {
	missing, malformed, secret string
}

var (
	kycbotHints = schemeHints{
		missing:   "--signature is empty; pass the X-Kycbot-Signature header as received",
		malformed: "pass the whole X-Kycbot-Signature value, such as 't=1773491445,v1=<64 hex digits>'",
		secret:    "the bot's delivery.webhook_secret",
	}
	standardHints = schemeHints{
		missing:   "pass the webhook-id, webhook-timestamp and webhook-signature headers as received",
		malformed: "pass the whole webhook-signature value, such as 'v1,<base64>', and webhook-timestamp in Unix seconds",
		secret:    "the bot's whsec_ delivery.webhook_secret",
	}
)

// webhookSecret reads the secret from the environment variable envVar,
// or else from the config file.
func webhookSecret(file, envVar string) ([]byte, error) {
	if envVar != "" {
		v, ok := os.LookupEnv(envVar)
		if !ok || v == "" {
			return nil, fmt.Errorf("the environment variable %.60s is not set or empty: export the webhook secret in it", envVar)
		}
		return []byte(v), nil
	}
	cfg, err := config.Load(file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return nil, err
	}
	return configSecret(cfg)
}

// configSecret returns the config's delivery.webhook_secret.
func configSecret(cfg *config.Config) ([]byte, error) {
	s := cfg.Delivery.WebhookSecret
	if !s.IsSet() {
		return nil, fmt.Errorf("%s sets no delivery.webhook_secret and %s is not set: set one to the webhook secret", cfg.File(), config.EnvWebhookSecret)
	}
	return []byte(s.Value()), nil
}

// readBody reads the body file, or stdin for "-".
func readBody(e *env, file string) ([]byte, error) {
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("the body: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, maxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if len(body) > maxWebhookBody {
		return nil, fmt.Errorf("the body is larger than %d MiB: is it the right file?", maxWebhookBody>>20)
	}
	return body, nil
}

// signatureValue takes the header's value out of a pasted
// "X-Kycbot-Signature: ..." line.
func signatureValue(s string) string {
	s = strings.TrimSpace(s)
	if name, v, ok := strings.Cut(s, ":"); ok && strings.EqualFold(strings.TrimSpace(name), delivery.SignatureHeader) {
		return strings.TrimSpace(v)
	}
	return s
}

// verifyError is an error of delivery.Verify explained for people.
type verifyError struct {
	msg string
	err error
}

func (v *verifyError) Error() string { return v.msg }
func (v *verifyError) Unwrap() error { return v.err }

// explainVerify turns an error of delivery.Verify or VerifyStandard into
// what was wrong and what to do; check verifies another body with the same
// headers. It never holds the secret nor the body.
func explainVerify(err error, h schemeHints, body []byte, check func([]byte) error) error {
	// detail is what err says beyond its sentinel, such as "no v1
	// signature" or "signed 600s ago, tolerance 5m0s".
	detail := func(sentinel error) string {
		d, _ := strings.CutPrefix(err.Error(), sentinel.Error())
		return strings.TrimPrefix(d, ": ")
	}
	var msg string
	switch {
	case errors.Is(err, delivery.ErrNoSignature):
		msg = "malformed signature header: " + h.missing
	case errors.Is(err, delivery.ErrMalformedSignature):
		msg = "malformed signature header: " + detail(delivery.ErrMalformedSignature) + "; " + h.malformed
	case errors.Is(err, delivery.ErrSignatureTooOld):
		msg = "signature too old: " + detail(delivery.ErrSignatureTooOld) +
			"; a replayed request, or a clock behind; to check a recorded request, add --tolerance 0"
	case errors.Is(err, delivery.ErrSignatureFromFuture):
		msg = "signature time ahead of this clock: " + detail(delivery.ErrSignatureFromFuture) +
			"; check the clocks (NTP) of the bot and of this machine, or add --tolerance 0"
	case errors.Is(err, delivery.ErrSignatureMismatch):
		msg = "bad signature: it does not match this body with this secret; check that the secret is " + h.secret +
			" and that the body holds the exact bytes received (not re-encoded JSON)"
		if trimmed := bytes.TrimRight(body, "\r\n"); len(trimmed) < len(body) && check(trimmed) == nil {
			msg = "bad signature: the body file ends with a line break the signed body does not have; " +
				"save the body exactly as received (printf '%s', not echo)"
		}
	default:
		return err
	}
	return &verifyError{msg: msg, err: err}
}

// parseEvent decodes body as an Event and checks that it is one.
func parseEvent(body []byte) (delivery.Event, error) {
	var ev delivery.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		var (
			syn *json.SyntaxError
			typ *json.UnmarshalTypeError
			tim *time.ParseError
		)
		switch {
		case errors.As(err, &syn):
			return ev, fmt.Errorf("not JSON (error at byte %d)", syn.Offset)
		case errors.As(err, &typ) && typ.Field == "":
			return ev, fmt.Errorf("a JSON %s, not an object", typ.Value)
		case errors.As(err, &typ):
			return ev, fmt.Errorf("%s is a JSON %s, not %s", typ.Field, typ.Value, jsonKind(typ.Type))
		case errors.As(err, &tim):
			return ev, errors.New("a time is not in RFC 3339 form, such as 2026-03-14T12:30:45Z")
		}
		// Other errors may quote the body: only their kind is told.
		return ev, errors.New("not a JSON object of an event")
	}
	var wantDecision string
	switch ev.Kind {
	case delivery.KindVerified:
		wantDecision = delivery.DecisionVerified
	case delivery.KindRejected:
		wantDecision = delivery.DecisionRejected
	}
	switch {
	case ev.Schema < 1 || ev.Schema > delivery.Schema: // 1 and 2: queued by an older kycbot (scans' bytes; DD.MM.YYYY dates)
		return ev, fmt.Errorf("schema is %d, want %d, 2 or 1 (an event has schema, event_id, kind, time, user_id, level, decision)", ev.Schema, delivery.Schema)
	case !eventIDPattern.MatchString(ev.EventID):
		return ev, errors.New(`event_id is not "evt_" and 32 hex digits`)
	case wantDecision == "":
		return ev, fmt.Errorf("kind %.40q is neither %s nor %s", ev.Kind, delivery.KindVerified, delivery.KindRejected)
	case ev.Decision != wantDecision:
		return ev, fmt.Errorf("decision %.20q does not go with kind %s (want %s)", ev.Decision, ev.Kind, wantDecision)
	case ev.UserID <= 0:
		return ev, errors.New("user_id is not a Telegram user ID")
	case ev.Time.IsZero():
		return ev, errors.New("time is missing")
	}
	return ev, nil
}

// jsonKind names the JSON values that decode into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

// printEvent prints what verify found: the signature's time and the
// event's outcome, never its data nor its ref.
func printEvent(e *env, ev delivery.Event, t time.Time, timed bool, now time.Time, tolerance time.Duration) {
	var b strings.Builder
	signed := "signed"
	if timed {
		signed = "signed " + t.UTC().Format(time.RFC3339)
		switch age := now.Sub(t).Round(time.Second); {
		case tolerance == 0:
			signed += " (time not checked: --tolerance 0)"
		case age >= 0:
			signed += fmt.Sprintf(" (%s ago, tolerance %s)", age, tolerance)
		default:
			signed += fmt.Sprintf(" (%s ahead of this clock, tolerance %s)", -age, tolerance)
		}
	}
	fmt.Fprintf(&b, "Signature good: %s.\n", signed)
	fmt.Fprintf(&b, "Event %s\n", ev.EventID)
	fmt.Fprintf(&b, "  kind:     %s (decision %s)\n", ev.Kind, ev.Decision)
	fmt.Fprintf(&b, "  schema:   %d\n", ev.Schema)
	fmt.Fprintf(&b, "  user ID:  %d\n", ev.UserID)
	fmt.Fprintf(&b, "  level:    %s\n", printable(ev.Level, 40))
	fmt.Fprintf(&b, "  time:     %s\n", ev.Time.UTC().Format(time.RFC3339))
	if len(ev.Problems) > 0 {
		codes := make([]string, len(ev.Problems))
		for i, p := range ev.Problems {
			codes[i] = printable(string(p.Element), 40) + " " + printable(p.Target, 40) + " " + printable(string(p.Code), 40)
		}
		fmt.Fprintf(&b, "  problems: %s\n", strings.Join(codes, "; "))
	}
	data, files := "none", "none"
	if n := len(ev.Data); n > 0 {
		data = fmt.Sprintf("%d elements (not shown)", n)
	}
	if n := len(ev.Files); n > 0 {
		files = fmt.Sprintf("%d (not shown)", n)
	}
	fmt.Fprintf(&b, "  data:     %s\n  files:    %s\n", data, files)
	fmt.Fprint(e.stdout, b.String())
}

// signedAt reads the time of a signature header Verify accepted.
func signedAt(header string) (time.Time, bool) {
	for part := range strings.SplitSeq(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return time.Unix(n, 0), true
			}
		}
	}
	return time.Time{}, false
}

// printable cuts s to n bytes and replaces what is not printable, for
// values of a body that the signature vouches for but a person may have
// typed wrong.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}

// Sample data of "webhook send": made up, of no real person; the phone
// number is in the range reserved for fiction (555-0100 to 555-0199).
const (
	sampleUserID = 1234567
	sampleRef    = "kycbot-webhook-sample"
)

func sampleFields(t passport.ElementType) map[string]string {
	switch {
	case t == passport.TypePersonalDetails:
		return map[string]string{
			"first_name": "Sample", "last_name": "Person", "birth_date": "01.01.1990", "gender": "female",
			"country_code": "DE", "residence_country_code": "DE",
		}
	case t == passport.TypeAddress:
		return map[string]string{
			"street_line1": "1 Sample Street", "city": "Sampletown", "post_code": "00000", "country_code": "DE",
		}
	case t.IsIdentityDocument():
		return map[string]string{"document_no": "SAMPLE0000", "expiry_date": "31.12.2035"}
	}
	return nil
}

// sampleSubmission holds sample data for every element the level asks for
// (the first type of a choice).
func sampleSubmission(scope passport.Scope) *passport.Submission {
	sub := &passport.Submission{}
	for _, el := range scope.Elements {
		if len(el.Types) == 0 {
			continue
		}
		e := passport.Element{Type: el.Types[0]}
		switch e.Type {
		case passport.TypePhoneNumber:
			e.PhoneNumber = "12025550100"
		case passport.TypeEmail:
			e.Email = "sample.person@example.com"
		default:
			e.Fields = sampleFields(e.Type)
		}
		sub.Elements = append(sub.Elements, e)
	}
	return sub
}

// sampleEvent builds the event of a made-up verified or rejected
// submission of the default level, as the bot's hooks build theirs.
func sampleEvent(e *env, cfg *config.Config, kind string, at time.Time) (delivery.Event, error) {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return delivery.Event{}, fmt.Errorf("random: %w", err)
	}
	sum := sha256.Sum256(nonce)
	nonceHash := hex.EncodeToString(sum[:])
	level := cfg.DefaultLevel()
	if kind == "rejected" {
		return delivery.FromRejected(bot.Rejected{
			UserID: sampleUserID, Level: level.Name, Ref: sampleRef, At: at, NonceHash: nonceHash,
			Problems: []verify.Problem{{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: verify.CodeTooYoung, Final: true}},
			Codes:    []string{string(verify.CodeTooYoung)},
		}), nil
	}
	return delivery.FromVerified(e.ctx, bot.Verified{
		UserID: sampleUserID, Level: level.Name, Ref: sampleRef, At: at, NonceHash: nonceHash,
		Submission: sampleSubmission(level.Scope),
	}, delivery.Include{Data: cfg.Delivery.IncludeData})
}

func runWebhookSend(e *env, args []string) int {
	const sub, name = "send", "webhook send"
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	target := flags.String("url", "", "")
	kind := flags.String("kind", "verified", "")
	if code, done := e.parseWebhookFlags(sub, flags, args); done {
		return code
	}
	u, err := url.Parse(*target)
	switch {
	case *target == "":
		return e.webhookUsageError(sub, "--url is required: the receiver to test, such as http://localhost:8000/kyc (the config's webhook_url is not used, so that a sample never reaches production by mistake)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return e.webhookUsageError(sub, "--url must be an absolute http or https URL, such as http://localhost:8000/kyc")
	case *kind != "verified" && *kind != "rejected":
		return e.webhookUsageError(sub, fmt.Sprintf("--kind is verified or rejected, not %.20q", *kind))
	case *file == "":
		return e.webhookUsageError(sub, "--config must name a file")
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail(name, err)
	}
	secret, err := configSecret(cfg)
	if err != nil {
		return e.fail(name, err)
	}
	now := time.Now()
	ev, err := sampleEvent(e, cfg, *kind, now)
	if err != nil {
		return e.fail(name, err)
	}
	body, err := json.Marshal(ev) // as Outbox.Add stores it
	if err != nil {
		return e.fail(name, fmt.Errorf("encode the sample event: %w", err))
	}
	// Signed as the bot's sender signs (delivery.signature), with the
	// previous secret too during a rotation (none when unset).
	signer, err := delivery.NewSigner(cfg.Delivery.Signature, secret, []byte(cfg.Delivery.PreviousWebhookSecret.Value()))
	if err != nil {
		return e.fail(name, fmt.Errorf("delivery.signature %s: %w", cfg.Delivery.Signature, err))
	}
	req, err := signer.Request(e.ctx, *target, ev.EventID, body, now)
	if err != nil {
		return e.fail(name, err)
	}
	// As the Sender's client: redirects are not followed (a signed body is
	// never forwarded), and the same timeout.
	client := &http.Client{
		Timeout:       delivery.DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error holds the URL, which may hold a token: only its cause
		// is shown.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return e.fail(name, fmt.Errorf("no answer from %s: %w", u.Host, err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	what := "with the sample personal data"
	if ev.Data == nil {
		what = "without personal data"
	}
	fmt.Fprintf(e.stdout, "Sent the sample event %s (%s, user %d, level %s, %s) to %s.\n", ev.EventID, ev.Kind, ev.UserID, ev.Level, what, u.Host)
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		fmt.Fprintf(e.stdout, "The receiver answered %s: accepted.\n", strings.TrimSpace(status))
		return exitOK
	}
	hint := "the bot would count it as a failure and send it again later"
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		hint = "redirects are not followed (a signed body is never forwarded): give the final URL"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint = "check that the receiver uses the same webhook_secret and verifies the raw body"
	}
	fmt.Fprintf(e.stdout, "The receiver answered %s: NOT accepted; %s.\n", strings.TrimSpace(status), hint)
	if a := strings.TrimSpace(string(answer)); a != "" {
		fmt.Fprintf(e.stdout, "Its answer began: %s\n", printable(oneLine(a), 160))
	}
	return exitFailure
}

// runWebhookResend queues a kept event for the webhook again.
func runWebhookResend(e *env, args []string) int {
	fs := newFlagSet("webhook resend")
	file := fs.String("config", "config.yaml", "")
	positional, err := parseFlags(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, webhookUsage)
		return exitOK
	case err != nil:
		return e.webhookUsageError("resend", err.Error())
	case len(positional) != 1:
		return e.webhookUsageError("resend", "name one event ID, such as evt_72311439c1c5ba04a28840c5ac57404a (the webhook's event_id, or the admins' notice)")
	}
	id := positional[0]
	if !eventIDPattern.MatchString(id) {
		return e.webhookUsageError("resend", fmt.Sprintf("%q is not an event ID: evt_ and 32 hex digits", printable(id, 48)))
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail("webhook resend", err)
	}
	client, err := bot.OpenRedis(e.ctx, cfg.Redis)
	if err != nil {
		return e.fail("webhook resend", err)
	}
	defer client.Close()
	k, err := store.New(client, bot.StoreOptions(cfg)...).Outbox().Resend(e.ctx, id, "")
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(e.stderr, "kycbot webhook resend: no event %s is kept: the ID is unknown or older than delivery.keep_events (%s), or its user's data was erased.\n",
			id, cfg.Delivery.KeepEvents)
		return exitFailure
	}
	if err != nil {
		return e.fail("webhook resend", err)
	}
	fmt.Fprintf(e.stdout, "Event %s (%s, user %d) queued again: a running kycbot instance delivers it to the webhook.\n", k.EventID, k.Kind, k.UserID)
	return exitOK
}
