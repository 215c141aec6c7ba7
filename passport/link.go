package passport

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PassportDomain is the domain parameter of the tg://resolve form of the
// Passport deep link.
const PassportDomain = "telegrampassport"

// Link is a Telegram Passport request: what the deep link opened on the
// user's device carries.
type Link struct {
	// BotID is the bot's numeric ID, the part of its token before ':'
	// (see BotIDFromToken).
	BotID int64
	// Scope lists the data asked for.
	Scope Scope
	// PublicKey is the bot's public key as given to @BotFather: SPKI PEM
	// text ("-----BEGIN PUBLIC KEY-----"). TDLib-based apps cannot read
	// PKCS#1 ("BEGIN RSA PUBLIC KEY"), so it is refused.
	PublicKey string
	// Nonce is the bot's request nonce, echoed back in the credentials. It
	// must be unique per request, unpredictable and bound to the user; this
	// package only checks that it is non-empty UTF-8.
	Nonce string
	// CallbackURL is optional: when set, the app returns to it with
	// tg_passport=success, cancel or error&error=... appended.
	CallbackURL string
}

// LinkForm selects the spelling of the deep link.
type LinkForm int

const (
	// LinkResolve is tg://resolve?domain=telegrampassport&... (default).
	LinkResolve LinkForm = iota
	// LinkAndroid is tg:resolve?domain=telegrampassport&..., the form the
	// official JS SDK uses on Android.
	LinkAndroid
	// LinkPassport is tg://passport?... (no domain parameter).
	LinkPassport
)

// LinkOption changes how Link.URL spells the link.
type LinkOption func(*linkOptions)

type linkOptions struct {
	form    LinkForm
	payload bool
}

// WithLinkForm selects the spelling of the link (LinkResolve by default).
// Unknown forms make URL fail.
func WithLinkForm(f LinkForm) LinkOption {
	return func(o *linkOptions) { o.form = f }
}

// WithLegacyPayload also writes the nonce as the legacy payload parameter,
// for very old Telegram apps that predate nonce.
func WithLegacyPayload() LinkOption {
	return func(o *linkOptions) { o.payload = true }
}

// Validate checks every field of the link and reports all problems at once
// (errors.Join). Link field errors wrap ErrMalformed; scope errors are those
// of Scope.Validate.
func (l Link) Validate() error {
	var problems []error
	if l.BotID <= 0 {
		problems = append(problems, fmt.Errorf("%w: link bot_id must be positive: use the number before ':' in the bot token (BotIDFromToken)", ErrMalformed))
	}
	if err := l.Scope.Validate(); err != nil {
		problems = append(problems, err) // its messages say "scope"
	}
	if err := checkLinkPublicKey(l.PublicKey); err != nil {
		problems = append(problems, err)
	}
	if err := checkLinkNonce(l.Nonce); err != nil {
		problems = append(problems, err)
	}
	if err := checkLinkCallback(l.CallbackURL); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

func checkLinkPublicKey(k string) error {
	const want = "give the SPKI PEM (-----BEGIN PUBLIC KEY-----) that was sent to @BotFather with /setpublickey"
	if strings.TrimSpace(k) == "" {
		return fmt.Errorf("%w: link public_key is empty (Telegram answers PUBLIC_KEY_REQUIRED): %s", ErrMalformed, want)
	}
	block, rest := pem.Decode([]byte(k))
	if block == nil {
		return fmt.Errorf("%w: link public_key is not PEM: %s", ErrMalformed, want)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return fmt.Errorf("%w: link public_key has data after the PEM block: give exactly one key", ErrMalformed)
	}
	switch block.Type {
	case "PUBLIC KEY":
	case "RSA PUBLIC KEY":
		return fmt.Errorf("%w: link public_key is PKCS#1 (BEGIN RSA PUBLIC KEY), which TDLib-based apps cannot read: convert it with `openssl rsa -RSAPublicKey_in -in key.pem -pubout` and give @BotFather the same key", ErrMalformed)
	default:
		return fmt.Errorf("%w: link public_key is a PEM %.40q block, not a public key: %s", ErrMalformed, block.Type, want)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("%w: link public_key is not a valid SPKI public key: %s", ErrMalformed, want)
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return fmt.Errorf("%w: link public_key is %T, Telegram Passport needs an RSA key (openssl genrsa 2048)", ErrMalformed, pub)
	}
	return nil
}

func checkLinkNonce(n string) error {
	if n == "" {
		return fmt.Errorf("%w: link nonce is empty (Telegram answers NONCE_EMPTY): issue a random nonce per request", ErrMalformed)
	}
	if !utf8.ValidString(n) {
		return fmt.Errorf("%w: link nonce is not valid UTF-8: it comes back inside JSON, use printable text such as base64url", ErrMalformed)
	}
	return nil
}

func checkLinkCallback(c string) error {
	if c == "" {
		return nil
	}
	u, err := url.Parse(c)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%w: link callback_url must be an absolute URL such as https://example.com/passport", ErrMalformed)
	}
	return nil
}

