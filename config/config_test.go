package config

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

const examplePath = "../config.example.yaml"

func loadExample(t *testing.T, env func(string) (string, bool)) *Config {
	t.Helper()
	cfg, err := Load(examplePath, WithEnv(env))
	if err != nil {
		t.Fatalf("config.example.yaml has problems:\n%v", err)
	}
	return cfg
}

func TestExampleLoads(t *testing.T) {
	cfg := loadExample(t, noEnv)
	if got := cfg.LevelNames(); !reflect.DeepEqual(got, []string{"basic", "full"}) {
		t.Errorf("levels = %v, want basic and full", got)
	}
	if cfg.DefaultLevel() == nil || cfg.DefaultLevel().Name != "basic" {
		t.Errorf("default level = %+v, want basic", cfg.DefaultLevel())
	}
	full, err := cfg.Level("full")
	if err != nil {
		t.Fatal(err)
	}
	wantScope := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.RequireOneOf(passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard).WithSelfie(),
		passport.Require(passport.TypeAddress),
		passport.Require(passport.TypeUtilityBill).WithTranslation(),
		passport.Require(passport.TypePhoneNumber),
		passport.Require(passport.TypeEmail),
	)
	if !reflect.DeepEqual(full.Scope, wantScope) {
		t.Errorf("full scope = %v, want %v", full.Scope, wantScope)
	}
	if _, err := full.Scope.Encode(); err != nil {
		t.Errorf("full scope does not encode: %v", err)
	}
	if full.Title != "Full KYC" || full.Name != "full" {
		t.Errorf("full = %q %q", full.Name, full.Title)
	}
	// Every section is written out in the example: the file documents
	// every key. Walk the struct and look for each key in the file.
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeFor[Config]()) {
		if !strings.Contains(string(data), key+":") {
			t.Errorf("config.example.yaml does not show the key %s", key)
		}
	}
	// Relative paths are resolved against the file's folder.
	if want := filepath.Join("..", "bot.pem"); cfg.Passport.PrivateKeyFile != want {
		t.Errorf("private_key_file = %q, want %q", cfg.Passport.PrivateKeyFile, want)
	}
	// Only the missing Telegram credentials are warned about.
	var paths []string
	for _, w := range cfg.Warnings() {
		paths = append(paths, w.Path)
	}
	if want := []string{"telegram.app_id", "telegram.app_hash", "telegram.bot_token"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("warnings at %v, want %v", paths, want)
	}
}

// yamlKeys lists the yaml keys of struct t and of its nested structs.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Map || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[passport.Scope]() {
			out = append(out, yamlKeys(ft)...)
		}
	}
	return out
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte("levels:\n  only:\n    scope: [pd]\n"), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultLevelName != "only" || cfg.DefaultLevel().Name != "only" {
		t.Errorf("default level = %q, want the only level", cfg.DefaultLevelName)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"request_ttl", cfg.Passport.RequestTTL, 30 * time.Minute},
		{"scan_memory_mb", cfg.Passport.ScanMemoryMB, 16},
		{"listen", cfg.Web.Listen, ":8080"},
		{"ops_listen", cfg.Web.OpsListen, "127.0.0.1:9090"},
		{"redis mode", cfg.Redis.Mode, "single"},
		{"redis addrs", cfg.Redis.Addrs, []string{"127.0.0.1:6379"}},
		{"redis prefix", cfg.Redis.Prefix, "kycbot:"},
		{"default_language", cfg.I18n.DefaultLanguage, "en"},
		{"include_data", cfg.Delivery.IncludeData, true},
		{"include_files", cfg.Delivery.IncludeFiles, false},
		{"give_up_after", cfg.Delivery.GiveUpAfter, 24 * time.Hour},
		{"min_backoff", cfg.Delivery.MinBackoff, 5 * time.Second},
		{"max_backoff", cfg.Delivery.MaxBackoff, 10 * time.Minute},
		{"reclaim_after", cfg.Delivery.ReclaimAfter, time.Minute},
		{"status_days", cfg.Retention.StatusDays, 365},
		{"audit_days", cfg.Retention.AuditDays, 1825},
		{"rules", cfg.Rules, verify.DefaultPolicy()},
		{"level policy", cfg.DefaultLevel().Policy, verify.DefaultPolicy()},
		{"file", cfg.File(), "config.yaml"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	// Nulls keep the defaults.
	cfg, err = Parse([]byte("levels: {a: {scope: [pd]}}\nweb:\n  listen:\nretention: ~\n"), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Web.Listen != ":8080" || cfg.Retention.StatusDays != 365 {
		t.Errorf("null changed a default: listen %q, status_days %d", cfg.Web.Listen, cfg.Retention.StatusDays)
	}
}

func TestScopeForms(t *testing.T) {
	src := `levels:
  a:
    scope:
      - pd: {native_names: true}
      - one_of: [idd, internal_passport]
        selfie: true
        translation: true
      - add
      - pn
      - em: {}
      - ad:
`
	cfg, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	want := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.ScopeElement{Types: []passport.ElementType{passport.TypePassport, passport.TypeDriverLicense,
			passport.TypeIdentityCard, passport.TypeInternalPassport}, Selfie: true, Translation: true},
		passport.RequireOneOf(passport.TypeUtilityBill, passport.TypeBankStatement, passport.TypeRentalAgreement),
		passport.Require(passport.TypePhoneNumber),
		passport.Require(passport.TypeEmail),
		passport.Require(passport.TypeAddress),
	)
	if got := cfg.Levels["a"].Scope; !reflect.DeepEqual(got, want) {
		t.Errorf("scope = %v\nwant    %v", got, want)
	}
	if got := DescribeScope(cfg.Levels["a"].Scope); got != "Personal details (with names in the original script); "+
		"one of: passport, driving licence, identity card or internal passport, with a selfie and a certified translation; "+
		"one of: utility bill, bank statement or rental agreement; phone number; email address; residential address" {
		t.Errorf("DescribeScope = %q", got)
	}
}

