package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// Config is the whole kycbot configuration: read from YAML by Load or
// Parse, or built in Go and completed by New. The YAML keys are the
// snake_case names in the yaml tags, and every problem names the setting
// by its YAML path, whichever way the config came. A Config returned
// without error by Load, Parse or New has passed every check; settings
// not given hold their documented defaults. In a Config built in Go, a
// field left at its zero value is "not given" unless its doc says what
// its zero means.
type Config struct {
	// Telegram holds the bot's Telegram credentials (telegram).
	Telegram Telegram `yaml:"telegram"`
	// Passport holds the Telegram Passport settings (passport).
	Passport Passport `yaml:"passport"`
	// DefaultLevelName names the level that /start and /verify use when
	// nothing else picks one (default_level). It defaults to the only level
	// when there is exactly one.
	DefaultLevelName string `yaml:"default_level"`
	// Levels are the verification levels by name (levels): what to ask for
	// and what to accept. Names use lowercase letters, digits, _ and -.
	Levels map[string]*Level `yaml:"levels"`
	// Rules is the base policy of every level (rules): it starts from
	// verify.DefaultPolicy and the keys present in YAML override it. Each
	// level's own rules override it in turn. In Go, a zero Rules is
	// verify.DefaultPolicy; a Rules that is not zero is taken as it is.
	Rules verify.Policy `yaml:"rules"`
	// Web holds the HTTP server settings (web).
	Web Web `yaml:"web"`
	// Redis holds the Redis connection settings (redis).
	Redis Redis `yaml:"redis"`
	// I18n holds the language settings (i18n).
	I18n I18n `yaml:"i18n"`
	// Admins are the Telegram user IDs allowed to use admin commands and to
	// receive notifications (admins).
	Admins []int64 `yaml:"admins"`
	// AdminNotices says which notices the admins get (admin_notices).
	AdminNotices AdminNotices `yaml:"admin_notices"`
	// Support is whom users may contact about their verification
	// (support): a Telegram username such as "@acme_help", an https URL
	// or an e-mail address. The bot names it in /help, in the final
	// rejection and in /status after one. Optional.
	Support string `yaml:"support"`
	// Delivery says where verified results go besides the Go callbacks
	// (delivery).
	Delivery Delivery `yaml:"delivery"`
	// Retention says how long records are kept (retention).
	Retention Retention `yaml:"retention"`
	// Screening says which watchlists users are screened against
	// (screening). Optional.
	Screening Screening `yaml:"screening"`
	// Badge says whether verified users get the bot's verification badge
	// on their Telegram profile (badge). Off by default.
	Badge Badge `yaml:"badge"`
	// Revocation says what /kyc_revoke does besides revoking (revocation).
	Revocation Revocation `yaml:"revocation"`
	// Reverification says when users are reminded that their verification
	// ends (reverification); each level's reverify_after and the
	// document's expiry say when it ends.
	Reverification Reverification `yaml:"reverification"`

	file     string    // file name used in messages
	warnings []Problem // settings a real bot needs that are missing
	missing  []Problem // Telegram credentials that are missing
	nowhere  []Problem // no delivery of results, and not on purpose
}