// linkEscape URL-encodes a query value; spaces become %20 rather than '+',
// which every URL decoder reads as a space (the JS SDK uses
// encodeURIComponent, which does the same).
func linkEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// URL validates the link and builds the deep link:
//
//	tg://resolve?domain=telegrampassport&bot_id=<id>&scope=<scope>&public_key=<pem>&nonce=<nonce>[&callback_url=<url>]
//
// with every value URL-encoded. Options choose the Android or tg://passport
// spelling and add the legacy payload parameter.
//
// Telegram refuses passport links inside inline buttons: send an HTTPS link
// to a page of the bot's own that opens this deep link.
func (l Link) URL(opts ...LinkOption) (string, error) {
	var o linkOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var b strings.Builder
	switch o.form {
	case LinkResolve:
		b.WriteString("tg://resolve?domain=" + PassportDomain + "&")
	case LinkAndroid:
		b.WriteString("tg:resolve?domain=" + PassportDomain + "&")
	case LinkPassport:
		b.WriteString("tg://passport?")
	default:
		return "", fmt.Errorf("%w: unknown link form %d: use LinkResolve, LinkAndroid or LinkPassport", ErrMalformed, int(o.form))
	}
	if err := l.Validate(); err != nil {
		return "", err
	}
	scope, err := l.Scope.MarshalJSON()
	if err != nil {
		return "", err
	}
	b.WriteString("bot_id=" + strconv.FormatInt(l.BotID, 10))
	b.WriteString("&scope=" + linkEscape(string(scope)))
	b.WriteString("&public_key=" + linkEscape(l.PublicKey))
	b.WriteString("&nonce=" + linkEscape(l.Nonce))
	if l.CallbackURL != "" {
		b.WriteString("&callback_url=" + linkEscape(l.CallbackURL))
	}
	if o.payload {
		b.WriteString("&payload=" + linkEscape(l.Nonce))
	}
	return b.String(), nil
}

// ParseLink parses a Passport deep link in any of its spellings:
// tg://resolve?domain=telegrampassport&..., tg:resolve?... and
// tg://passport?... (tg:passport?... too). The nonce is read from nonce, or,
// when that is absent, from the legacy payload parameter. Unknown parameters
// are ignored; a parameter given twice is an error. The fields are checked
// like Link.Validate. Errors wrap ErrMalformed (and ErrNotAllowed for scope
// rules) and name the parameter at fault.
func ParseLink(raw string) (Link, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Link{}, fmt.Errorf("%w: passport link is not a URL", ErrMalformed)
	}
	if u.Scheme != "tg" {
		return Link{}, fmt.Errorf("%w: passport link must start with tg://resolve?, tg:resolve? or tg://passport?", ErrMalformed)
	}
	var action string
	switch {
	case u.Opaque != "":
		action = u.Opaque
	case u.User == nil && (u.Path == "" || u.Path == "/"):
		action = u.Host
	}
	var resolve bool
	switch strings.ToLower(action) {
	case "resolve":
		resolve = true
	case "passport":
	default:
		return Link{}, fmt.Errorf("%w: passport link must start with tg://resolve?, tg:resolve? or tg://passport?", ErrMalformed)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Link{}, fmt.Errorf("%w: passport link query is not valid URL encoding", ErrMalformed)
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("%w: passport link "+format, append([]any{ErrMalformed}, args...)...))
	}
	// get returns the single value of key; ok is false when it is absent or
	// given more than once (reported).
	get := func(key string, required bool) (string, bool) {
		vs := q[key]
		switch {
		case len(vs) == 0:
			if required {
				bad("has no %s parameter", key)
			}
			return "", false
		case len(vs) > 1:
			bad("has %d %s parameters: give it once", len(vs), key)
			return "", false
		}
		return vs[0], true
	}
	if resolve {
		if d, ok := get("domain", true); ok && !strings.EqualFold(d, PassportDomain) {
			bad("resolves domain %.40q: a passport link needs domain=%s", d, PassportDomain)
		}
	}
	var l Link
	if id, ok := get("bot_id", true); ok {
		if n, err := parseBotID(id); err != nil {
			bad("bot_id is not a positive decimal number")
		} else {
			l.BotID = n
		}
	}
	if s, ok := get("scope", true); ok {
		if sc, err := ParseScope(s); err != nil {
			problems = append(problems, err) // its messages say "scope"
		} else {
			l.Scope = sc
		}
	}
	if k, ok := get("public_key", true); ok {
		if err := checkLinkPublicKey(k); err != nil {
			problems = append(problems, err)
		}
		l.PublicKey = k
	}
	nonceKey := "nonce"
	if !q.Has(nonceKey) {
		nonceKey = "payload" // very old apps
	}
	if n, ok := get(nonceKey, false); ok {
		if err := checkLinkNonce(n); err != nil {
			problems = append(problems, err)
		}
		l.Nonce = n
	} else if !q.Has(nonceKey) {
		bad("has no nonce parameter (nor the legacy payload)")
	}
	if c, ok := get("callback_url", false); ok {
		if err := checkLinkCallback(c); err != nil {
			problems = append(problems, err)
		}
		l.CallbackURL = c
	}
	if len(problems) > 0 {
		return Link{}, errors.Join(problems...)
	}
	return l, nil
}

func parseBotID(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, strconv.ErrRange
	}
	return n, nil
}

// BotIDFromToken returns the bot ID of a bot token "<id>:<secret>", the
// decimal number before the colon. The error never contains the token.
func BotIDFromToken(token string) (int64, error) {
	id, secret, ok := strings.Cut(token, ":")
	if !ok || secret == "" {
		return 0, fmt.Errorf("%w: bot token is not of the form <id>:<secret> (as @BotFather gives it)", ErrMalformed)
	}
	n, err := parseBotID(id)
	if err != nil {
		return 0, fmt.Errorf("%w: bot token does not start with a positive decimal bot ID", ErrMalformed)
	}
	return n, nil
}
