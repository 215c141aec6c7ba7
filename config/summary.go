package config

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// elementLabels name the element types for people.
var elementLabels = map[passport.ElementType]string{
	passport.TypePersonalDetails:       "personal details",
	passport.TypePassport:              "passport",
	passport.TypeDriverLicense:         "driving licence",
	passport.TypeIdentityCard:          "identity card",
	passport.TypeInternalPassport:      "internal passport",
	passport.TypeAddress:               "residential address",
	passport.TypeUtilityBill:           "utility bill",
	passport.TypeBankStatement:         "bank statement",
	passport.TypeRentalAgreement:       "rental agreement",
	passport.TypePassportRegistration:  "passport registration",
	passport.TypeTemporaryRegistration: "temporary registration",
	passport.TypePhoneNumber:           "phone number",
	passport.TypeEmail:                 "email address",
}

func elementLabel(t passport.ElementType) string {
	if l, ok := elementLabels[t]; ok {
		return l
	}
	return string(t)
}

// DescribeScope says in plain words what a scope asks for, such as
// "Personal details (with names in the original script); one of: passport,
// driving licence or identity card, with a selfie; phone number".
func DescribeScope(s passport.Scope) string {
	parts := make([]string, len(s.Elements))
	for i, e := range s.Elements {
		labels := make([]string, len(e.Types))
		for j, t := range e.Types {
			labels[j] = elementLabel(t)
		}
		var b strings.Builder
		if len(labels) > 1 {
			b.WriteString("one of: ")
		}
		b.WriteString(orList(labels))
		if e.NativeNames {
			b.WriteString(" (with names in the original script)")
		}
		var with []string
		if e.Selfie {
			with = append(with, "a selfie")
		}
		if e.Translation {
			with = append(with, "a certified translation")
		}
		if len(with) > 0 {
			b.WriteString(", with ")
			b.WriteString(andList(with))
		}
		parts[i] = b.String()
	}
	out := strings.Join(parts, "; ")
	if out == "" {
		return "nothing"
	}
	return strings.ToUpper(out[:1]) + out[1:]
}

// DescribePolicy says in plain words which rules of p apply to what scope s
// asks for, one sentence each, such as "Minimum age 18. Documents must be
// valid for at least 30 days."
func DescribePolicy(p verify.Policy, s passport.Scope) string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	hasPersonal := s.Contains(passport.TypePersonalDetails)
	hasAddress := s.Contains(passport.TypeAddress)
	var hasID, hasDocs bool
	for _, t := range s.Types() {
		hasID = hasID || t.IsIdentityDocument()
		hasDocs = hasDocs || t.IsIdentityDocument() || t.IsAddressDocument()
	}
	if hasPersonal {
		pr := p.Personal
		switch {
		case pr.MinAge > 0 && pr.MaxAge > 0:
			add("Age %d to %d.", pr.MinAge, pr.MaxAge)
		case pr.MinAge > 0:
			add("Minimum age %d.", pr.MinAge)
		case pr.MaxAge > 0:
			add("Maximum age %d.", pr.MaxAge)
		default:
			add("No age limit.")
		}
		if pr.LatinNames {
			add("Names must be written in Latin letters.")
		}
		if pr.MaxNameLength > 0 && pr.MaxNameLength != verify.DefaultMaxNameLength {
			add("Names of at most %d characters.", pr.MaxNameLength)
		}
		out = append(out, describeCountries("Countries of citizenship", pr.Citizenship)...)
		out = append(out, describeCountries("Countries of residence", pr.Residence)...)
	}
	if hasID {
		d := p.Documents
		if d.RequireExpiry {
			add("Documents must have an expiry date.")
		}
		if d.MinValidityDays > 0 {
			add("Documents must be valid for at least %d days.", d.MinValidityDays)
		} else {
			add("Documents must not be expired.")
		}
		if !d.ChecksNumbers() {
			add("Document numbers are not checked against the issuing states' formats and check digits.")
		}
		for _, t := range sortedDocTypes(d.Types) {
			if !s.Contains(t) {
				continue
			}
			r := d.Types[t]
			var parts []string
			if r.RequireExpiry != nil {
				if *r.RequireExpiry {
					parts = append(parts, "needs an expiry date")
				} else {
					parts = append(parts, "needs no expiry date")
				}
			}
			if r.MinValidityDays != nil {
				if *r.MinValidityDays > 0 {
					parts = append(parts, fmt.Sprintf("must be valid for at least %d days", *r.MinValidityDays))
				} else {
					parts = append(parts, "must merely not be expired")
				}
			}
			if len(parts) > 0 {
				label := elementLabel(t)
				add("A %s %s.", label, andList(parts))
			}
		}
	}
	if hasAddress {
		out = append(out, describeCountries("Address countries", p.Address.Countries)...)
		if p.Address.ResidenceMatchesAddress && hasPersonal {
			add("The country of residence must match the address.")
		}
	}
	if hasDocs {
		f := p.Files
		if f.MaxSizeMB > 0 && f.MaxSizeMB != verify.DefaultMaxSizeMB {
			add("Scans of at most %d MB.", f.MaxSizeMB)
		}
		if f.MinWidth > 0 || f.MinHeight > 0 {
			add("Scans of at least %d×%d pixels.", f.MinWidth, f.MinHeight)
		}
		switch v := f.MinSharpness; {
		case v == nil || *v == verify.DefaultMinSharpness:
		case *v == 0:
			add("The sharpness of scans is not checked.")
		default:
			add("Scans of a sharpness of at least %d (default %d).", *v, verify.DefaultMinSharpness)
		}
		if f.MaxFiles > 0 && f.MaxFiles != verify.DefaultMaxFiles {
			add("At most %d scans per address document.", f.MaxFiles)
		}
		if f.MaxTranslations > 0 && f.MaxTranslations != verify.DefaultMaxTranslations {
			add("At most %d translation scans per document.", f.MaxTranslations)
		}
	}
	switch p.Duplicates {
	case verify.DuplicatesOff:
		add("Duplicate documents are not checked.")
	case verify.DuplicatesReview:
		add("A document or person another account was verified with goes to manual review.")
	}
	if p.Review == verify.ReviewAlways {
		add("Every case goes to manual review.")
	} else if p.ReviewSample > 0 {
		add("%g%% of the cases go to manual review at random.", p.ReviewSample*100)
	}
	if len(out) == 0 {
		return "No extra rules."
	}
	return strings.Join(out, " ")
}

