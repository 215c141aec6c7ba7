package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// checker validates a decoded Config, placing each problem on the node of
// its path (or of the nearest parent present in the file).
type checker struct {
	root    *yaml.Node
	baseDir string                  // where relative paths start (Load: the config file's folder)
	fromEnv map[string]string       // secret path -> environment variable it came from
	decoded []Problem               // the problems of decoding, found before the checks
	scopes  map[string]*scopeLayout // where the file wrote the items of each scope
	probs   []Problem
	warns   []Problem
	missing []Problem
	nowhere []Problem
	// listCheck checks a screening list file further (WithListCheck).
	listCheck func(ScreeningList) error
}

func (c *checker) problem(path, format string, args ...any) Problem {
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	p.Line, p.Column = locate(c.root, path)
	return p
}

func (c *checker) add(path, format string, args ...any) {
	if len(c.probs) >= maxCollected || c.decodeFailed(path) {
		return
	}
	c.probs = append(c.probs, c.problem(path, format, args...))
}

// addAt is add, located at node n when not nil (where the file wrote the
// value at fault) rather than by path.
func (c *checker) addAt(n *yaml.Node, path, format string, args ...any) {
	if len(c.probs) >= maxCollected || c.decodeFailed(path) {
		return
	}
	p := c.problem(path, format, args...)
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	c.probs = append(c.probs, p)
}

// addAtKey reports a problem located at key in the mapping at parent (for
// keys such as level names that may hold dots).
func (c *checker) addAtKey(parent, key, path, format string, args ...any) {
	p := c.problem(parent, format, args...)
	p.Path = path
	if _, m := child(c.root, pathSeg{key: parent, index: -1}); m != nil {
		if k, _ := child(m, pathSeg{key: key, index: -1}); k != nil {
			p.Line, p.Column = k.Line, k.Column
		}
	}
	c.probs = append(c.probs, p)
}

func (c *checker) warn(path, format string, args ...any) {
	c.warns = append(c.warns, c.problem(path, format, args...))
}

// present reports whether path is written in the file.
func (c *checker) present(path string) bool {
	n := c.root
	for _, seg := range splitPath(path) {
		if _, n = child(n, seg); n == nil {
			return false
		}
	}
	return true
}

// decodeFailed reports whether decoding already found a problem at path or
// at one of its parents: checking the value left there would only repeat
// it in other words.
func (c *checker) decodeFailed(path string) bool {
	for _, p := range c.decoded {
		if p.Path == path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[") {
			return true
		}
	}
	return false
}

// reported reports whether a problem was already found at path.
func (c *checker) reported(path string) bool {
	for _, p := range c.probs {
		if p.Path == path {
			return true
		}
	}
	return false
}

// env returns " (from VAR)" when the secret at path came from the
// environment.
func (c *checker) env(path string) string {
	if v := c.fromEnv[path]; v != "" {
		return " (from " + v + ")"
	}
	return ""
}

func (c *checker) check(cfg *Config) {
	c.telegram(cfg.Telegram)
	c.transport(cfg)
	c.passport(cfg.Passport)
	c.levels(cfg)
	c.web(cfg.Web)
	c.review(cfg)
	c.duration("admin_notices.review_reminder", cfg.AdminNotices.ReviewReminder, MinReviewReminder, MaxReviewReminder)
	c.brand(&cfg.Web.Brand)
	c.redis(cfg.Redis)
	c.i18n(cfg.I18n)
	c.admins(cfg.Admins)
	c.support(cfg.Support)
	c.delivery(cfg.Delivery)
	c.retention(cfg.Retention)
	c.screening(&cfg.Screening, c.listCheck)
	c.lifecycle(cfg)
}

// lifecycle checks what follows a verification: the badge, the
// re-verification periods and reminders.
func (c *checker) lifecycle(cfg *Config) {
	if d := cfg.Badge.Description; d != "" {
		switch {
		case utf8.RuneCountInString(d) > 70:
			c.add("badge.description", "is %d characters long; Telegram allows at most 70: shorten it, or leave it out for the default description", utf8.RuneCountInString(d))
		case strings.ContainsAny(d, "\r\n") || !utf8.ValidString(d):
			c.add("badge.description", "must be one line of text: remove the line breaks")
		}
	}
	for _, name := range cfg.LevelNames() {
		if l := cfg.Levels[name]; l != nil && l.ReverifyAfter != 0 && l.ReverifyAfter < 24*time.Hour {
			c.add("levels."+name+".reverify_after", "%s is shorter than a day: use a period such as 8760h (a year), or 0 for none", fmtDuration(l.ReverifyAfter))
		}
	}
	seen := map[int]bool{}
	for i, d := range cfg.Reverification.RemindDays {
		path := fmt.Sprintf("reverification.remind_days[%d]", i)
		switch {
		case d < 1 || d > 3650:
			c.add(path, "%d is not a number of days from 1 to 3650", d)
		case seen[d]:
			c.add(path, "%d is listed twice: list each day once", d)
		}
		seen[d] = true
	}
}