func TestEnvOverrides(t *testing.T) {
	src := level + `telegram:
  app_id: 12345
  app_hash: 00000000000000000000000000000000
  bot_token: "1:file-token-file-token-file-token-file"
redis:
  password: file-password
delivery:
  webhook_url: https://backend.example.com/kyc
  webhook_secret: file-secret-file-secret-file-secret
`
	env := map[string]string{
		EnvAppHash:       "abcdefabcdefabcdefabcdefabcdef12",
		EnvBotToken:      "987654321:AAEnvTokenEnvTokenEnvTokenEnvToken1",
		EnvRedisPassword: "env-password",
		EnvWebhookSecret: "env-secret-env-secret-env-secret-env",
	}
	fileOnly, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]string{
		"app_hash":       EnvAppHash,
		"bot_token":      EnvBotToken,
		"redis password": EnvRedisPassword,
		"webhook_secret": EnvWebhookSecret,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte(src), "", WithEnv(mapEnv(map[string]string{e: env[e]})))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Secret{
				EnvAppHash: cfg.Telegram.AppHash, EnvBotToken: cfg.Telegram.BotToken,
				EnvRedisPassword: cfg.Redis.Password, EnvWebhookSecret: cfg.Delivery.WebhookSecret,
			}
			want := map[string]Secret{
				EnvAppHash: fileOnly.Telegram.AppHash, EnvBotToken: fileOnly.Telegram.BotToken,
				EnvRedisPassword: fileOnly.Redis.Password, EnvWebhookSecret: fileOnly.Delivery.WebhookSecret,
			}
			want[e] = Secret(env[e])
			if !reflect.DeepEqual(got, want) {
				t.Errorf("secrets = %v, want %v", values(got), values(want))
			}
		})
	}
	// An empty variable counts as unset.
	cfg, err := Parse([]byte(src), "", WithEnv(mapEnv(map[string]string{EnvBotToken: ""})))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.BotToken != fileOnly.Telegram.BotToken {
		t.Error("an empty KYCBOT_BOT_TOKEN replaced the file's token")
	}
	if err := cfg.RequireTelegram(); err != nil {
		t.Errorf("RequireTelegram with every credential set: %v", err)
	}
	// Secrets given only in the environment satisfy the requirements.
	cfg, err = Parse([]byte(level+"telegram: {app_id: 7}\ndelivery: {webhook_url: 'https://b.example.com/'}\n"), "", WithEnv(mapEnv(env)))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.RequireTelegram(); err != nil || len(cfg.Warnings()) != 3 {
		t.Errorf("RequireTelegram = %v, warnings %v", err, cfg.Warnings())
	}
	// A bad secret from the environment says so, without the value.
	_, err = Parse([]byte(level), "", WithEnv(mapEnv(map[string]string{EnvWebhookSecret: "short-ENVSECRET"})))
	if err == nil || !strings.Contains(err.Error(), "delivery.webhook_secret: is 15 characters (from KYCBOT_WEBHOOK_SECRET), need at least 32") ||
		strings.Contains(err.Error(), "ENVSECRET") {
		t.Errorf("short secret from the environment: %v", err)
	}
}

func values(m map[string]Secret) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Value()
	}
	return out
}

func TestRequireTelegram(t *testing.T) {
	cfg, err := Parse([]byte(level+"telegram:\n  bot_token: ''\n"), "bot.yaml", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.RequireTelegram()
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("RequireTelegram = %v, want a *config.Error", err)
	}
	checkProblems(t, cerr.Problems, []want{
		{"telegram.app_id", 2, "is not set"},
		{"telegram.app_hash", 2, "KYCBOT_APP_HASH"},
		{"telegram.bot_token", 3, "KYCBOT_BOT_TOKEN"},
	})
	if !strings.HasPrefix(err.Error(), "bot.yaml:2:1: telegram.app_id: is not set") {
		t.Errorf("Error() = %q", err.Error())
	}
	// The warnings also name what a running bot needs beyond Telegram.
	var paths []string
	for _, w := range cfg.Warnings() {
		paths = append(paths, w.Path)
	}
	want := []string{"passport.private_key_file", "passport.privacy_policy_url", "web.public_url",
		"telegram.app_id", "telegram.app_hash", "telegram.bot_token"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("warnings at %v, want %v", paths, want)
	}
}