// Telegram holds the bot's Telegram credentials and how it talks to
// Telegram.
type Telegram struct {
	// Transport is how the standalone bot talks to Telegram (transport):
	// TransportMTProto (default: gotd, which needs app_id and app_hash
	// beside the token) or TransportBotAPI (the Bot API at bot_api_url,
	// with the bot token alone).
	Transport string `yaml:"transport"`
	// AppID is the api_id of the application from my.telegram.org
	// (app_id). Required to run the bot over MTProto.
	AppID int `yaml:"app_id"`
	// AppHash is the api_hash from my.telegram.org (app_hash): 32
	// hexadecimal characters. The environment variable KYCBOT_APP_HASH, when
	// set and not empty, replaces it. Required to run the bot over MTProto.
	AppHash Secret `yaml:"app_hash"`
	// BotToken is the bot's token from @BotFather (bot_token). The
	// environment variable KYCBOT_BOT_TOKEN, when set and not empty,
	// replaces it. Required to run the bot.
	BotToken Secret `yaml:"bot_token"`
	// Server says which MTProto servers the bot connects to (server).
	// Default: Telegram's production DCs.
	Server TelegramServer `yaml:"server"`
	// BotAPIURL is the base URL of the Bot API server (bot_api_url) for
	// the parts of kycbot that speak the Bot API (HTTPS and JSON) instead
	// of MTProto: Telegram's own (DefaultBotAPIURL), a self-hosted
	// telegram-bot-api server, or the Bot API front of kycbot's sandbox.
	// Requests go to <bot_api_url>/bot<token>/<method>, files come from
	// <bot_api_url>/file/bot<token>/<path>. An http or https URL without
	// a query or fragment.
	BotAPIURL string `yaml:"bot_api_url"`
	// BotAPI says how the standalone bot receives its updates on the Bot
	// API transport (bot_api).
	BotAPI BotAPI `yaml:"bot_api"`
}

// The transports of telegram.transport.
const (
	// TransportMTProto talks MTProto with gotd: app_id, app_hash and the
	// bot token; each instance logs in with its own authorization.
	TransportMTProto = "mtproto"
	// TransportBotAPI talks to the Bot API server at telegram.bot_api_url
	// (HTTPS and JSON) with the bot token alone.
	TransportBotAPI = "botapi"
)

// The ways of receiving of telegram.bot_api.receive.
const (
	// ReceivePolling receives with getUpdates (long polling): one
	// instance at a time, the holder of the receiver's lease.
	ReceivePolling = "polling"
	// ReceiveWebhook has Telegram push the updates to every instance's
	// web server (setWebhook at <web.public_url>/telegram/<path derived
	// from the bot token>, with a secret token derived from it too).
	ReceiveWebhook = "webhook"
)

// BotAPI holds the settings of the Bot API transport (telegram.bot_api).
type BotAPI struct {
	// Receive is how the updates arrive (receive): ReceivePolling
	// (default) or ReceiveWebhook.
	Receive string `yaml:"receive"`
}

// OnBotAPI reports whether the standalone bot talks to Telegram over the
// Bot API (telegram.transport: botapi).
func (t Telegram) OnBotAPI() bool { return t.Transport == TransportBotAPI }

// Passport holds the Telegram Passport settings.
type Passport struct {
	// PrivateKeyFile is the path of the bot's RSA private key in PEM form
	// (private_key_file), as written by "kycbot keygen". Load resolves a
	// relative path against the directory of the config file. Required to
	// run the bot.
	PrivateKeyFile string `yaml:"private_key_file"`
	// PreviousPrivateKeyFiles are the paths of the keys the bot used before
	// a rotation (previous_private_key_files), checked like PrivateKeyFile
	// and resolved the same way. Submissions encrypted to their public
	// keys still decrypt, and what the bot sealed in Redis under keys
	// derived from them still opens; new requests use PrivateKeyFile.
	// Keep one for request_ttl plus the retry window after the switch
	// (docs/operations.md, "Rotating secrets"). Optional.
	PreviousPrivateKeyFiles []string `yaml:"previous_private_key_files"`
	// PrivacyPolicyURL is the https URL of the business's privacy policy,
	// shown in the Passport form (privacy_policy_url). Required to run the
	// bot.
	PrivacyPolicyURL string `yaml:"privacy_policy_url"`
	// RequestTTL is how long a verification request (its nonce) stays
	// valid (request_ttl), written as a duration such as "30m". Default 30
	// minutes; between 1 minute and 24 hours.
	RequestTTL time.Duration `yaml:"request_ttl"`
	// ScanMemoryMB is how many megabytes (MiB) of scans the bot keeps in
	// memory while their submissions are processed, all together
	// (scan_memory_mb): scans of at most 1 MiB, encrypted as Telegram
	// sent them; the others are staged in the temporary directory, also
	// encrypted. Default 16; 0 stages every scan on disk; at most
	// MaxScanMemoryMB.
	ScanMemoryMB int `yaml:"scan_memory_mb"`
}