func describeCountries(what string, r verify.CountryRule) []string {
	var out []string
	if len(r.Allow) > 0 {
		out = append(out, fmt.Sprintf("%s allowed: %s.", what, upperList(r.Allow)))
	}
	if len(r.Deny) > 0 {
		out = append(out, fmt.Sprintf("%s refused: %s.", what, upperList(r.Deny)))
	}
	return out
}

func upperList(codes []string) string {
	up := make([]string, len(codes))
	for i, c := range codes {
		up[i] = strings.ToUpper(c)
	}
	return strings.Join(up, ", ")
}

func sortedDocTypes(m map[passport.ElementType]verify.DocumentTypeRules) []passport.ElementType {
	var out []passport.ElementType
	for _, t := range passport.ElementTypes() {
		if _, ok := m[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// Summary describes the configuration in plain language for admins: the
// levels (what each asks for and which rules apply), the Telegram servers,
// the web addresses and URL, Redis, admins, delivery and languages. It
// never shows a secret (only whether it is set) nor more of the webhook
// URL than its host.
func (c *Config) Summary() string {
	var b strings.Builder
	c.WriteSummary(&b)
	return b.String()
}

// WriteSummary writes Summary to w.
func (c *Config) WriteSummary(w io.Writer) error {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	names := c.LevelNames()
	line("Levels (%d, default %s):", len(names), c.DefaultLevelName)
	for _, n := range names {
		l := c.Levels[n]
		if l.Title != "" {
			line("  %s (%s)", n, oneLine(l.Title))
		} else {
			line("  %s", n)
		}
		line("    Asks for: %s.", DescribeScope(l.Scope))
		line("    Rules: %s", DescribePolicy(l.Policy, l.Scope))
	}

	line("Telegram: %s", c.describeTelegram())
	line("Telegram transport: %s", c.DescribeTransport())
	if !c.Telegram.OnBotAPI() {
		line("Telegram servers: %s", c.describeServer())
	}
	pub := c.Web.PublicURL
	if pub == "" {
		pub = "not set"
	}
	ops := "there too (ops_listen: public)"
	if c.Web.SeparateOps() {
		ops = "on " + c.Web.OpsListen + " only"
	}
	line("Web: listens on %s; request page at %s; /healthz, /readyz and /metrics %s.", c.Web.Listen, pub, ops)
	line("Brand on the request page: %s", c.describeBrand())
	line("Requests expire after %s.", fmtDuration(c.Passport.RequestTTL))
	switch n := len(c.Passport.PreviousPrivateKeyFiles); n {
	case 0:
	case 1:
		line("Passport key rotation: 1 previous private key still accepted (passport.previous_private_key_files); new requests use private_key_file.")
	default:
		line("Passport key rotation: %d previous private keys still accepted (passport.previous_private_key_files); new requests use private_key_file.", n)
	}
	line("Redis: %s", c.describeRedis())
	switch n := len(c.Admins); n {
	case 0:
		line("Admins: none.")
	case 1:
		line("Admins: 1; %s.", c.describeNotices())
	default:
		line("Admins: %d; %s.", n, c.describeNotices())
	}
	if c.Support != "" {
		line("Support contact shown to users: %s.", oneLine(c.Support))
	} else {
		line("Support contact: none (set support so that users know whom to ask after a rejection).")
	}
	line("Delivery: %s", c.describeDelivery())
	lang := "Languages: default " + c.I18n.DefaultLanguage
	if c.I18n.OverridesDir != "" {
		lang += "; message overrides from " + c.I18n.OverridesDir
	}
	line("%s.", lang)
	line("Retention: statuses %s, audit events %s.", days(c.Retention.StatusDays), days(c.Retention.AuditDays))
	line("Screening: %s", c.describeScreening())
	line("Verification badge: %s", c.describeBadge())
	line("After a verification: %s", c.describeLifecycle())
	_, err := io.WriteString(w, b.String())
	return err
}

func days(n int) string {
	switch n {
	case 0:
		return "forever"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func setOrNot(s Secret) string {
	if s.IsSet() {
		return "set"
	}
	return "not set"
}

func (c *Config) describeTelegram() string {
	t := c.Telegram
	if t.OnBotAPI() {
		return fmt.Sprintf("bot token %s (the Bot API needs no app_id or app_hash).", setOrNot(t.BotToken))
	}
	id := "not set"
	if t.AppID > 0 {
		id = fmt.Sprint(t.AppID)
	}
	return fmt.Sprintf("app_id %s, app_hash %s, bot token %s.", id, setOrNot(t.AppHash), setOrNot(t.BotToken))
}

// DescribeTransport says in plain words how the standalone bot talks to
// Telegram and, on the Bot API, how it receives its updates and what
// that needs (no secret: the webhook's path and secret token are derived
// from the bot token and never shown).
func (c *Config) DescribeTransport() string {
	t := c.Telegram
	if !t.OnBotAPI() {
		return "MTProto (gotd) to " + strings.TrimSuffix(c.describeServer(), ".") +
			"; each instance logs in with its own authorization (app_id, app_hash and the bot token); one instance at a time receives the updates (the receiver's lease)."
	}
	s := "the Bot API at " + t.BotAPIURL + " with the bot token alone (no app_id or app_hash); "
	if t.BotAPI.Receive == ReceiveWebhook {
		pub := c.Web.PublicURL
		if pub == "" {
			pub = "<web.public_url, not set: required>"
		}
		return s + "updates by webhook: Telegram posts them to " + strings.TrimRight(pub, "/") + WebhookPathPrefix +
			"<path derived from the bot token>, which every instance serves on web.listen (" + c.Web.Listen +
			"), so any of them may receive; the bot sets the webhook when it starts, with a secret token derived from the bot token."
	}
	return s + "updates by long polling (getUpdates): one instance at a time receives (the receiver's lease) and another takes over when it stops; the bot deletes any webhook set before."
}

func (c *Config) describeRedis() string {
	r := c.Redis
	var parts []string
	switch r.Mode {
	case RedisSentinel:
		parts = append(parts, fmt.Sprintf("sentinel mode, master %s via %s", r.MasterName, strings.Join(r.Addrs, ", ")))
	case RedisCluster:
		parts = append(parts, "cluster mode, nodes "+strings.Join(r.Addrs, ", "))
	default:
		parts = append(parts, "single server "+strings.Join(r.Addrs, ", "))
	}
	if r.Mode != RedisCluster {
		parts = append(parts, fmt.Sprintf("database %d", r.DB))
	}
	parts = append(parts, fmt.Sprintf("key prefix %q", r.Prefix))
	if r.Username != "" {
		parts = append(parts, "user "+r.Username)
	}
	if r.WaitReplicas > 0 {
		parts = append(parts, fmt.Sprintf("writes wait for %d replica(s)", r.WaitReplicas))
	}
	if r.Password.IsSet() {
		parts = append(parts, "password set")
	} else {
		parts = append(parts, "no password")
	}
	switch {
	case r.TLS.Enabled && r.TLS.InsecureSkipVerify:
		parts = append(parts, "TLS without certificate checks")
	case r.TLS.Enabled:
		parts = append(parts, "TLS")
	default:
		parts = append(parts, "no TLS")
	}
	return strings.Join(parts, ", ") + "."
}

func (c *Config) describeDelivery() string {
	d := c.Delivery
	switch {
	case d.None:
		return "none, on purpose (delivery.none): verified results are kept nowhere; each user's status, the audit trail and the admins' notices remain."
	case d.WebhookURL == "":
		return "no webhook: results reach only the WithOnVerified hooks of a bot built in Go; kycbot run refuses this (set delivery.webhook_url, or delivery.none: true)."
	}
	host := "?"
	if u, err := url.Parse(d.WebhookURL); err == nil {
		host = u.Host
	}
	what := "the outcome only"
	switch {
	case d.IncludeData && d.IncludeFiles:
		what = "with the personal data and one-time links to the scans (valid " + fmtDuration(d.FileLinkTTL) + ")"
	case d.IncludeData:
		what = "with the personal data, without the scans"
	case d.IncludeFiles:
		what = "with one-time links to the scans (valid " + fmtDuration(d.FileLinkTTL) + "), without the personal data"
	}
	retries := "retried for up to " + fmtDuration(d.GiveUpAfter)
	if d.MinBackoff != DefaultMinBackoff || d.MaxBackoff != DefaultMaxBackoff {
		retries += fmt.Sprintf(", pausing from %s up to %s between attempts", fmtDuration(d.MinBackoff), fmtDuration(d.MaxBackoff))
	}
	if d.ReclaimAfter != DefaultReclaimAfter {
		retries += fmt.Sprintf("; deliveries of an instance that died are taken over after %s", fmtDuration(d.ReclaimAfter))
	}
	rotation := ""
	if d.PreviousWebhookSecret.IsSet() {
		rotation = "; signed under the previous webhook secret too (delivery.previous_webhook_secret: remove it once every receiver checks the new one)"
	}
	return fmt.Sprintf("webhook to %s, %s; %s%s.", host, what, retries, rotation)
}

// describeBrand says what the request page shows at its top (web.brand).
func (c *Config) describeBrand() string {
	b := c.Web.Brand
	name := "the bot's @username (web.brand.name not set)"
	if b.Name != "" {
		name = fmt.Sprintf("%q", oneLine(b.Name))
	}
	if len(b.Logo) == 0 {
		return name + ", no logo."
	}
	kind := map[string]string{"image/png": "PNG", "image/jpeg": "JPEG", "image/svg+xml": "SVG"}[b.LogoType]
	from := ""
	if b.LogoFile != "" {
		from = " " + b.LogoFile
	}
	return fmt.Sprintf("%s, logo%s (%s, %s).", name, from, kind, kib(len(b.Logo)))
}

// kib writes a size in bytes or KiB.
func kib(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d KiB", (n+1023)>>10)
}

// describeNotices says which notices the admins get (admin_notices).
func (c *Config) describeNotices() string {
	var on []string
	for _, k := range []struct {
		on   bool
		name string
	}{{c.AdminNotices.Verified, "verified users"}, {c.AdminNotices.Rejected, "rejections"}, {c.AdminNotices.Alarms, "alarms"}} {
		if k.on {
			on = append(on, k.name)
		}
	}
	if len(on) == 0 {
		return "no notices (admin_notices all off)"
	}
	out := "told of " + strings.Join(on, ", ") + ", after the users' answers"
	if c.NeedsReview() {
		out += "; reminded of a review left undecided every " + fmtDuration(c.AdminNotices.ReviewReminder)
	}
	return out
}

// describeBadge says whether verified users get the bot's badge, and what
// Telegram requires for it.
func (c *Config) describeBadge() string {
	if !c.Badge.Enabled {
		return "off (badge.enabled)."
	}
	desc := "\"Identity verified: <level>, valid until <date>\" in " + c.I18n.DefaultLanguage
	if c.Badge.Description != "" {
		desc = strconv.Quote(c.Badge.Description)
	}
	return "on: verified users get this bot's verification mark with " + desc + ", taken off on reset, deletion, revocation and expiry. " +
		"Telegram lets only bots it approved as verifiers set it: until it approves this bot it answers BOT_VERIFIER_FORBIDDEN, " +
		"verifications still complete without the badge, and the admins are told once. Ask Telegram's verification platform for the approval, or set badge.enabled: false."
}

// describeLifecycle says how long verifications last, the reminders and
// what /kyc_revoke tells the user.
func (c *Config) describeLifecycle() string {
	var periods []string
	for _, name := range c.LevelNames() {
		if l := c.Levels[name]; l != nil && l.ReverifyAfter > 0 {
			periods = append(periods, fmt.Sprintf("%s %s", name, fmtDuration(l.ReverifyAfter)))
		}
	}
	valid := "valid until the identity document expires"
	if len(periods) > 0 {
		valid += ", or earlier after " + strings.Join(periods, ", ") + " (levels.<name>.reverify_after)"
	}
	remind := "no reminders"
	if d := c.Reverification.RemindDays; len(d) > 0 {
		days := make([]string, len(d))
		for i, n := range d {
			days[i] = strconv.Itoa(n)
		}
		remind = "reminders " + strings.Join(days, ", ") + " days before the end, with a button to verify again"
	}
	told := "the user is told"
	if !c.Revocation.NotifyUser {
		told = "the user is not told (revocation.notify_user)"
	}
	return valid + "; " + remind + "; then expired. /kyc_revoke: " + told + "."
}