// On the Bot API the bot token is all the bot needs from Telegram; a
// webhook needs web.public_url too; on MTProto, the missing app_id and
// app_hash name the token-only way.
func TestRequireTelegramTransport(t *testing.T) {
	const token = "  bot_token: '7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'\n"
	tests := []struct {
		name, src string
		missing   []string // paths RequireTelegram names
		mention   string   // in its error
	}{
		{"botapi polling with the token", "telegram:\n  transport: botapi\n" + token, nil, ""},
		{"botapi without the token", "telegram:\n  transport: botapi\n", []string{"telegram.bot_token"}, "KYCBOT_BOT_TOKEN"},
		{"botapi webhook without a public URL", "telegram:\n  transport: botapi\n  bot_api: {receive: webhook}\n" + token,
			[]string{"web.public_url"}, "telegram.bot_api.receive webhook needs it"},
		{"botapi webhook with a public URL", "telegram:\n  transport: botapi\n  bot_api: {receive: webhook}\n" + token +
			"web: {public_url: 'https://kyc.example.com'}\n", nil, ""},
		{"mtproto with the token alone", "telegram:\n" + token, []string{"telegram.app_id", "telegram.app_hash"},
			"set telegram.transport: botapi to run on the Bot API with the bot token alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(level+tt.src), "bot.yaml", WithEnv(noEnv))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.RequireTelegram()
			var cerr *Error
			if tt.missing == nil {
				if err != nil {
					t.Fatalf("RequireTelegram = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &cerr) {
				t.Fatalf("RequireTelegram = %v, want a *config.Error", err)
			}
			var paths []string
			for _, p := range cerr.Problems {
				paths = append(paths, p.Path)
			}
			if !reflect.DeepEqual(paths, tt.missing) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("RequireTelegram = %v (at %v), want %v mentioning %q", err, paths, tt.missing, tt.mention)
			}
		})
	}
}

// The summary says how the bot talks to Telegram and receives, without
// the token or the webhook's derived path.
func TestDescribeTransport(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", "MTProto (gotd) to Telegram's production DCs"},
		{"telegram: {transport: botapi}\n", "the Bot API at https://api.telegram.org with the bot token alone (no app_id or app_hash); updates by long polling"},
		{"telegram: {transport: botapi, bot_api: {receive: webhook}}\nweb: {public_url: 'https://kyc.example.com/'}\n",
			"updates by webhook: Telegram posts them to https://kyc.example.com/telegram/<path derived from the bot token>"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(level+tt.src), "bot.yaml", WithEnv(noEnv))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Summary(); !strings.Contains(got, tt.want) {
			t.Errorf("%q: summary\n%s\nwant %q", tt.src, got, tt.want)
		}
	}
}

// secretValues are the secrets of TestSecretsNeverPrinted, each unique.
var secretValues = []string{
	"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",             // app_hash, valid
	"123456789:AAHsecretsecretsecretsecretsecret0", // bot_token, valid
	"redis-PASSWORD-xyzzy",                         // redis password
	"webhook-SECRET-plugh-0123456789abcdef",        // webhook secret, valid
}