// Level is one verification level: what the bot asks for and what it
// accepts.
//
// In Go, give the scope as a passport.Scope (passport.NewScope of
// passport.Require, passport.RequireOneOf and their WithSelfie,
// WithTranslation and WithNativeNames) and the level's own rules as a
// verify.Policy holding only what differs from the top-level rules: New
// resolves it (see New for how the two combine).
type Level struct {
	// Name is the level's key under levels; New, Load and Parse set it.
	Name string `yaml:"-"`
	// Title is an optional label for people, such as "Full check" (title).
	Title string `yaml:"title"`
	// Scope is what the bot asks for (scope). Required: at least one
	// element.
	Scope passport.Scope `yaml:"scope"`
	// Policy is the level's rules (rules). Once resolved by New, Load or
	// Parse, it is the level's whole policy: the top-level rules with the
	// level's own rules on top. Given to New unresolved, it holds the
	// level's own rules only; zero: the top-level rules as they are.
	Policy verify.Policy `yaml:"rules"`
	// ReverifyAfter is how long a verification at this level stays valid
	// (reverify_after, such as 8760h); it ends earlier when the identity
	// document expires first. 0 (the default): only the document's expiry
	// ends it.
	ReverifyAfter time.Duration `yaml:"reverify_after"`

	whole bool // Policy is resolved: the level's whole policy
}

// AdminNotices says which kinds of notices the admins get, each in the
// admins' chats with the bot. Every kind is on by default (Default and a
// file); in a Config built in Go, New keeps a false as it is. Notices go
// out after the user's answer, and kycbot run sends them behind users'
// answers when it paces its calls.
type AdminNotices struct {
	// Verified: a user was verified (verified). Default true.
	Verified bool `yaml:"verified"`
	// Rejected: a submission was rejected for good, a duplicate refused
	// too (rejected). Default true. Review requests (manual review) are
	// always sent.
	Rejected bool `yaml:"rejected"`
	// Alarms: something needs fixing on the bot's side: Passport data that
	// does not decrypt with the bot's key, Telegram Passport refusing the
	// bot, webhook deliveries given up on (alarms). Default true.
	Alarms bool `yaml:"alarms"`
	// ReviewReminder is how often the admins are reminded of a case left
	// undecided in manual review, counted from when it was sent to review
	// (review_reminder): each admin gets a new review link, once per
	// period whatever the number of instances. Between 1 minute and 7
	// days; default DefaultReviewReminder. Review requests are always
	// sent.
	ReviewReminder time.Duration `yaml:"review_reminder"`
}

// DefaultReviewReminder is the default of admin_notices.review_reminder,
// and MinReviewReminder and MaxReviewReminder its bounds.
const (
	DefaultReviewReminder = 24 * time.Hour
	MinReviewReminder     = time.Minute
	MaxReviewReminder     = 7 * 24 * time.Hour
)

// Web holds the settings of kycbot's HTTP server (request page, callback,
// health and metrics).
type Web struct {
	// Listen is the address the server listens on, host:port (listen).
	// Default ":8080".
	Listen string `yaml:"listen"`
	// PublicURL is the URL at which users' browsers reach the server
	// (public_url): https, or http for localhost only. Required to run the
	// bot.
	PublicURL string `yaml:"public_url"`
	// OpsListen is where /healthz, /readyz and /metrics are served
	// (ops_listen): the address, host:port, of a second server that alone
	// serves them (the server on Listen then answers them 404), or
	// OpsPublic ("public") to serve them on Listen, to anyone who reaches
	// the request page. Default DefaultOpsListen (127.0.0.1:9090): only
	// this host reaches them. Instances sharing a machine each need a port
	// of their own (port 0 picks a free one).
	OpsListen string `yaml:"ops_listen"`
	// OpsURL is the URL at which admins' browsers reach the server of
	// OpsListen (ops_url), such as http://10.0.0.5:9090 over a VPN: the
	// review links in the admins' chat point there (manual review).
	// http or https. Default: http:// and OpsListen (127.0.0.1 for an
	// address without a host): the bot's own host.
	OpsURL string `yaml:"ops_url"`
	// Brand is the business's name and logo on the request page (brand).
	Brand Brand `yaml:"brand"`
}

