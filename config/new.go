package config

import (
	"reflect"

	"github.com/kycbot/kycbot/verify"
)

// New checks a configuration built in Go and returns it complete: the
// defaults filled in, each level's rules resolved, every setting checked by
// the very code that checks a file. It returns an *Error listing every
// problem at once (use errors.As), each naming the YAML path of the setting
// at fault ("levels.full.rules.personal_details.min_age: ...") with no line
// or column; the messages are those Parse gives for the same mistake in a
// file.
//
// Defaults: a field left at its zero value takes the default its doc
// names (Telegram.Server.DC, Passport.RequestTTL, Web.Listen, the Redis
// mode, addresses and prefix, I18n.DefaultLanguage, the delivery
// durations, Web.OpsListen, Reverification.RemindDays when nil), and a
// zero Rules is verify.DefaultPolicy.
// Some settings have a zero that means something and New keeps it:
// Delivery.IncludeData (false: the webhook carries no personal data),
// Retention.StatusDays and AuditDays (0: kept forever),
// Passport.ScanMemoryMB (0: every scan staged on disk), the AdminNotices
// and Revocation.NotifyUser (false: not sent). Start from Default() for a Config holding
// every default, as a file leaving every key out does.
//
// Levels: New sets each level's Name to its key under Levels and resolves
// its Policy, given as the level's own rules, on top of the top-level
// Rules, the way a file's level rules override the top-level keys they
// name; in Go, a field is "named" when it is not its zero value:
//
//   - a number, a bool or a string that is not zero replaces the inherited
//     one; a zero one inherits it;
//   - a list that is not nil replaces the inherited list (an empty, non-nil
//     list clears it); a nil list inherits it;
//   - verify.DocumentRules.Types merges by document type, and within an
//     entry a non-nil pointer replaces the inherited value.
//
// A level cannot thus lower a rule to zero (no minimum age, latin_names
// off) that the top-level rules set: give it its whole policy with
// Level.SetWholePolicy instead. A level returned by New, Parse or Load
// holds its whole, resolved policy and keeps it when passed to New again.
//
// New reads neither files nor the environment (secrets are the values
// given) and does not change c: the Config it returns shares no map, slice
// or pointer with c. Warnings, RequireTelegram and RequireDelivery work as for
// a file.
func New(c Config) (*Config, error) {
	cfg := deepCopy(reflect.ValueOf(c)).Interface().(Config)
	cfg.file, cfg.warnings, cfg.missing, cfg.nowhere = "", nil, nil, nil
	ch := &checker{fromEnv: map[string]string{}}
	ch.settle(&cfg)
	if len(ch.probs) > 0 {
		return nil, &Error{Problems: limitProblems(sortProblems(ch.probs))}
	}
	cfg.warnings = sortProblems(ch.warns)
	cfg.missing = sortProblems(ch.missing)
	cfg.nowhere = ch.nowhere
	return &cfg, nil
}

// SetWholePolicy makes (a copy of) p the level's whole policy: New keeps
// it as it is instead of resolving it on top of the top-level rules. Use
// it for a level built in Go that sets a rule to its zero value (no
// minimum age, latin_names off) which the top-level rules set otherwise.
func (l *Level) SetWholePolicy(p verify.Policy) {
	l.Policy = deepCopy(reflect.ValueOf(p)).Interface().(verify.Policy)
	l.whole = true
}

// settle completes cfg and checks it: the one path of New and Parse. It
// fills the defaults of the settings left at their zero value, resolves
// each level's rules and collects every problem.
func (c *checker) settle(cfg *Config) {
	c.defaults(cfg)
	c.check(cfg)
}