func TestSecretsNeverPrinted(t *testing.T) {
	fileSrc := func(s []string) string {
		return level + fmt.Sprintf(`telegram:
  app_id: 1
  app_hash: %q
  bot_token: %q
redis:
  password: %q
delivery:
  webhook_url: https://user:pw@backend.example.com/hook?token=QUERYTOKEN
  webhook_secret: %q
`, s[0], s[1], s[2], s[3])
	}
	secrets := append([]string{"pw", "QUERYTOKEN"}, secretValues...)
	leaks := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s shows the secret %q:\n%s", what, sec, s)
			}
		}
	}
	// Invalid secrets: the errors say what is wrong, never the value.
	bad := []string{"not-hex-" + secretValues[0], "x" + secretValues[1] + "!", secretValues[2], "short-" + secretValues[3][:10]}
	_, err := Parse([]byte(fileSrc(bad)), "", WithEnv(noEnv))
	if err == nil {
		t.Fatal("invalid secrets accepted")
	}
	leaks("the error", err.Error())
	for _, want := range []string{"telegram.app_hash", "telegram.bot_token", "delivery.webhook_secret", "delivery.webhook_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	// The same invalid secrets from the environment.
	_, err = Parse([]byte(level+"telegram: {app_id: 1}\ndelivery: {webhook_url: 'https://b.example.com/'}\n"), "",
		WithEnv(mapEnv(map[string]string{EnvAppHash: bad[0], EnvBotToken: bad[1], EnvRedisPassword: bad[2], EnvWebhookSecret: bad[3]})))
	if err == nil {
		t.Fatal("invalid secrets from the environment accepted")
	}
	leaks("the error", err.Error())

	// Valid secrets: nothing prints them.
	src := strings.Replace(fileSrc(secretValues), "user:pw@", "", 1)
	cfg, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.AppHash.Value() != secretValues[0] || cfg.Delivery.WebhookSecret.Value() != secretValues[3] {
		t.Fatal("secrets not read")
	}
	sum := cfg.Summary()
	leaks("the summary", sum)
	// fmt hides the secrets (the webhook URL is not one: only its host is
	// in the summary, but the bot needs it whole).
	secrets = secretValues
	leaks("%v", fmt.Sprintf("%v", cfg))
	leaks("%+v", fmt.Sprintf("%+v", *cfg))
	leaks("%#v", fmt.Sprintf("%#v", *cfg))
	leaks("%s of a secret", fmt.Sprintf("%s %v", cfg.Telegram.BotToken, cfg.Redis.Password))
	if b, err := json.Marshal(cfg); err != nil {
		t.Error(err)
	} else {
		leaks("JSON", string(b))
	}
	for _, want := range []string{"password set", "webhook to backend.example.com,", "app_hash set, bot token set"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

func TestLevelRuleMerge(t *testing.T) {
	src := `default_level: a
rules:
  personal_details:
    min_age: 21
    latin_names: true
    citizenship:
      allow: [DE, AT]
  documents:
    min_validity_days: 10
    types:
      passport: {require_expiry: true}
      identity_card: {min_validity_days: 5}
levels:
  a:
    scope: [pd]
  b:
    scope: [pd]
    rules:
      personal_details:
        max_age: 65
        citizenship:
          deny: [RU]
      documents:
        types:
          passport: {min_validity_days: 90}
`
	cfg, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.Rules
	if base.Personal.MinAge != 21 || base.Personal.MaxNameLength != verify.DefaultMaxNameLength ||
		base.Files.MaxSizeMB != verify.DefaultMaxSizeMB {
		t.Errorf("top-level rules did not start from the default policy: %+v", base)
	}
	a, b := cfg.Levels["a"].Policy, cfg.Levels["b"].Policy
	if !reflect.DeepEqual(a, base) {
		t.Errorf("level a without rules = %+v, want the top-level rules %+v", a, base)
	}
	// b changes exactly the keys it names.
	want := deepCopy(reflect.ValueOf(base)).Interface().(verify.Policy)
	want.Personal.MaxAge = 65
	want.Personal.Citizenship.Deny = []string{"RU"}
	ninety := 90
	want.Documents.Types[passport.TypePassport] = verify.DocumentTypeRules{
		RequireExpiry: base.Documents.Types[passport.TypePassport].RequireExpiry, MinValidityDays: &ninety,
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("level b = %+v\nwant      %+v", b, want)
	}
	if got := b.Personal.Citizenship.Allow; !reflect.DeepEqual(got, []string{"DE", "AT"}) {
		t.Errorf("b lost the inherited allow list: %v", got)
	}
	// Nothing is shared: changing one policy changes no other.
	b.Personal.Citizenship.Allow[0] = "FR"
	b.Documents.Types[passport.TypeIdentityCard] = verify.DocumentTypeRules{}
	*b.Documents.Types[passport.TypePassport].RequireExpiry = false
	for name, p := range map[string]verify.Policy{"rules": base, "a": a} {
		if p.Personal.Citizenship.Allow[0] != "DE" || p.Documents.Types[passport.TypeIdentityCard].MinValidityDays == nil ||
			!*p.Documents.Types[passport.TypePassport].RequireExpiry || p.Documents.Types[passport.TypePassport].MinValidityDays != nil {
			t.Errorf("changing level b changed %s: %+v", name, p)
		}
	}
	a.Personal.Citizenship.Allow[1] = "CH"
	if base.Personal.Citizenship.Allow[1] != "AT" {
		t.Error("level a shares its allow list with the top-level rules")
	}
	if got := DescribePolicy(cfg.Levels["b"].Policy, cfg.Levels["b"].Scope); got !=
		"Age 21 to 65. Names must be written in Latin letters. Countries of citizenship allowed: FR, AT. Countries of citizenship refused: RU." {
		t.Errorf("DescribePolicy = %q", got)
	}
}

func TestSummaryExample(t *testing.T) {
	cfg := loadExample(t, mapEnv(map[string]string{EnvRedisPassword: "pw-from-env"}))
	sum := cfg.Summary()
	for _, want := range []string{
		"Levels (2, default basic):",
		"  basic (Basic check)\n    Asks for: Personal details; phone number.\n    Rules: Minimum age 18.\n",
		"  full (Full KYC)\n",
		"Asks for: Personal details (with names in the original script); one of: passport, driving licence or identity card, with a selfie; residential address; utility bill, with a certified translation; phone number; email address.",
		"Rules: Minimum age 18. Countries of citizenship allowed: DE, AT, CH. Documents must be valid for at least 30 days. A passport needs an expiry date. Address countries allowed: DE, AT, CH. The country of residence must match the address. Scans of at least 800×600 pixels.",
		"Web: listens on :8080; request page at https://kyc.example.com; /healthz, /readyz and /metrics on 127.0.0.1:9090 only.",
		"Redis: single server 127.0.0.1:6379, database 0, key prefix \"kycbot:\", password set, no TLS.",
		"Admins: 2; told of verified users, rejections, alarms, after the users' answers.",
		"Delivery: no webhook",
		"Support contact shown to users: @acme_help.",
		"Languages: default en.",
		"Retention: statuses 365 days, audit events 1825 days.",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(sum, "pw-from-env") {
		t.Error("summary shows the Redis password")
	}
	var b strings.Builder
	if err := cfg.WriteSummary(&b); err != nil || b.String() != sum {
		t.Errorf("WriteSummary differs from Summary (%v)", err)
	}
}

// The retry settings of the delivery: their values, what the summary says
// of them (only when not the defaults) and the warning about a
// min_backoff as long as give_up_after.
func TestDeliveryRetries(t *testing.T) {
	const webhook = "delivery:\n  webhook_url: https://backend.example.com/kyc\n  webhook_secret: 0123456789abcdef0123456789abcdef\n"
	tests := []struct {
		name                  string
		extra                 string
		minB, maxB, reclaim   time.Duration
		summary, notInSummary string
		warning               string // path of the one warning beyond the Telegram ones
	}{
		{name: "defaults", minB: 5 * time.Second, maxB: 10 * time.Minute, reclaim: time.Minute,
			summary: "retried for up to 24h.", notInSummary: "pausing"},
		{name: "defaults written out", extra: "  min_backoff: 5s\n  max_backoff: 10m\n  reclaim_after: 1m\n",
			minB: 5 * time.Second, maxB: 10 * time.Minute, reclaim: time.Minute, summary: "retried for up to 24h.", notInSummary: "taken over"},
		{name: "backoff", extra: "  min_backoff: 30s\n  max_backoff: 1h\n",
			minB: 30 * time.Second, maxB: time.Hour, reclaim: time.Minute,
			summary: "retried for up to 24h, pausing from 30s up to 1h between attempts.", notInSummary: "taken over"},
		{name: "min equal to max", extra: "  min_backoff: 2m\n  max_backoff: 2m\n", minB: 2 * time.Minute, maxB: 2 * time.Minute, reclaim: time.Minute,
			summary: "pausing from 2m up to 2m between attempts."},
		{name: "reclaim_after", extra: "  reclaim_after: 5m\n", minB: 5 * time.Second, maxB: 10 * time.Minute, reclaim: 5 * time.Minute,
			summary: "retried for up to 24h; deliveries of an instance that died are taken over after 5m.", notInSummary: "pausing"},
		{name: "bounds", extra: "  min_backoff: 1s\n  max_backoff: 24h\n  reclaim_after: 30s\n", minB: time.Second, maxB: 24 * time.Hour, reclaim: 30 * time.Second,
			summary: "pausing from 1s up to 24h between attempts; deliveries of an instance that died are taken over after 30s."},
		{name: "min_backoff as long as give_up_after", extra: "  give_up_after: 10m\n  min_backoff: 10m\n",
			minB: 10 * time.Minute, maxB: 10 * time.Minute, reclaim: time.Minute, summary: "retried for up to 10m, pausing from 10m up to 10m",
			warning: "delivery.min_backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(level+webhook+tt.extra), "", WithEnv(noEnv))
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Delivery
			if d.MinBackoff != tt.minB || d.MaxBackoff != tt.maxB || d.ReclaimAfter != tt.reclaim {
				t.Errorf("min_backoff %v, max_backoff %v, reclaim_after %v; want %v, %v, %v", d.MinBackoff, d.MaxBackoff, d.ReclaimAfter, tt.minB, tt.maxB, tt.reclaim)
			}
			sum := cfg.Summary()
			if !strings.Contains(sum, tt.summary) || (tt.notInSummary != "" && strings.Contains(sum, tt.notInSummary)) {
				t.Errorf("summary: want %q and not %q:\n%s", tt.summary, tt.notInSummary, sum)
			}
			var warned []Problem
			for _, w := range cfg.Warnings() {
				if !strings.HasPrefix(w.Path, "telegram.") && !strings.HasPrefix(w.Path, "passport.") && w.Path != "web.public_url" {
					warned = append(warned, w)
				}
			}
			switch {
			case tt.warning == "" && len(warned) > 0:
				t.Errorf("warnings %v, want none", warned)
			case tt.warning != "" && (len(warned) != 1 || warned[0].Path != tt.warning || warned[0].Line != 6 ||
				!strings.Contains(warned[0].Message, "is not shorter than give_up_after (10m)") || !strings.Contains(warned[0].Message, "lower min_backoff or raise give_up_after")):
				t.Errorf("warnings %v, want one at %s, line 6", warned, tt.warning)
			}
		})
	}
}

// web.ops_listen: a private address by default; public, or a host:port
// that does not clash with web.listen, warned about when it binds every
// interface; the summary says where the checks and metrics are served.
// Written empty, it is refused (it would not say where they go).
func TestOpsListen(t *testing.T) {
	tests := []struct {
		name        string
		listen, ops string // "": not written (the defaults ":8080", "127.0.0.1:9090")
		empty       bool   // ops_listen written as ""
		line        int    // of the problem when ops_listen is not written
		err         string // part of the one problem, at web.ops_listen
		warn        string // part of the one warning at web.ops_listen
		summary     string
	}{
		{name: "not set: private", summary: "listens on :8080; request page at not set; /healthz, /readyz and /metrics on 127.0.0.1:9090 only."},
		{name: "public", ops: "public", summary: "listens on :8080; request page at not set; /healthz, /readyz and /metrics there too (ops_listen: public)."},
		{name: "written empty", empty: true, err: `is empty: give the health checks and metrics a private address of their own, such as 127.0.0.1:9090 (the default), or write "public" to serve them on web.listen`},
		{name: "the default port taken by listen", listen: "127.0.0.1:9090", line: 2, err: `"127.0.0.1:9090" clashes with web.listen ("127.0.0.1:9090")`},
		{name: "loopback", ops: "127.0.0.1:9090", summary: "listens on :8080; request page at not set; /healthz, /readyz and /metrics on 127.0.0.1:9090 only."},
		{name: "localhost", ops: "localhost:9090", summary: "on localhost:9090 only."},
		{name: "IPv6 loopback", ops: "[::1]:9090", summary: "on [::1]:9090 only."},
		{name: "private address", ops: "10.0.0.5:9090", summary: "on 10.0.0.5:9090 only."},
		{name: "same port, other host", listen: "127.0.0.1:8080", ops: "10.0.0.5:8080", summary: "on 10.0.0.5:8080 only."},
		{name: "both on a free port", listen: "127.0.0.1:0", ops: "127.0.0.1:0", summary: "on 127.0.0.1:0 only."},
		{name: "port only", ops: "9090", err: `9090 is not host:port: did you mean "127.0.0.1:9090"?, or "public" to serve them on web.listen`},
		{name: "URL", ops: "http://127.0.0.1:9090", err: "must be host:port only, such as 127.0.0.1:9090"},
		{name: "no port", ops: "metrics.internal", err: `"metrics.internal" is not host:port, such as 127.0.0.1:9090`},
		{name: "bad port", ops: "127.0.0.1:99999", err: "has no valid port: use a number from 1 to 65535"},
		{name: "equal to listen", listen: "127.0.0.1:8080", ops: "127.0.0.1:8080",
			err: `"127.0.0.1:8080" clashes with web.listen ("127.0.0.1:8080"): the two servers cannot share a port; give the health checks and metrics a port of their own, such as 127.0.0.1:9090, or write "public" to serve them on web.listen`},
		{name: "the port of the default listen", ops: "127.0.0.1:8080", err: `clashes with web.listen (":8080")`},
		{name: "all interfaces beside listen", listen: "127.0.0.1:8080", ops: ":8080", err: "clashes with web.listen"},
		{name: "all interfaces", ops: ":9090", summary: "on :9090 only.",
			warn: `":9090" listens on all network interfaces: /metrics and the checks are reachable by anyone who reaches this host; bind it to a private address such as 127.0.0.1:9090`},
		{name: "all IPv4 interfaces", ops: "0.0.0.0:9090", warn: `"0.0.0.0:9090" listens on all network interfaces`},
		{name: "all IPv6 interfaces", ops: "[::]:9090", warn: `"[::]:9090" listens on all network interfaces`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := level + "web:\n"
			line := 3 // of ops_listen
			if tt.listen != "" {
				src += fmt.Sprintf("  listen: %q\n", tt.listen)
				line++
			}
			if tt.ops != "" || tt.empty {
				src += fmt.Sprintf("  ops_listen: %q\n", tt.ops)
			}
			if tt.ops == "" && !tt.empty {
				line = tt.line // not written: the line of the nearest setting
			}
			if tt.err != "" {
				_, got := parseProblems(t, src, noEnv)
				checkProblems(t, got, []want{{"web.ops_listen", line, tt.err}})
				return
			}
			cfg, err := Parse([]byte(src), "config.yaml", WithEnv(noEnv))
			if err != nil {
				t.Fatal(err)
			}
			if want := cmp.Or(tt.ops, "127.0.0.1:9090"); cfg.Web.OpsListen != want {
				t.Errorf("OpsListen = %q, want %q", cfg.Web.OpsListen, want)
			}
			var warned []Problem
			for _, w := range cfg.Warnings() {
				if strings.HasPrefix(w.Path, "web.") && w.Path != "web.public_url" {
					warned = append(warned, w)
				}
			}
			switch {
			case tt.warn == "" && len(warned) > 0:
				t.Errorf("warnings %v, want none", warned)
			case tt.warn != "" && (len(warned) != 1 || warned[0].Path != "web.ops_listen" || warned[0].Line != line || !strings.Contains(warned[0].Message, tt.warn)):
				t.Errorf("warnings %v, want one at web.ops_listen, line %d: ...%s...", warned, line, tt.warn)
			}
			if sum := cfg.Summary(); !strings.Contains(sum, tt.summary) {
				t.Errorf("summary lacks %q:\n%s", tt.summary, sum)
			}
		})
	}
}

func TestLevelAccessors(t *testing.T) {
	cfg := loadExample(t, noEnv)
	if _, err := cfg.Level("ful"); !errors.Is(err, ErrNoLevel) || !strings.Contains(err.Error(), `did you mean "full"?`) {
		t.Errorf("Level(ful) = %v", err)
	}
	l, err := cfg.Level("basic")
	if err != nil || l != cfg.DefaultLevel() {
		t.Errorf("Level(basic) = %v, %v", l, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "nope.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	// Relative paths follow the file; absolute ones stay.
	p := filepath.Join(dir, "c.yaml")
	src := level + "passport: {private_key_file: keys/bot.pem}\ni18n: {overrides_dir: /etc/kycbot/i18n}\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Passport.PrivateKeyFile != filepath.Join(dir, "keys", "bot.pem") || cfg.I18n.OverridesDir != "/etc/kycbot/i18n" {
		t.Errorf("paths = %q, %q", cfg.Passport.PrivateKeyFile, cfg.I18n.OverridesDir)
	}
	// Problems carry the file name given.
	if err := os.WriteFile(p, []byte("levels: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p, WithEnv(noEnv))
	if err == nil || !strings.HasPrefix(err.Error(), p+":1:1: levels: no level is defined") {
		t.Errorf("Load problems: %v", err)
	}
}

func TestEmptyAndOddFiles(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "~\n", "{}\n"} {
		_, got := parseProblems(t, src, noEnv)
		checkProblems(t, got, []want{{"levels", 1, "no level is defined"}})
	}
}

func TestAliases(t *testing.T) {
	src := `default_level: a
levels:
  a:
    scope: &docs
      - pd
      - one_of: [pp, ic]
  b:
    scope: *docs
    title: &t Same
  c:
    scope: *docs
    title: *t
`
	cfg, err := Parse([]byte(src), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Levels["a"].Scope, cfg.Levels["b"].Scope) || cfg.Levels["c"].Title != "Same" {
		t.Errorf("aliases not followed: %+v", cfg.Levels)
	}
	// Aliases used many times stop with one problem, quickly: 1,000
	// levels each expanding a list of 500 values.
	var b strings.Builder
	b.WriteString("rules:\n  personal_details:\n    citizenship:\n      allow: &all [")
	b.WriteString(strings.Repeat("0, ", 500))
	b.WriteString("0]\nlevels:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  l%d: {scope: [pd], rules: {personal_details: {residence: {allow: *all}}}}\n", i)
	}
	start := time.Now()
	_, err = Parse([]byte(b.String()), "", WithEnv(noEnv))
	var cerr *Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "expands too many aliases") {
		t.Fatalf("alias bomb: %.500v", err)
	}
	if n := len(cerr.Problems); n != 1 {
		t.Errorf("alias bomb: %d problems reported, want 1", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("billion laughs took %v", d)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"pasport", "passport"},
		{"Passport", "passport"},
		{"driver_licence", "driver_license"},
		{"adress", "address"},
		{"utlity_bill", "utility_bill"},
		{"levles", "levels"},
		{"pt-br", "pt-BR"},
		{"zz", ""},
		{"completely_unrelated", ""},
	}
	cands := append([]string{"levels", "pt-BR"}, elementNames...)
	for _, tt := range tests {
		if got := suggest(tt.in, cands); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := editDistance("ab", "ba"); d != 1 {
		t.Errorf("a swap costs %d, want 1", d)
	}
}

func TestProblemFormat(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "a.b", Line: 12, Column: 5, Message: "bad"}, "f.yaml:12:5: a.b: bad"},
		{Problem{Line: 3, Message: "invalid YAML"}, "f.yaml:3: invalid YAML"},
		{Problem{Path: "x", Message: "m"}, "f.yaml: x: m"},
	}
	for _, tt := range tests {
		if got := tt.p.Format("f.yaml"); got != tt.want {
			t.Errorf("Format = %q, want %q", got, tt.want)
		}
	}
	if got := (Problem{Path: "x", Line: 1, Column: 2, Message: "m"}).String(); got != "1:2: x: m" {
		t.Errorf("String = %q", got)
	}
}