// Brand is who the request page says is asking: the business's name and
// logo, at the top of the page and in its title.
type Brand struct {
	// Name is the business's name (name), such as "Acme Bank": the
	// request page's header and title, and who asks for the data ("Acme
	// Bank asks you to share"). One line of at most 64 characters.
	// Default: the bot's @username.
	Name string `yaml:"name"`
	// LogoFile is the path of the business's logo (logo_file): a PNG,
	// JPEG or SVG file of at most MaxLogoSize bytes, shown beside Name.
	// kycbot serves it itself (at <web.public_url>/passport/logo), so
	// that the page loads nothing from other hosts. Load resolves a
	// relative path against the directory of the config file; Load,
	// Parse and New read the file and check it: a missing file, another
	// kind of file or a bigger one is a problem. Optional.
	LogoFile string `yaml:"logo_file"`
	// Logo is the content of LogoFile and LogoType its media type
	// ("image/png", "image/jpeg" or "image/svg+xml"), both set by Load,
	// Parse and New. In Go, a Logo may be given instead of a LogoFile: it
	// is checked the same way.
	Logo     []byte `yaml:"-"`
	LogoType string `yaml:"-"`
}

// MaxLogoSize is the size of the largest logo (web.brand.logo_file): 128
// KiB, plenty for a PNG of a few hundred pixels or an SVG. It is
// web.MaxLogoSize (config does not import web).
const MaxLogoSize = 128 << 10

// OpsPublic is the web.ops_listen that serves /healthz, /readyz and
// /metrics on web.listen, beside the request page.
const OpsPublic = "public"

// SeparateOps reports whether /healthz, /readyz and /metrics are served
// on a server of their own, at OpsListen (anything but OpsPublic).
func (w Web) SeparateOps() bool { return w.OpsListen != OpsPublic && w.OpsListen != "" }