var (
	hex32    = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	botToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,}$`)
)

func (c *checker) telegram(t Telegram) {
	need := func(path, format string, args ...any) {
		p := c.problem(path, format, args...)
		c.missing = append(c.missing, p)
		c.warns = append(c.warns, p)
	}
	// Over MTProto the bot needs the application's api_id and api_hash;
	// over the Bot API the token alone.
	mtproto := t.Transport != TransportBotAPI
	const tokenOnly = "; or set telegram.transport: botapi to run on the Bot API with the bot token alone"
	switch {
	case t.AppID < 0:
		c.add("telegram.app_id", "%d is negative: use the api_id shown at my.telegram.org", t.AppID)
	case t.AppID == 0 && mtproto:
		need("telegram.app_id", "is not set: the bot on MTProto (telegram.transport: mtproto, the default) needs the api_id from my.telegram.org%s", tokenOnly)
	}
	switch {
	case !t.AppHash.IsSet() && mtproto:
		need("telegram.app_hash", "is not set: the bot on MTProto (telegram.transport: mtproto, the default) needs the api_hash from my.telegram.org; write it here or set %s%s", EnvAppHash, tokenOnly)
	case t.AppHash.IsSet() && !hex32.MatchString(t.AppHash.Value()):
		c.add("telegram.app_hash", "is not an api_hash%s: it must be the 32 hexadecimal characters shown at my.telegram.org", c.env("telegram.app_hash"))
	}
	if !t.BotToken.IsSet() {
		need("telegram.bot_token", "is not set: commands that connect to Telegram need the bot's token from @BotFather; write it here or set %s", EnvBotToken)
	} else if !botToken.MatchString(t.BotToken.Value()) {
		c.add("telegram.bot_token", "does not look like a bot token%s: @BotFather gives one such as 123456789:AAE..., digits, a colon and 35 letters, digits, _ or -", c.env("telegram.bot_token"))
	}
	c.telegramServer(t.Server)
	if msg := checkBotAPIURL(t.BotAPIURL); msg != "" {
		c.add("telegram.bot_api_url", "%s", msg)
	}
}

// transport checks telegram.transport and telegram.bot_api, with what
// they need from the rest of the config.
func (c *checker) transport(cfg *Config) {
	t := cfg.Telegram
	switch t.Transport {
	case TransportMTProto, TransportBotAPI:
	default:
		c.add("telegram.transport", "%.40q is not a transport: use %s (gotd; app_id, app_hash and bot_token) or %s (the Bot API at bot_api_url; bot_token alone)",
			t.Transport, TransportMTProto, TransportBotAPI)
		return
	}
	switch t.BotAPI.Receive {
	case ReceivePolling, ReceiveWebhook:
	default:
		c.add("telegram.bot_api.receive", "%.40q is not a way of receiving: use %s (getUpdates, one instance at a time; the default) or %s (Telegram posts the updates to <web.public_url>%s..., any instance)",
			t.BotAPI.Receive, ReceivePolling, ReceiveWebhook, WebhookPathPrefix)
		return
	}
	switch {
	case !t.OnBotAPI() && t.BotAPI.Receive == ReceiveWebhook:
		c.warn("telegram.bot_api.receive", "is ignored: it applies to telegram.transport %s only, and the transport is %s", TransportBotAPI, t.Transport)
	case !t.OnBotAPI() || t.BotAPI.Receive != ReceiveWebhook:
	case cfg.Web.PublicURL == "":
		// Beside web.public_url's own warning (the request page); this one
		// makes run refuse to start.
		p := c.problem("web.public_url",
			"is not set: telegram.bot_api.receive webhook needs it, Telegram posts the updates to <web.public_url>%s...; set it, or receive with polling", WebhookPathPrefix)
		c.missing = append(c.missing, p)
		c.warns = append(c.warns, p)
	case t.BotAPIURL == DefaultBotAPIURL && !strings.HasPrefix(strings.ToLower(cfg.Web.PublicURL), "https://"):
		c.warn("web.public_url", "is not https: Telegram posts webhook updates to https URLs only (on port 443, 80, 88 or 8443), so telegram.bot_api.receive webhook will not receive; use an https public URL, or polling")
	}
}

// WebhookPathPrefix starts the path of the standalone bot's webhook on
// web.listen (telegram.bot_api.receive webhook): the rest is derived from
// the bot token, so that only Telegram (and whoever holds the token)
// knows it.
const WebhookPathPrefix = "/telegram/"

// checkBotAPIURL checks the base URL of a Bot API server: http or https
// (a self-hosted server or the sandbox may run without TLS), a host, and
// nothing the method path could not follow.
func checkBotAPIURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "is empty: leave it out for Telegram's " + DefaultBotAPIURL + ", or give the URL of your Bot API server"
	case err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "is not an absolute URL: write it in full, such as " + DefaultBotAPIURL
	case !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http"):
		return fmt.Sprintf("must be an http or https URL, not %.20s:", u.Scheme)
	case u.User != nil:
		return "must not hold a user name or password"
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "must not have a ?query or #fragment: kycbot adds /bot<token>/<method> to it"
	case strings.Contains(u.Path, "/bot"):
		return "must be the server's base URL, without /bot<token>: kycbot adds the token itself"
	}
	return ""
}

func (c *checker) passport(p Passport) {
	if p.PrivateKeyFile == "" {
		c.warn("passport.private_key_file", "is not set: the bot needs its RSA private key to decrypt Passport data; create one with 'kycbot keygen --out FILE'")
	}
	for i, f := range p.PreviousPrivateKeyFiles {
		path := fmt.Sprintf("passport.previous_private_key_files[%d]", i)
		switch {
		case f == "":
			c.add(path, "is empty: give the path of a key the bot used before, or remove the entry")
		case f == p.PrivateKeyFile:
			c.add(path, "is passport.private_key_file itself: list only the keys used before the rotation")
		}
	}
	if p.PrivacyPolicyURL == "" {
		c.warn("passport.privacy_policy_url", "is not set: the bot needs the https URL of your privacy policy, which Telegram shows in the Passport form")
	} else if msg := checkURL(p.PrivacyPolicyURL, false); msg != "" {
		c.add("passport.privacy_policy_url", "%s", msg)
	}
	c.duration("passport.request_ttl", p.RequestTTL, MinRequestTTL, MaxRequestTTL)
	if p.ScanMemoryMB < 0 || p.ScanMemoryMB > MaxScanMemoryMB {
		c.add("passport.scan_memory_mb", "%d is out of range: use between 0 (every scan staged on disk) and %d megabytes", p.ScanMemoryMB, MaxScanMemoryMB)
	}
}

func (c *checker) duration(path string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		c.add(path, "%s is out of range: use between %s and %s", fmtDuration(d), fmtDuration(lo), fmtDuration(hi))
	}
}

// fmtDuration writes d the way people write it in the config: 30m, 24h, 7d.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

var levelName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

func (c *checker) levels(cfg *Config) {
	baseErrs := sortedPolicyErrors(cfg.Rules)
	base := map[verify.PolicyError]bool{}
	for _, e := range baseErrs {
		base[e] = true
		c.policyError("rules", e)
	}
	names := cfg.LevelNames()
	if len(names) == 0 && !c.reported("levels") {
		c.add("levels", "no level is defined: add at least one, such as levels: {basic: {scope: [personal_details, phone_number]}}")
	}
	for _, name := range names {
		path := "levels." + name
		if !levelName.MatchString(name) {
			c.addAtKey("levels", name, path, "%.40q is not a valid level name: use 1 to 32 lowercase letters, digits, _ and -, such as %q", name, suggestLevelName(name))
			continue
		}
		l := cfg.Levels[name]
		if l.Name != name {
			c.add(path, "is named %.40q: a level's Name is its key under levels; leave Name empty", l.Name)
		}
		switch {
		case len(l.Scope.Elements) > 0:
			c.scope(path+".scope", l.Scope)
		case !c.present(path + ".scope"):
			c.add(path+".scope", "is missing: list what this level asks for, such as [personal_details, phone_number]")
		}
		for _, e := range sortedPolicyErrors(l.Policy) {
			if base[e] && !c.present(path+".rules."+e.Path) {
				continue // the top-level rules already have it
			}
			c.policyError(path+".rules", e)
		}
	}
	switch {
	case cfg.DefaultLevelName != "":
		if _, ok := cfg.Levels[cfg.DefaultLevelName]; !ok && len(names) > 0 {
			c.add("default_level", "%.40q is not a level%s; the levels are %s", cfg.DefaultLevelName, didYouMean(cfg.DefaultLevelName, names), andList(names))
		}
	case len(names) == 1:
		cfg.DefaultLevelName = names[0]
	case len(names) > 1:
		c.add("default_level", "is not set: with several levels, name the one /start and /verify use: %s", orList(names))
	}
}

// sortedPolicyErrors returns the problems of p in a stable order (Validate
// reports some in map order).
func sortedPolicyErrors(p verify.Policy) []verify.PolicyError {
	errs := p.Validate()
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Path != errs[j].Path {
			return errs[i].Path < errs[j].Path
		}
		return errs[i].Message < errs[j].Message
	})
	return errs
}

// suggestLevelName turns s into a valid level name, for the message.
func suggestLevelName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteRune('-')
		}
		if b.Len() >= 32 {
			break
		}
	}
	if b.Len() == 0 {
		return "basic"
	}
	return b.String()
}

// policyError reports a problem of verify.Policy.Validate found in the
// policy at prefix.
func (c *checker) policyError(prefix string, e verify.PolicyError) {
	msg := e.Message
	if t, ok := strings.CutPrefix(e.Path, "documents.types."); ok && !strings.Contains(t, ".") {
		if !passport.ElementType(t).Valid() {
			msg += didYouMean(t, []string{"passport", "driver_license", "identity_card", "internal_passport"})
		}
	}
	c.add(prefix+"."+e.Path, "%s", msg)
}

func (c *checker) web(w Web) {
	listenOK := true
	if msg := checkHostPort(w.Listen, true); msg != "" {
		c.add("web.listen", "%s", msg)
		listenOK = false
	}
	if w.PublicURL == "" {
		c.warn("web.public_url", "is not set: the bot needs the https URL at which users open the request page")
	} else if msg := checkURL(w.PublicURL, true); msg != "" {
		c.add("web.public_url", "%s", msg)
	}
	c.opsListen(w, listenOK)
	if w.OpsURL != "" {
		u, err := url.Parse(w.OpsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			c.add("web.ops_url", "%.60q is not an http or https URL without a query, such as http://10.0.0.5:9090", w.OpsURL)
		}
	}
}

// review checks what manual review needs, when a level asks for it: the
// admins who decide, and the private server of the review page.
func (c *checker) review(cfg *Config) {
	if !cfg.NeedsReview() {
		return
	}
	if len(cfg.Admins) == 0 {
		c.add("admins", "is empty, but submissions can go to manual review (rules.duplicates: review, rules.review or rules.review_sample of a level, or a hit of screening.lists): list the Telegram user IDs of the admins who decide")
	}
	if !cfg.Web.SeparateOps() {
		c.add("web.ops_listen", "is %q, but submissions can go to manual review (a level's rules or screening.lists): the review page, which shows users' documents, is served only on a private server of its own; give it an address such as %s", OpsPublic, opsExample)
	}
}

// opsListen checks web.ops_listen: public, or a host:port of its own,
// preferably private.
func (c *checker) opsListen(w Web, listenOK bool) {
	const path = "web.ops_listen"
	if w.OpsListen == OpsPublic {
		return
	}
	if w.OpsListen == "" {
		c.add(path, "is empty: give the health checks and metrics a private address of their own, such as %s (the default), or write %q to serve them on web.listen", opsExample, OpsPublic)
		return
	}
	if msg := checkAddr(w.OpsListen, true, opsExample, "127.0.0.1"); msg != "" {
		c.add(path, "%s, or %q to serve them on web.listen", msg, OpsPublic)
		return
	}
	if listenOK && sameListenAddr(w.Listen, w.OpsListen) {
		c.add(path, "%.60q clashes with web.listen (%.60q): the two servers cannot share a port; give the health checks and metrics a port of their own, such as %s, or write %q to serve them on web.listen",
			w.OpsListen, w.Listen, opsExample, OpsPublic)
		return
	}
	if host, _, _ := net.SplitHostPort(w.OpsListen); allInterfaces(host) {
		c.warn(path, "%.60q listens on all network interfaces: /metrics and the checks are reachable by anyone who reaches this host; bind it to a private address such as %s, unless a firewall or the container network keeps the port private",
			w.OpsListen, opsExample)
	}
}

// opsExample is the web.ops_listen the messages suggest.
const opsExample = DefaultOpsListen

// allInterfaces reports whether a listen host binds every interface.
func allInterfaces(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// sameListenAddr reports whether listening on a and on b (valid
// host:port addresses) would conflict: the same port (not 0, which picks
// a free one) on the same host, or on all interfaces for either.
func sameListenAddr(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || na != nb {
		return false
	}
	return allInterfaces(ha) || allInterfaces(hb) || strings.EqualFold(ha, hb)
}

// checkURL checks an absolute https URL (or http for localhost when
// allowed). The message never repeats the URL, which may carry a token.
func checkURL(raw string, localHTTP bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "is not an absolute URL: write it in full, such as https://kyc.example.com/"
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	if u.Fragment != "" {
		return "must not have a #fragment"
	}
	host := u.Hostname()
	if host == "" {
		return "has no host name"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		if localHTTP && isLocalhost(host) {
			return ""
		}
		if localHTTP {
			return "must use https (http is allowed only for localhost)"
		}
		return "must use https"
	}
	return fmt.Sprintf("must be an https URL, not %.20s:", u.Scheme)
}

var (
	supportUsername = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
	supportEmail    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// support checks the support contact: a @username, an https URL or an
// e-mail address.
func (c *checker) support(s string) {
	switch {
	case s == "":
	case strings.HasPrefix(s, "@"):
		if !supportUsername.MatchString(s) {
			c.add("support", "%q is not a Telegram username: write @ and 4 to 32 of A-Z a-z 0-9 _, starting with a letter, such as @acme_help", s)
		}
	case strings.Contains(s, "://"):
		if msg := checkURL(s, false); msg != "" {
			c.add("support", "%s", msg)
		}
	case strings.Contains(s, "@"):
		if !supportEmail.MatchString(s) {
			c.add("support", "%q is not an e-mail address", s)
		}
	default:
		c.add("support", "%q is not a contact: write a Telegram username (@acme_help), an https URL or an e-mail address", s)
	}
}

func isLocalhost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkHostPort checks "host:port" with a numeric port.
func checkHostPort(s string, emptyHost bool) string {
	example := "127.0.0.1:6379"
	if emptyHost {
		example = ":8080"
	}
	return checkAddr(s, emptyHost, example, "")
}

// checkAddr is checkHostPort with the example the messages give, and the
// host they suggest for a bare port number.
func checkAddr(s string, emptyHost bool, example, bareHost string) string {
	if strings.Contains(s, "@") || strings.Contains(s, "://") {
		return "must be host:port only, such as " + example + "; put credentials in their own settings"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if _, err := strconv.Atoi(s); err == nil {
			return fmt.Sprintf("%.10s is not host:port: did you mean \"%s:%.10s\"?", s, bareHost, s)
		}
		return fmt.Sprintf("%.60q is not host:port, such as %s", s, example)
	}
	if host == "" && !emptyHost {
		return fmt.Sprintf("%.60q has no host: write it as %s", s, example)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (!emptyHost && n == 0) {
		return fmt.Sprintf("%.60q has no valid port: use a number from 1 to 65535", s)
	}
	return ""
}

var redisModes = []string{RedisSingle, RedisSentinel, RedisCluster}

func (c *checker) redis(r Redis) {
	modeOK := true
	switch r.Mode {
	case RedisSingle, RedisSentinel, RedisCluster:
	default:
		modeOK = false
		c.add("redis.mode", "%.40q is not a Redis mode%s; use single, sentinel or cluster", r.Mode, didYouMean(r.Mode, redisModes))
	}
	if len(r.Addrs) == 0 {
		c.add("redis.addrs", "is empty: give at least one host:port, such as 127.0.0.1:6379")
	}
	seen := map[string]int{}
	for i, a := range r.Addrs {
		path := indexPath("redis.addrs", i)
		if msg := checkHostPort(a, false); msg != "" {
			c.add(path, "%s", msg)
			continue
		}
		if j, dup := seen[a]; dup {
			c.add(path, "%.60q is listed twice (also at redis.addrs[%d])", a, j)
		}
		seen[a] = i
	}
	if modeOK && r.Mode == RedisSingle && len(r.Addrs) > 1 {
		c.add("redis.addrs", "single mode connects to one server, but %d addresses are listed: keep one, or set mode to sentinel or cluster", len(r.Addrs))
	}
	switch {
	case r.Mode == RedisSentinel && r.MasterName == "":
		c.add("redis.master_name", "is required in sentinel mode: the name of the master the sentinels watch (often mymaster)")
	case modeOK && r.Mode != RedisSentinel && r.MasterName != "":
		c.add("redis.master_name", "is used only in sentinel mode; remove it or set mode: sentinel")
	}
	switch {
	case r.WaitReplicas < 0:
		c.add("redis.wait_replicas", "%d is negative: give how many replicas must have a write, 0 for none", r.WaitReplicas)
	case r.Mode == RedisCluster && r.WaitReplicas > 0:
		c.add("redis.wait_replicas", "is for sentinel and single modes: in a Redis Cluster kycbot cannot wait for replicas yet; remove it")
	}
	switch {
	case r.DB < 0:
		c.add("redis.db", "%d is negative: databases are numbered from 0", r.DB)
	case r.Mode == RedisCluster && r.DB != 0:
		c.add("redis.db", "Redis Cluster has only database 0; remove db")
	}
	if r.Prefix == "" {
		c.add("redis.prefix", "is empty: use a prefix such as \"kycbot:\" so that kycbot's keys cannot collide with other data")
	} else if strings.ContainsFunc(r.Prefix, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		c.add("redis.prefix", "must not contain spaces or control characters")
	}
	t := r.TLS
	if !t.Enabled {
		for _, s := range []struct {
			key string
			set bool
		}{{"ca_file", t.CAFile != ""}, {"server_name", t.ServerName != ""}, {"insecure_skip_verify", t.InsecureSkipVerify}} {
			if s.set {
				c.add("redis.tls."+s.key, "has no effect while redis.tls.enabled is false: set enabled: true, or remove it")
			}
		}
	} else if t.InsecureSkipVerify {
		c.warn("redis.tls.insecure_skip_verify", "is true: the Redis server's certificate is not checked; use it for tests only")
	}
}

func (c *checker) i18n(i I18n) {
	for _, l := range Languages() {
		if i.DefaultLanguage == l {
			return
		}
	}
	c.add("i18n.default_language", "%.40q is not a language kycbot speaks%s; use one of %s", i.DefaultLanguage, didYouMean(i.DefaultLanguage, Languages()), strings.Join(Languages(), ", "))
}

func (c *checker) admins(ids []int64) {
	seen := map[int64]int{}
	for i, id := range ids {
		path := indexPath("admins", i)
		if id <= 0 {
			c.add(path, "%d is not a Telegram user ID: user IDs are positive numbers (ask @userinfobot for yours)", id)
			continue
		}
		if j, dup := seen[id]; dup {
			c.add(path, "%d is listed twice (also at admins[%d])", id, j)
		}
		seen[id] = i
	}
}

func (c *checker) delivery(d Delivery) {
	const secretPath = "delivery.webhook_secret"
	switch {
	case d.None && d.WebhookURL != "":
		c.add("delivery.none", "is true while webhook_url is set: remove none to send results to the webhook, or webhook_url to keep them nowhere on purpose")
	case !d.None && d.WebhookURL == "":
		c.nowhere = append(c.nowhere, c.problem("delivery.webhook_url", "is not set: verified results would go nowhere (kycbot run has no Go hook to hand them to); "+
			"set it to your backend's endpoint (docs/webhook.md), or set delivery.none: true to run without delivering results on purpose"))
	}
	if d.WebhookURL != "" {
		if msg := checkURL(d.WebhookURL, true); msg != "" {
			c.add("delivery.webhook_url", "%s", msg)
		}
		if !d.WebhookSecret.IsSet() {
			c.add(secretPath, "is required when webhook_url is set: write at least %d random characters here or in %s (for example the output of 'openssl rand -hex 32')", MinWebhookSecretLength, EnvWebhookSecret)
		}
	}
	if n := utf8.RuneCountInString(d.WebhookSecret.Value()); d.WebhookSecret.IsSet() && n < MinWebhookSecretLength {
		c.add(secretPath, "is %d characters%s, need at least %d (for example the output of 'openssl rand -hex 32')", n, c.env(secretPath), MinWebhookSecretLength)
	}
	const prevPath = "delivery.previous_webhook_secret"
	if n := utf8.RuneCountInString(d.PreviousWebhookSecret.Value()); d.PreviousWebhookSecret.IsSet() && n < MinWebhookSecretLength {
		c.add(prevPath, "is %d characters%s, need at least %d: it must be the webhook secret used before the rotation", n, c.env(prevPath), MinWebhookSecretLength)
	}
	if d.PreviousWebhookSecret.IsSet() && d.PreviousWebhookSecret == d.WebhookSecret {
		c.add(prevPath, "is the same as delivery.webhook_secret: set the new secret in webhook_secret and the old one here, or remove previous_webhook_secret")
	}
	c.duration("delivery.give_up_after", d.GiveUpAfter, MinGiveUpAfter, MaxGiveUpAfter)
	c.duration("delivery.file_link_ttl", d.FileLinkTTL, MinFileLinkTTL, MaxFileLinkTTL)
	c.duration("delivery.keep_events", d.KeepEvents, MinKeepEvents, MaxKeepEvents)
	switch d.Signature {
	case SignatureKycbot:
	case SignatureStandard, SignatureBoth:
		for _, s := range []struct {
			path string
			sec  Secret
		}{{secretPath, d.WebhookSecret}, {prevPath, d.PreviousWebhookSecret}} {
			if !s.sec.IsSet() {
				continue
			}
			if _, err := StandardKey(s.sec.Value()); err != nil {
				c.add(s.path, "%s%s: delivery.signature %s signs with Standard Webhooks", err.Error(), c.env(s.path), d.Signature)
			}
		}
	default:
		c.add("delivery.signature", "is %q: use %s (X-Kycbot-Signature), %s (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) or %s",
			d.Signature, SignatureKycbot, SignatureStandard, SignatureBoth)
	}
	c.backoff(d)
}

// backoff checks the pauses between delivery attempts and reclaim_after.
func (c *checker) backoff(d Delivery) {
	const (
		minPath     = "delivery.min_backoff"
		maxPath     = "delivery.max_backoff"
		reclaimPath = "delivery.reclaim_after"
	)
	c.duration(minPath, d.MinBackoff, ShortestBackoff, LongestBackoff)
	c.duration(maxPath, d.MaxBackoff, ShortestBackoff, LongestBackoff)
	if d.ReclaimAfter > 0 && d.ReclaimAfter < MinReclaimAfter {
		c.add(reclaimPath, "%s is too short: another instance would take over deliveries still under way (a request may take 10s); use between %s and %s",
			fmtDuration(d.ReclaimAfter), fmtDuration(MinReclaimAfter), fmtDuration(MaxReclaimAfter))
	} else {
		c.duration(reclaimPath, d.ReclaimAfter, MinReclaimAfter, MaxReclaimAfter)
	}
	for _, p := range []string{minPath, maxPath} {
		if c.reported(p) || c.decodeFailed(p) {
			return // the order of values already refused means nothing
		}
	}
	switch {
	case d.MinBackoff > d.MaxBackoff && c.present(maxPath):
		c.add(maxPath, "%s is below min_backoff (%s): raise max_backoff to at least %s, or lower min_backoff",
			fmtDuration(d.MaxBackoff), fmtDuration(d.MinBackoff), fmtDuration(d.MinBackoff))
	case d.MinBackoff > d.MaxBackoff:
		c.add(minPath, "%s is above max_backoff (default %s): lower min_backoff, or set max_backoff to at least %s",
			fmtDuration(d.MinBackoff), fmtDuration(d.MaxBackoff), fmtDuration(d.MinBackoff))
	case d.MinBackoff >= d.GiveUpAfter && !c.reported("delivery.give_up_after"):
		c.warn(minPath, "%s is not shorter than give_up_after (%s): a failing delivery is tried only two or three times before it is given up; lower min_backoff or raise give_up_after",
			fmtDuration(d.MinBackoff), fmtDuration(d.GiveUpAfter))
	}
}

func (c *checker) retention(r Retention) {
	for _, f := range []struct {
		key string
		v   int
	}{{"status_days", r.StatusDays}, {"audit_days", r.AuditDays}} {
		if f.v < 0 {
			c.add("retention."+f.key, "%d is negative: use a number of days, or 0 to keep forever", f.v)
		}
	}
}