// A rotation in progress: the previous keys are read (from the file or
// the environment, resolved like private_key_file) and the summary says
// so, without a secret.
func TestRotationSettings(t *testing.T) {
	const prev = "the-webhook-secret-before-0123456789"
	src := level + `passport:
  private_key_file: bot.pem
  previous_private_key_files: [old/bot-1.pem, /keys/bot-0.pem]
delivery:
  webhook_url: https://backend.example.com/hook
  webhook_secret: the-webhook-secret-after-0123456789a
`
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no previous webhook secret", nil, ""},
		{"previous webhook secret from the environment", map[string]string{EnvPreviousWebhookSecret: prev}, prev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(src), "", WithEnv(mapEnv(tt.env)))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Delivery.PreviousWebhookSecret.Value(); got != tt.want {
				t.Errorf("previous webhook secret %q, want %q", got, tt.want)
			}
			if got := cfg.Passport.PreviousPrivateKeyFiles; len(got) != 2 || got[0] != "old/bot-1.pem" {
				t.Errorf("previous key files %q", got)
			}
			sum := cfg.Summary()
			if !strings.Contains(sum, "2 previous private keys still accepted") {
				t.Errorf("the summary does not count the previous keys:\n%s", sum)
			}
			if signed := strings.Contains(sum, "signed under the previous webhook secret too"); signed != (tt.want != "") {
				t.Errorf("the summary says signed under the previous secret: %v, want %v:\n%s", signed, tt.want != "", sum)
			}
			if tt.want != "" && strings.Contains(sum, tt.want) {
				t.Errorf("the summary shows the previous secret")
			}
		})
	}
}