// OpsBaseURL returns OpsURL, or the URL of OpsListen when OpsURL is
// empty (see OpsURL), without a trailing slash; "" when the operations
// endpoints are not on a server of their own.
func (w Web) OpsBaseURL() string {
	if w.OpsURL != "" {
		return strings.TrimRight(w.OpsURL, "/")
	}
	if !w.SeparateOps() {
		return ""
	}
	host, port, err := net.SplitHostPort(w.OpsListen)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// NeedsReview reports whether a level's rules can send a submission to
// manual review (rules.duplicates: review, rules.review: always, or a
// rules.review_sample above 0), or screening can (screening.lists: a hit
// sends the case to review).
func (c *Config) NeedsReview() bool {
	if len(c.Screening.Lists) > 0 {
		return true
	}
	for _, l := range c.Levels {
		if l != nil && (l.Policy.Duplicates == verify.DuplicatesReview || l.Policy.Review == verify.ReviewAlways || l.Policy.ReviewSample > 0) {
			return true
		}
	}
	return false
}

// Redis modes.
const (
	RedisSingle   = "single"
	RedisSentinel = "sentinel"
	RedisCluster  = "cluster"
)

// Redis holds the Redis connection settings.
type Redis struct {
	// Mode is single, sentinel or cluster (mode). Default single.
	Mode string `yaml:"mode"`
	// Addrs are host:port addresses (addrs): the server in single mode,
	// the sentinels in sentinel mode, seed nodes in cluster mode. Default
	// ["127.0.0.1:6379"].
	Addrs []string `yaml:"addrs"`
	// MasterName is the name of the master the sentinels watch
	// (master_name). Required in sentinel mode, not allowed otherwise.
	MasterName string `yaml:"master_name"`
	// Username is the ACL user name (username); empty for the default
	// user.
	Username string `yaml:"username"`
	// Password is the password of the user (password). The environment
	// variable KYCBOT_REDIS_PASSWORD, when set and not empty, replaces it.
	Password Secret `yaml:"password"`
	// DB is the database number (db), single and sentinel modes only.
	// Default 0.
	DB int `yaml:"db"`
	// Prefix starts every key kycbot writes (prefix), so that several
	// applications can share a Redis. Default "kycbot:".
	Prefix string `yaml:"prefix"`
	// WaitReplicas is how many replicas must have the writes whose loss
	// in a failover would lose a submission (queueing an update, issuing
	// a request, burning a nonce) before kycbot goes on (wait_replicas):
	// see store.WithReplicas. Sentinel and single modes only. Default 0:
	// replication stays asynchronous.
	WaitReplicas int `yaml:"wait_replicas"`
	// TLS holds the TLS settings (tls).
	TLS RedisTLS `yaml:"tls"`
}

// RedisTLS holds the TLS settings of the Redis connection.
type RedisTLS struct {
	// Enabled turns TLS on (enabled). Default false.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM file of certificate authorities to trust instead of
	// the system's (ca_file). Load resolves a relative path against the
	// directory of the config file.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name expected in the server certificate
	// (server_name); default: the host of the address.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify turns certificate checks off
	// (insecure_skip_verify): for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Languages lists the languages kycbot speaks, the allowed values of
// i18n.default_language. Keep it in sync with the catalogs of package i18n
// (config must not import i18n).
func Languages() []string {
	return []string{"en", "ru", "uk", "es", "pt-BR", "de", "fr", "tr", "fa", "ar"}
}

// I18n holds the language settings.
type I18n struct {
	// DefaultLanguage is used when the user's Telegram language is not one
	// kycbot speaks (default_language). Default "en"; one of Languages.
	DefaultLanguage string `yaml:"default_language"`
	// OverridesDir is an optional folder of the admin's message override
	// files (overrides_dir). Load resolves a relative path against the
	// directory of the config file.
	OverridesDir string `yaml:"overrides_dir"`
}

// Delivery says where verified results go.
type Delivery struct {
	// WebhookURL receives every outcome as a signed POST (webhook_url):
	// https, or http for localhost only. Optional for a bot built in Go
	// (its WithOnVerified hook receives the results); a bot without hooks
	// (kycbot run) needs it, or None (see RequireDelivery).
	WebhookURL string `yaml:"webhook_url"`
	// None says, on purpose, that verified results go nowhere (none): no
	// webhook, and kycbot run starts without one (the statuses, the audit
	// trail and the admins' notices remain). Not with WebhookURL. Default
	// false.
	None bool `yaml:"none"`
	// WebhookSecret signs the webhook requests (webhook_secret): at least
	// 32 characters, required when WebhookURL is set. The environment
	// variable KYCBOT_WEBHOOK_SECRET, when set and not empty, replaces it.
	WebhookSecret Secret `yaml:"webhook_secret"`
	// PreviousWebhookSecret is the webhook secret before a rotation
	// (previous_webhook_secret): while set, each request carries a second
	// signature under it, so that a receiver still checking the old
	// secret accepts it during the rolling restart. Same length rule as
	// WebhookSecret; the environment variable
	// KYCBOT_PREVIOUS_WEBHOOK_SECRET, when set and not empty, replaces it.
	// Optional; remove it once every receiver checks the new secret.
	PreviousWebhookSecret Secret `yaml:"previous_webhook_secret"`
	// IncludeData puts the verified personal data in the webhook
	// (include_data). Default true (Default and a file); in a Config
	// built in Go, New keeps a false as it is.
	IncludeData bool `yaml:"include_data"`
	// IncludeFiles describes the scans in the webhook (include_files),
	// each with a one-time link to its decrypted bytes at
	// <web.public_url>/passport/scans/<token>; the bytes are never in the
	// webhook or in Redis. Default false.
	IncludeFiles bool `yaml:"include_files"`
	// FileLinkTTL is how long a scan link works (file_link_ttl), counted
	// from the delivery attempt that carried it (every attempt carries
	// fresh links). Default 1h; between 1 minute and 24 hours.
	FileLinkTTL time.Duration `yaml:"file_link_ttl"`
	// GiveUpAfter is how long a failing webhook delivery is retried before
	// it is given up and the admins are told (give_up_after). Default 24h;
	// between 1 minute and 30 days.
	GiveUpAfter time.Duration `yaml:"give_up_after"`
	// MinBackoff and MaxBackoff bound the pause after a failed delivery
	// (min_backoff, max_backoff): after the n-th failure of an event the
	// pause is between half and all of min(MinBackoff·2^(n-1),
	// MaxBackoff). Defaults 5s and 10m; each between 1 second and 24
	// hours, and MinBackoff at most MaxBackoff.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// ReclaimAfter is how long a delivery may go without an outcome before
	// another instance takes the event over, its sender having died
	// (reclaim_after). Default 1m; between 30 seconds (three times the
	// 10-second request timeout, so that a delivery under way is never
	// taken over) and 1 hour.
	ReclaimAfter time.Duration `yaml:"reclaim_after"`
	// Signature says how the webhook requests are signed (signature):
	// SignatureKycbot (the X-Kycbot-Signature header, the default),
	// SignatureStandard (Standard Webhooks: webhook-id, webhook-timestamp
	// and webhook-signature) or SignatureBoth. Standard Webhooks needs a
	// WebhookSecret (and PreviousWebhookSecret, if set) in its form,
	// "whsec_" and the base64 of 24 to 64 random bytes (StandardKey).
	Signature string `yaml:"signature"`
	// KeepEvents is how long every webhook event is kept, sealed, after
	// it was queued, so that an admin can send it again (/kyc_resend,
	// kycbot webhook resend): keep_events. Default 7d; between 1 hour and
	// 90 days. Erasing a user erases their events.
	KeepEvents time.Duration `yaml:"keep_events"`
}

// Webhook signature schemes (Delivery.Signature).
const (
	SignatureKycbot   = "kycbot"
	SignatureStandard = "standard"
	SignatureBoth     = "both"
)

// Bounds and default of Delivery.KeepEvents.
const (
	DefaultKeepEvents = 7 * 24 * time.Hour
	MinKeepEvents     = time.Hour
	MaxKeepEvents     = 90 * 24 * time.Hour
)

// StandardPrefix starts a Standard Webhooks secret.
const StandardPrefix = "whsec_"

// StandardKey returns the HMAC key of a Standard Webhooks secret:
// "whsec_" and the standard base64 of 24 to 64 bytes. Its error says what
// is wrong, never the secret.
func StandardKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, StandardPrefix)
	if !ok {
		return nil, errors.New("is not a Standard Webhooks secret: it must start with whsec_ and go on with the base64 of 24 to 64 random bytes (for example: echo whsec_$(openssl rand -base64 32))")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, errors.New("is not a Standard Webhooks secret: what follows whsec_ is not standard base64 (for example: echo whsec_$(openssl rand -base64 32))")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("is not a Standard Webhooks secret: what follows whsec_ decodes to %d bytes, want 24 to 64 (for example: echo whsec_$(openssl rand -base64 32))", len(key))
	}
	return key, nil
}