// defaults fills the settings left at their zero value with their
// defaults. A zero written in the file is left for the checks to refuse:
// for a file, the defaults are already in place (Parse decodes onto
// Default()); for a Config built in Go, nothing is written.
func (c *checker) defaults(cfg *Config) {
	fill := func(path string, zero bool, set func()) {
		if zero && !c.present(path) {
			set()
		}
	}
	serverDefaults(&cfg.Telegram.Server, serverPath, c.present)
	fill("telegram.transport", cfg.Telegram.Transport == "", func() { cfg.Telegram.Transport = TransportMTProto })
	fill("telegram.bot_api.receive", cfg.Telegram.BotAPI.Receive == "", func() { cfg.Telegram.BotAPI.Receive = ReceivePolling })
	fill("telegram.bot_api_url", cfg.Telegram.BotAPIURL == "", func() { cfg.Telegram.BotAPIURL = DefaultBotAPIURL })
	fill("passport.request_ttl", cfg.Passport.RequestTTL == 0, func() { cfg.Passport.RequestTTL = DefaultRequestTTL })
	fill("rules", reflect.ValueOf(cfg.Rules).IsZero(), func() { cfg.Rules = verify.DefaultPolicy() })
	fill("web.listen", cfg.Web.Listen == "", func() { cfg.Web.Listen = DefaultListen })
	fill("web.ops_listen", cfg.Web.OpsListen == "", func() { cfg.Web.OpsListen = DefaultOpsListen })
	fill("redis.mode", cfg.Redis.Mode == "", func() { cfg.Redis.Mode = RedisSingle })
	fill("redis.addrs", len(cfg.Redis.Addrs) == 0, func() { cfg.Redis.Addrs = []string{DefaultRedisAddr} })
	fill("redis.prefix", cfg.Redis.Prefix == "", func() { cfg.Redis.Prefix = DefaultRedisPrefix })
	fill("i18n.default_language", cfg.I18n.DefaultLanguage == "", func() { cfg.I18n.DefaultLanguage = DefaultLanguage })
	d := &cfg.Delivery
	fill("delivery.give_up_after", d.GiveUpAfter == 0, func() { d.GiveUpAfter = DefaultGiveUpAfter })
	fill("delivery.min_backoff", d.MinBackoff == 0, func() { d.MinBackoff = DefaultMinBackoff })
	fill("delivery.max_backoff", d.MaxBackoff == 0, func() { d.MaxBackoff = DefaultMaxBackoff })
	fill("delivery.reclaim_after", d.ReclaimAfter == 0, func() { d.ReclaimAfter = DefaultReclaimAfter })
	fill("delivery.file_link_ttl", d.FileLinkTTL == 0, func() { d.FileLinkTTL = DefaultFileLinkTTL })
	fill("admin_notices.review_reminder", cfg.AdminNotices.ReviewReminder == 0, func() { cfg.AdminNotices.ReviewReminder = DefaultReviewReminder })
	fill("reverification.remind_days", cfg.Reverification.RemindDays == nil, func() { cfg.Reverification.RemindDays = DefaultRemindDays() })
	fill("delivery.signature", d.Signature == "", func() { d.Signature = SignatureKycbot })
	fill("delivery.keep_events", d.KeepEvents == 0, func() { d.KeepEvents = DefaultKeepEvents })
	sc := &cfg.Screening
	fill("screening.threshold", sc.Threshold == 0, func() { sc.Threshold = DefaultScreeningThreshold })
	fill("screening.birth_date", sc.BirthDate == "", func() { sc.BirthDate = ScreeningBirthDateRequired })
	fill("screening.poll_interval", sc.PollInterval == 0, func() { sc.PollInterval = DefaultScreeningPollInterval })
	for name, l := range cfg.Levels {
		if l == nil {
			l = &Level{}
			cfg.Levels[name] = l
		}
		if l.Name == "" {
			l.Name = name
		}
		if !l.whole {
			l.Policy = overlay(reflect.ValueOf(cfg.Rules), reflect.ValueOf(l.Policy)).Interface().(verify.Policy)
			l.whole = true
		}
	}
}

// overlay returns a copy of base with the parts of over that are set on
// top (see New): structs field by field, a non-zero scalar, a non-nil list
// or pointer replaces, maps merge by key. The result shares nothing with
// base or over.
func overlay(base, over reflect.Value) reflect.Value {
	switch over.Kind() {
	case reflect.Struct:
		out := deepCopy(base)
		for i := range over.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(overlay(base.Field(i), over.Field(i)))
			}
		}
		return out
	case reflect.Map:
		if over.IsNil() {
			return deepCopy(base)
		}
		out := deepCopy(base)
		if out.IsNil() {
			out = reflect.MakeMapWithSize(over.Type(), over.Len())
		}
		iter := over.MapRange()
		for iter.Next() {
			if old := base.MapIndex(iter.Key()); old.IsValid() {
				out.SetMapIndex(iter.Key(), overlay(old, iter.Value()))
			} else {
				out.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
			}
		}
		return out
	case reflect.Slice, reflect.Pointer:
		if over.IsNil() {
			return deepCopy(base)
		}
		return deepCopy(over)
	default:
		if over.IsZero() {
			return deepCopy(base)
		}
		return deepCopy(over)
	}
}