// admin_notices: every kind on by default; each can be turned off; the
// summary says which the admins get.
func TestAdminNotices(t *testing.T) {
	for _, tt := range []struct {
		name    string
		yaml    string
		want    AdminNotices
		summary string
	}{
		{name: "default", want: AdminNotices{Verified: true, Rejected: true, Alarms: true, ReviewReminder: DefaultReviewReminder},
			summary: "Admins: 1; told of verified users, rejections, alarms, after the users' answers."},
		{name: "verified off", yaml: "admin_notices: {verified: false}\n", want: AdminNotices{Rejected: true, Alarms: true, ReviewReminder: DefaultReviewReminder},
			summary: "Admins: 1; told of rejections, alarms, after the users' answers."},
		{name: "alarms only", yaml: "admin_notices: {verified: false, rejected: false}\n", want: AdminNotices{Alarms: true, ReviewReminder: DefaultReviewReminder},
			summary: "Admins: 1; told of alarms, after the users' answers."},
		{name: "all off", yaml: "admin_notices: {verified: false, rejected: false, alarms: false}\n", want: AdminNotices{ReviewReminder: DefaultReviewReminder},
			summary: "Admins: 1; no notices (admin_notices all off)."},
		{name: "review reminder", yaml: "rules: {review: always}\nadmin_notices: {review_reminder: 12h}\n",
			want:    AdminNotices{Verified: true, Rejected: true, Alarms: true, ReviewReminder: 12 * time.Hour},
			summary: "Admins: 1; told of verified users, rejections, alarms, after the users' answers; reminded of a review left undecided every 12h."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(level+"admins: [7]\n"+tt.yaml), "config.yaml", WithEnv(noEnv))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.AdminNotices != tt.want {
				t.Errorf("AdminNotices = %+v, want %+v", cfg.AdminNotices, tt.want)
			}
			if sum := cfg.Summary(); !strings.Contains(sum, tt.summary) {
				t.Errorf("summary lacks %q:\n%s", tt.summary, sum)
			}
		})
	}
	if _, err := Parse([]byte(level+"admins: [7]\nadmin_notices: {review_reminder: 30s}\n"), "config.yaml", WithEnv(noEnv)); err == nil || !strings.Contains(err.Error(), "admin_notices.review_reminder: 30s is out of range: use between 1m and 7d") {
		t.Errorf("a reminder every 30 s: %v, want it out of range", err)
	}
	if _, err := Parse([]byte(level+"admin_notices: {verfied: false}\n"), "config.yaml", WithEnv(noEnv)); err == nil || !strings.Contains(err.Error(), "verfied") {
		t.Errorf("a misspelt kind: %v, want an error naming it", err)
	}
}