// Retention says how long kycbot keeps its records in Redis.
type Retention struct {
	// StatusDays is how long the verification status of a user is kept,
	// and the claims of their identity documents against duplicates
	// (counted from the last claim), in days (status_days); 0 keeps them
	// forever. Default 365 (Default and
	// a file); in a Config built in Go, New keeps a 0 as it is.
	StatusDays int `yaml:"status_days"`
	// AuditDays is how long audit events are kept, in days (audit_days);
	// 0 keeps them forever. Default 1825, five years (Default and a
	// file); in a Config built in Go, New keeps a 0 as it is.
	AuditDays int `yaml:"audit_days"`
}

// Badge is the bot's verification badge (bots.setCustomVerification): the
// mark and description Telegram shows on a verified user's profile to
// everyone. Telegram lets only bots it approved as verifiers set it;
// others are refused (BOT_VERIFIER_FORBIDDEN: the verification still
// completes, the admins are told once).
type Badge struct {
	// Enabled gives verified users the badge, and takes it off on reset,
	// deletion, revocation and expiry (enabled). Default false.
	Enabled bool `yaml:"enabled"`
	// Description is the badge's text for every user (description), at
	// most 70 characters. Default: "Identity verified: <level>, valid
	// until <date>" in the default language.
	Description string `yaml:"description"`
}

// Revocation is what /kyc_revoke does besides revoking.
type Revocation struct {
	// NotifyUser tells the user their verification was revoked
	// (notify_user). Default true (Default and a file); in a Config
	// built in Go, New keeps a false as it is.
	NotifyUser bool `yaml:"notify_user"`
}

// Reverification says when users are reminded to verify again.
type Reverification struct {
	// RemindDays are how many days before a verification ends the user is
	// reminded, with a one-tap button to verify again (remind_days), each
	// once. Default [30, 7, 1]; empty: no reminders.
	RemindDays []int `yaml:"remind_days"`
}

// DefaultRemindDays returns the default reverification.remind_days.
func DefaultRemindDays() []int { return []int{30, 7, 1} }

// Secret is a string that must never be printed: fmt shows it as
// "[redacted]" (or "" when empty). Value returns the real string.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// IsSet reports whether the secret is not empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String, so that %#v hides the secret too.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// MarshalText returns "[redacted]" so that encoding a Config (JSON, YAML,
// logs) never writes the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Defaults of the fields that have one.
const (
	DefaultRequestTTL      = 30 * time.Minute
	DefaultScanMemoryMB    = 16
	MaxScanMemoryMB        = 4096
	DefaultBotAPIURL       = "https://api.telegram.org"
	DefaultListen          = ":8080"
	DefaultOpsListen       = "127.0.0.1:9090"
	DefaultRedisAddr       = "127.0.0.1:6379"
	DefaultRedisPrefix     = "kycbot:"
	DefaultLanguage        = "en"
	DefaultGiveUpAfter     = 24 * time.Hour
	DefaultStatusDays      = 365
	DefaultAuditDays       = 1825
	MinRequestTTL          = time.Minute
	MaxRequestTTL          = 24 * time.Hour
	MinGiveUpAfter         = time.Minute
	MaxGiveUpAfter         = 30 * 24 * time.Hour
	MinWebhookSecretLength = 32
	// DefaultFileLinkTTL, MinFileLinkTTL and MaxFileLinkTTL: the default
	// and bounds of delivery.file_link_ttl (package bot/delivery's
	// DefaultLinkTTL, MinLinkTTL and MaxLinkTTL).
	DefaultFileLinkTTL = time.Hour
	MinFileLinkTTL     = time.Minute
	MaxFileLinkTTL     = 24 * time.Hour
)

// Defaults and bounds of the delivery's retries. The defaults equal those
// of package bot/delivery (DefaultMinBackoff, DefaultMaxBackoff,
// DefaultReclaimAfter), which imports config; a test there keeps them
// equal.
const (
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	DefaultReclaimAfter = time.Minute
	// ShortestBackoff and LongestBackoff bound both min_backoff and
	// max_backoff.
	ShortestBackoff = time.Second
	LongestBackoff  = 24 * time.Hour
	// MinReclaimAfter is three times the webhook request timeout (10s):
	// a shorter reclaim_after would let another instance take over a
	// delivery still under way.
	MinReclaimAfter = 30 * time.Second
	MaxReclaimAfter = time.Hour
)