// RequireDelivery: a config whose results would go nowhere in kycbot run
// (no webhook, no delivery.none) names delivery.webhook_url; none on
// purpose or a webhook passes; both at once is a problem of the file.
func TestRequireDelivery(t *testing.T) {
	noEnv := WithEnv(func(string) (string, bool) { return "", false })
	const base = "levels:\n  basic: {scope: [pd]}\n"
	tests := []struct {
		name     string
		delivery string
		problem  string // of Parse
		nowhere  string // of RequireDelivery
	}{
		{name: "no delivery section", nowhere: "test.yaml:1:1: delivery.webhook_url: is not set: verified results would go nowhere"},
		{name: "empty webhook_url", delivery: "delivery:\n  webhook_url: \"\"\n", nowhere: "test.yaml:4:16: delivery.webhook_url: is not set"},
		{name: "none on purpose", delivery: "delivery: {none: true}\n"},
		{name: "a webhook", delivery: "delivery:\n  webhook_url: https://backend.example.com/kyc\n  webhook_secret: 0123456789abcdef0123456789abcdef\n"},
		{name: "none and a webhook", delivery: "delivery:\n  none: true\n  webhook_url: https://backend.example.com/kyc\n  webhook_secret: 0123456789abcdef0123456789abcdef\n",
			problem: "delivery.none: is true while webhook_url is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(base+tt.delivery), "test.yaml", noEnv)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("Parse: %v, want a problem %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.RequireDelivery()
			if tt.nowhere == "" {
				if err != nil {
					t.Errorf("RequireDelivery: %v, want nil", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) || len(cerr.Problems) != 1 {
				t.Fatalf("RequireDelivery: %v, want one problem", err)
			}
			if got := cerr.Problems[0].Format(cerr.File); !strings.HasPrefix(got, tt.nowhere) || !strings.Contains(got, "delivery.none: true") {
				t.Errorf("RequireDelivery: %q, want it to start with %q and name delivery.none: true", got, tt.nowhere)
			}
		})
	}
}

// The support contact: a @username, an https URL or an e-mail address;
// anything else is refused, naming the setting; the summary shows it.
func TestSupport(t *testing.T) {
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"@acme_help", true},
		{"https://acme.example/help", true},
		{"help@acme.example", true},
		{"", true},
		{"@ab", false},
		{"@acme help", false},
		{"http://acme.example/help", false},
		{"help@acme", false},
		{"call us", false},
	} {
		cfg, err := Parse([]byte(level+"support: "+strconv.Quote(tt.value)+"\n"), "config.yaml", WithEnv(noEnv))
		switch {
		case tt.ok && err != nil:
			t.Errorf("support %q: %v", tt.value, err)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), "support")):
			t.Errorf("support %q: %v, want an error naming support", tt.value, err)
		case tt.ok && tt.value != "" && !strings.Contains(cfg.Summary(), "Support contact shown to users: "+tt.value+"."):
			t.Errorf("support %q: the summary does not show it:\n%s", tt.value, cfg.Summary())
		}
	}
}