// Default returns the configuration with every default filled in and no
// levels (not valid on its own: a config needs at least one level): what
// Parse starts from before reading a file, and a starting point for a
// Config built in Go (add levels, set what differs, pass it to New).
func Default() *Config {
	return &Config{
		Telegram: Telegram{Transport: TransportMTProto, Server: TelegramServer{DC: DefaultDC}, BotAPIURL: DefaultBotAPIURL,
			BotAPI: BotAPI{Receive: ReceivePolling}},
		Passport: Passport{RequestTTL: DefaultRequestTTL, ScanMemoryMB: DefaultScanMemoryMB},
		Rules:    verify.DefaultPolicy(),
		Web:      Web{Listen: DefaultListen, OpsListen: DefaultOpsListen},
		Redis: Redis{
			Mode:   RedisSingle,
			Addrs:  []string{DefaultRedisAddr},
			Prefix: DefaultRedisPrefix,
		},
		I18n:         I18n{DefaultLanguage: DefaultLanguage},
		AdminNotices: AdminNotices{Verified: true, Rejected: true, Alarms: true, ReviewReminder: DefaultReviewReminder},
		Delivery: Delivery{
			IncludeData: true, GiveUpAfter: DefaultGiveUpAfter,
			MinBackoff: DefaultMinBackoff, MaxBackoff: DefaultMaxBackoff, ReclaimAfter: DefaultReclaimAfter,
			FileLinkTTL: DefaultFileLinkTTL, Signature: SignatureKycbot, KeepEvents: DefaultKeepEvents,
		},
		Retention: Retention{StatusDays: DefaultStatusDays, AuditDays: DefaultAuditDays},
		Screening: Screening{
			Threshold: DefaultScreeningThreshold, BirthDate: ScreeningBirthDateRequired,
			PollInterval: DefaultScreeningPollInterval,
		},
		Revocation:     Revocation{NotifyUser: true},
		Reverification: Reverification{RemindDays: DefaultRemindDays()},
	}
}

// ErrNoLevel is returned (wrapped) by Level for a name that is not a level.
var ErrNoLevel = errors.New("config: no such level")

// Level returns the level called name.
func (c *Config) Level(name string) (*Level, error) {
	if l, ok := c.Levels[name]; ok && l != nil {
		return l, nil
	}
	names := c.LevelNames()
	return nil, fmt.Errorf("%w: %.40q%s; the levels are %s", ErrNoLevel, name, didYouMean(name, names), andList(names))
}

// DefaultLevel returns the level named by default_level (or the only
// level). It is never nil for a Config returned by Load, Parse or New.
func (c *Config) DefaultLevel() *Level {
	return c.Levels[c.DefaultLevelName]
}

// LevelNames returns the names of the levels, sorted.
func (c *Config) LevelNames() []string {
	names := make([]string, 0, len(c.Levels))
	for n := range c.Levels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// File returns the file name the config was read from (as given to Load or
// Parse).
func (c *Config) File() string { return c.file }

// Warnings returns the settings that are fine for checking the config but
// that a running bot needs (Telegram credentials, the private key, the
// privacy policy, the public URL), and risky settings worth a second look.
// Each problem has the path and position of the setting (or of its nearest
// parent in the file).
func (c *Config) Warnings() []Problem {
	return append([]Problem(nil), c.warnings...)
}

// RequireDelivery returns an *Error naming delivery.webhook_url when
// verified results would go nowhere in a bot without Go hooks (kycbot
// run): no webhook and no delivery.none: true. A bot built in Go whose
// WithOnVerified hook takes the results does not call it.
func (c *Config) RequireDelivery() error {
	if len(c.nowhere) == 0 {
		return nil
	}
	return &Error{File: c.file, Problems: append([]Problem(nil), c.nowhere...)}
}

// RequireTelegram returns an *Error listing the missing Telegram
// credentials (app_id, app_hash, bot_token; the token alone with
// telegram.transport botapi, and web.public_url to receive with a
// webhook), or nil when all are set.
// Commands that talk to Telegram call it; check-config only warns.
func (c *Config) RequireTelegram() error {
	if len(c.missing) == 0 {
		return nil
	}
	return &Error{File: c.file, Problems: append([]Problem(nil), c.missing...)}
}
