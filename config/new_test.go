package config

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// Shorthands for scopes built in Go.
var (
	req   = passport.Require
	oneOf = passport.RequireOneOf
	scope = passport.NewScope
)

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// goProblems runs New on c and returns its problems (failing the test when
// it succeeds or fails with another error type).
func goProblems(t *testing.T, c Config) []Problem {
	t.Helper()
	cfg, err := New(c)
	if err == nil {
		t.Fatalf("New succeeded (levels %v), want problems", cfg.LevelNames())
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %T %v is not a *config.Error", err, err)
	}
	if cerr.File != "" {
		t.Errorf("File = %q for a config built in Go", cerr.File)
	}
	for _, p := range cerr.Problems {
		if p.Line != 0 || p.Column != 0 {
			t.Errorf("problem %v has a position, but the config has no file", p)
		}
	}
	return cerr.Problems
}

// pathsAndMessages renders problems without their positions, sorted.
func pathsAndMessages(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path + ": " + p.Message
	}
	sort.Strings(out)
	return out
}

// The same mistakes made in a file and in Go give the same problems: the
// same YAML paths and the same messages.
func TestNewSameProblemsAsParse(t *testing.T) {
	withLevel := func(c Config) Config {
		if c.Levels == nil {
			c.Levels = map[string]*Level{"basic": {Scope: scope(req(passport.TypePersonalDetails))}}
		}
		return c
	}
	policy := func(edit func(*verify.Policy)) verify.Policy {
		p := verify.DefaultPolicy()
		edit(&p)
		return p
	}
	tests := []struct {
		name  string
		yaml  string
		go_   Config
		paths []string // the problems' paths, in any order
	}{
		{
			name: "a level's rules that no one passes",
			yaml: `levels:
  full:
    scope: [pd]
    rules:
      personal_details: {min_age: 30, max_age: 21}
      files: {max_size_mb: 20}
`,
			go_: Config{Levels: map[string]*Level{"full": {
				Scope: scope(req(passport.TypePersonalDetails)),
				Policy: verify.Policy{
					Personal: verify.PersonalRules{MinAge: 30, MaxAge: 21},
					Files:    verify.FileRules{MaxSizeMB: 20},
				},
			}}},
			paths: []string{"levels.full.rules.files.max_size_mb", "levels.full.rules.personal_details.max_age"},
		},
		{
			name: "an inherited max_age below a level's min_age",
			yaml: `rules:
  personal_details: {max_age: 30}
levels:
  basic:
    scope: [pd]
    rules:
      personal_details: {min_age: 40}
`,
			go_: Config{
				Rules: policy(func(p *verify.Policy) { p.Personal.MaxAge = 30 }),
				Levels: map[string]*Level{"basic": {
					Scope:  scope(req(passport.TypePersonalDetails)),
					Policy: verify.Policy{Personal: verify.PersonalRules{MinAge: 40}},
				}},
			},
			paths: []string{"levels.basic.rules.personal_details.max_age"},
		},
		{
			name: "bad top-level rules, reported once and not again for the level",
			yaml: level + `rules:
  personal_details:
    min_age: -1
    citizenship: {allow: [DE, XX, at], deny: [AT]}
  documents:
    types:
      address: {min_validity_days: 30}
      pasport: {require_expiry: true}
`,
			go_: withLevel(Config{Rules: policy(func(p *verify.Policy) {
				p.Personal.MinAge = -1
				p.Personal.Citizenship = verify.CountryRule{Allow: []string{"DE", "XX", "at"}, Deny: []string{"AT"}}
				p.Documents.Types = map[passport.ElementType]verify.DocumentTypeRules{
					passport.TypeAddress: {MinValidityDays: intp(30)},
					"pasport":            {RequireExpiry: boolp(true)},
				}
			})}),
			paths: []string{"rules.personal_details.citizenship", "rules.documents.types.address",
				"rules.personal_details.citizenship.allow[1]", "rules.documents.types.pasport", "rules.personal_details.min_age"},
		},
		{
			name: "scope: flags on the wrong elements, a type twice, a mixed one-of list",
			yaml: `levels:
  basic:
    scope:
      - address: {selfie: true}
      - passport: {native_names: true, selfie: true}
      - personal_details: {translation: true}
      - one_of: [driver_license, identity_card]
      - one_of: [identity_card, internal_passport]
      - one_of: [utility_bill, phone_number]
`,
			go_: Config{Levels: map[string]*Level{"basic": {Scope: scope(
				req(passport.TypeAddress).WithSelfie(),
				req(passport.TypePassport).WithNativeNames().WithSelfie(),
				req(passport.TypePersonalDetails).WithTranslation(),
				oneOf(passport.TypeDriverLicense, passport.TypeIdentityCard),
				oneOf(passport.TypeIdentityCard, passport.TypeInternalPassport),
				oneOf(passport.TypeUtilityBill, passport.TypePhoneNumber),
			)}}},
			paths: []string{"levels.basic.scope[5].one_of", "levels.basic.scope[0].address.selfie",
				"levels.basic.scope[2].personal_details.translation", "levels.basic.scope[4].one_of[0]",
				"levels.basic.scope[1].passport.native_names"},
		},
		{
			name: "a type asked for twice on its own",
			yaml: "levels:\n  basic:\n    scope: [email, phone_number, email]\n",
			go_: Config{Levels: map[string]*Level{"basic": {Scope: scope(
				req(passport.TypeEmail), req(passport.TypePhoneNumber), req(passport.TypeEmail),
			)}}},
			paths: []string{"levels.basic.scope[2]"},
		},
		{
			name: "default_level names no level",
			yaml: "default_level: ful\nlevels:\n  basic: {scope: [pd]}\n  full: {scope: [pd, pp]}\n",
			go_: Config{DefaultLevelName: "ful", Levels: map[string]*Level{
				"basic": {Scope: scope(req(passport.TypePersonalDetails))},
				"full":  {Scope: scope(req(passport.TypePersonalDetails), req(passport.TypePassport))},
			}},
			paths: []string{"default_level"},
		},
		{
			name: "several levels and no default_level",
			yaml: "levels:\n  basic: {scope: [pd]}\n  full: {scope: [pd, pp]}\n",
			go_: Config{Levels: map[string]*Level{
				"basic": {Scope: scope(req(passport.TypePersonalDetails))},
				"full":  {Scope: scope(req(passport.TypePersonalDetails), req(passport.TypePassport))},
			}},
			paths: []string{"default_level"},
		},
		{
			name:  "no level",
			yaml:  "admins: [1]\n",
			go_:   Config{Admins: []int64{1}},
			paths: []string{"levels"},
		},
		{
			name: "a bad level name and a level without scope",
			yaml: "default_level: basic\nlevels:\n  basic: {scope: [pd]}\n  Full Check: {scope: [pd]}\n  full: {title: Full}\n",
			go_: Config{DefaultLevelName: "basic", Levels: map[string]*Level{
				"basic":      {Scope: scope(req(passport.TypePersonalDetails))},
				"Full Check": {Scope: scope(req(passport.TypePersonalDetails))},
				"full":       {Title: "Full"},
			}},
			paths: []string{"levels.Full Check", "levels.full.scope"},
		},
		{
			name: "every other section",
			yaml: level + `telegram:
  app_id: -1
  app_hash: zz-not-hex
  bot_token: nottoken
passport:
  privacy_policy_url: http://example.com/privacy
  request_ttl: 25h
web:
  listen: "8080"
  public_url: http://kyc.example.com
  ops_listen: ":8080"
redis:
  mode: sentinel
  addrs: ["10.0.0.1:26379", "sentinel-2", "10.0.0.1:26379"]
  tls: {ca_file: ca.pem}
i18n:
  default_language: pt-br
admins: [-5, 7, 7]
delivery:
  webhook_url: https://backend.example.com/hook
  min_backoff: 20m
  reclaim_after: 10s
retention:
  audit_days: -1
`,
			go_: withLevel(Config{
				Telegram: Telegram{AppID: -1, AppHash: "zz-not-hex", BotToken: "nottoken"},
				Passport: Passport{PrivacyPolicyURL: "http://example.com/privacy", RequestTTL: 25 * time.Hour},
				Web:      Web{Listen: "8080", PublicURL: "http://kyc.example.com", OpsListen: ":8080"},
				Redis: Redis{Mode: RedisSentinel, Addrs: []string{"10.0.0.1:26379", "sentinel-2", "10.0.0.1:26379"},
					TLS: RedisTLS{CAFile: "ca.pem"}},
				I18n:      I18n{DefaultLanguage: "pt-br"},
				Admins:    []int64{-5, 7, 7},
				Delivery:  Delivery{IncludeData: true, WebhookURL: "https://backend.example.com/hook", MinBackoff: 20 * time.Minute, ReclaimAfter: 10 * time.Second},
				Retention: Retention{StatusDays: 365, AuditDays: -1},
			}),
			paths: []string{"admins[0]", "admins[2]", "i18n.default_language", "telegram.app_id", "delivery.webhook_secret",
				"telegram.bot_token", "telegram.app_hash", "redis.addrs[1]", "redis.addrs[2]", "redis.tls.ca_file",
				"redis.master_name", "retention.audit_days", "passport.request_ttl", "delivery.min_backoff",
				"passport.privacy_policy_url", "web.listen", "web.public_url", "delivery.reclaim_after"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fromFile := parseProblems(t, tt.yaml, noEnv)
			fromGo := goProblems(t, tt.go_)
			file, inGo := pathsAndMessages(fromFile), pathsAndMessages(fromGo)
			if !reflect.DeepEqual(file, inGo) {
				t.Fatalf("problems differ\nfrom YAML:\n  %s\nfrom Go:\n  %s", strings.Join(file, "\n  "), strings.Join(inGo, "\n  "))
			}
			var paths []string
			for _, p := range fromGo {
				paths = append(paths, p.Path)
			}
			sort.Strings(paths)
			sort.Strings(tt.paths)
			if !reflect.DeepEqual(paths, tt.paths) {
				t.Errorf("problems at\n  %s\nwant\n  %s\nall:\n  %s", strings.Join(paths, "\n  "), strings.Join(tt.paths, "\n  "), strings.Join(inGo, "\n  "))
			}
		})
	}
}

// A config built in Go equals the same config read from a file: the same
// defaults, the same resolved level rules.
func TestNewEqualsParse(t *testing.T) {
	src := `default_level: basic
telegram:
  app_id: 12345
  app_hash: 0123456789abcdef0123456789abcdef
  bot_token: "123456789:AAE-example-example-example-example"
passport:
  private_key_file: /etc/kycbot/bot.pem
  privacy_policy_url: https://example.com/privacy
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
  basic:
    title: Basic check
    scope: [pd, pn]
  full:
    scope:
      - personal_details: {native_names: true}
      - one_of: [passport, identity_card]
        selfie: true
      - utility_bill: {translation: true}
    rules:
      personal_details:
        max_age: 65
        citizenship:
          deny: [RU]
      documents:
        types:
          passport: {min_validity_days: 90}
      files: {min_width: 800}
  cleared:
    scope: [pd]
    rules:
      personal_details:
        citizenship: {allow: []}
  teen:
    scope: [pd]
    rules:
      personal_details: {min_age: 0, latin_names: false}
web:
  public_url: https://kyc.example.com
admins: [111111111]
`
	fromFile, err := Parse([]byte(src), "config.yaml", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	rules := verify.DefaultPolicy()
	rules.Personal.MinAge = 21
	rules.Personal.LatinNames = true
	rules.Personal.Citizenship.Allow = []string{"DE", "AT"}
	rules.Documents.MinValidityDays = 10
	rules.Documents.Types = map[passport.ElementType]verify.DocumentTypeRules{
		passport.TypePassport:     {RequireExpiry: boolp(true)},
		passport.TypeIdentityCard: {MinValidityDays: intp(5)},
	}
	teen := &Level{Scope: scope(req(passport.TypePersonalDetails))}
	whole := rules // the top-level rules with two of them lowered to zero
	whole.Personal.MinAge = 0
	whole.Personal.LatinNames = false
	teen.SetWholePolicy(whole)
	in := *Default()
	in.DefaultLevelName = "basic"
	in.Telegram = Telegram{AppID: 12345, AppHash: "0123456789abcdef0123456789abcdef", BotToken: "123456789:AAE-example-example-example-example"}
	in.Passport.PrivateKeyFile = "/etc/kycbot/bot.pem"
	in.Passport.PrivacyPolicyURL = "https://example.com/privacy"
	in.Rules = rules
	in.Levels = map[string]*Level{
		"basic": {Title: "Basic check", Scope: scope(req(passport.TypePersonalDetails), req(passport.TypePhoneNumber))},
		"full": {
			Scope: scope(
				req(passport.TypePersonalDetails).WithNativeNames(),
				oneOf(passport.TypePassport, passport.TypeIdentityCard).WithSelfie(),
				req(passport.TypeUtilityBill).WithTranslation(),
			),
			Policy: verify.Policy{
				Personal:  verify.PersonalRules{MaxAge: 65, Citizenship: verify.CountryRule{Deny: []string{"RU"}}},
				Documents: verify.DocumentRules{Types: map[passport.ElementType]verify.DocumentTypeRules{passport.TypePassport: {MinValidityDays: intp(90)}}},
				Files:     verify.FileRules{MinWidth: 800},
			},
		},
		"cleared": {
			Scope:  scope(req(passport.TypePersonalDetails)),
			Policy: verify.Policy{Personal: verify.PersonalRules{Citizenship: verify.CountryRule{Allow: []string{}}}},
		},
		"teen": teen,
	}
	in.Web.PublicURL = "https://kyc.example.com"
	in.Admins = []int64{111111111}
	inBefore := deepCopy(reflect.ValueOf(in)).Interface().(Config)

	fromGo, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, got *Config) {
		t.Helper()
		want := *unlocated(fromFile) // a file locates its problems, Go cannot
		if !reflect.DeepEqual(*unlocated(got), want) {
			t.Errorf("%s differs from the file's config", what)
			for _, name := range want.LevelNames() {
				if !reflect.DeepEqual(got.Levels[name], want.Levels[name]) {
					t.Errorf("level %s:\n got  %+v\n want %+v", name, got.Levels[name], want.Levels[name])
				}
			}
			if !reflect.DeepEqual(got.Rules, want.Rules) {
				t.Errorf("rules:\n got  %+v\n want %+v", got.Rules, want.Rules)
			}
		}
	}
	same("the config built in Go", fromGo)
	if fromGo.File() != "" || len(fromGo.Warnings()) != 0 || fromGo.RequireTelegram() != nil {
		t.Errorf("File %q, warnings %v, RequireTelegram %v; want none", fromGo.File(), fromGo.Warnings(), fromGo.RequireTelegram())
	}
	// New changes nothing of what it is given, and shares nothing with it.
	if !reflect.DeepEqual(in, inBefore) {
		t.Error("New changed the Config it was given")
	}
	fromGo.Levels["full"].Policy.Personal.Citizenship.Allow[0] = "FR"
	fromGo.Levels["full"].Scope.Elements[1].Types[0] = passport.TypeDriverLicense
	*fromGo.Levels["full"].Policy.Documents.Types[passport.TypePassport].RequireExpiry = false
	fromGo.Redis.Addrs[0] = "changed:1"
	if in.Rules.Personal.Citizenship.Allow[0] != "DE" || fromGo.Rules.Personal.Citizenship.Allow[0] != "DE" ||
		in.Levels["full"].Scope.Elements[1].Types[0] != passport.TypePassport ||
		!*in.Rules.Documents.Types[passport.TypePassport].RequireExpiry || in.Redis.Addrs[0] != DefaultRedisAddr {
		t.Error("the config New returned shares lists, maps or pointers with its input or between levels")
	}
	// A resolved config passed to New again stays as it is, the levels
	// whose rules lower a value to zero included.
	again, err := New(*fromFile)
	if err != nil {
		t.Fatal(err)
	}
	same("a parsed config passed to New", again)
	if p := again.Levels["teen"].Policy.Personal; p.MinAge != 0 || p.LatinNames {
		t.Errorf("teen: min_age %d, latin_names %v; want 0 and false", p.MinAge, p.LatinNames)
	}
}

// New fills the zero fields that have a default; those whose zero means
// something stay zero (the admin notices' switches; their reminder
// period has a default).
func TestNewDefaults(t *testing.T) {
	basic := map[string]*Level{"basic": {Scope: scope(req(passport.TypePersonalDetails))}}
	cfg, err := New(Config{Levels: basic})
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Parse([]byte(level), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Delivery.IncludeData || cfg.Retention.StatusDays != 0 || cfg.Retention.AuditDays != 0 || cfg.AdminNotices != (AdminNotices{ReviewReminder: DefaultReviewReminder}) || cfg.Revocation.NotifyUser || cfg.Passport.ScanMemoryMB != 0 {
		t.Errorf("include_data %v, status_days %d, audit_days %d, admin_notices %+v, scan_memory_mb %d; New keeps the zeros given",
			cfg.Delivery.IncludeData, cfg.Retention.StatusDays, cfg.Retention.AuditDays, cfg.AdminNotices, cfg.Passport.ScanMemoryMB)
	}
	cfg.Delivery.IncludeData = true
	cfg.AdminNotices = AdminNotices{Verified: true, Rejected: true, Alarms: true, ReviewReminder: DefaultReviewReminder}
	cfg.Retention = Retention{StatusDays: DefaultStatusDays, AuditDays: DefaultAuditDays}
	cfg.Revocation.NotifyUser = true
	cfg.Passport.ScanMemoryMB = DefaultScanMemoryMB
	fromFile = unlocated(fromFile)
	if !reflect.DeepEqual(cfg, fromFile) {
		t.Errorf("New(Config{Levels}) = %+v\nwant the file's defaults %+v", cfg, fromFile)
	}
	if cfg.DefaultLevelName != "basic" || cfg.Levels["basic"].Name != "basic" || !reflect.DeepEqual(cfg.Levels["basic"].Policy, verify.DefaultPolicy()) {
		t.Errorf("the only level: default %q, name %q, policy %+v", cfg.DefaultLevelName, cfg.Levels["basic"].Name, cfg.Levels["basic"].Policy)
	}
	// Starting from Default gives exactly the file's defaults.
	d := Default()
	d.Levels = basic
	if cfg, err = New(*d); err != nil || !reflect.DeepEqual(cfg, fromFile) {
		t.Errorf("New(Default() with a level) = %+v, %v\nwant %+v", cfg, err, fromFile)
	}
	// Values given are kept; an all-zero policy is the default policy.
	cfg, err = New(Config{
		Levels:   basic,
		Passport: Passport{RequestTTL: time.Hour},
		Web:      Web{Listen: "127.0.0.1:8081"},
		Redis:    Redis{Mode: RedisCluster, Addrs: []string{"a:1", "b:2"}, Prefix: "app:kyc:"},
		I18n:     I18n{DefaultLanguage: "de"},
		Delivery: Delivery{GiveUpAfter: time.Hour, MinBackoff: time.Second, MaxBackoff: time.Minute, ReclaimAfter: 2 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Passport.RequestTTL != time.Hour || cfg.Web.Listen != "127.0.0.1:8081" || cfg.Redis.Mode != RedisCluster ||
		len(cfg.Redis.Addrs) != 2 || cfg.Redis.Prefix != "app:kyc:" || cfg.I18n.DefaultLanguage != "de" ||
		cfg.Delivery.GiveUpAfter != time.Hour || cfg.Delivery.MinBackoff != time.Second ||
		cfg.Delivery.MaxBackoff != time.Minute || cfg.Delivery.ReclaimAfter != 2*time.Minute {
		t.Errorf("New changed values given: %+v", cfg)
	}
}

// unlocated returns c without its file name and the positions of its
// warnings, for comparing a config read from a file with one built in Go.
func unlocated(c *Config) *Config {
	out := *c
	out.file = ""
	out.warnings, out.missing, out.nowhere = nil, nil, nil
	for _, ps := range []struct{ from, to *[]Problem }{{&c.warnings, &out.warnings}, {&c.missing, &out.missing}, {&c.nowhere, &out.nowhere}} {
		for _, p := range *ps.from {
			p.Line, p.Column = 0, 0
			*ps.to = append(*ps.to, p)
		}
	}
	return &out
}

// Mistakes only Go can make get a problem at the YAML path, never a panic.
func TestNewGoOnlyMistakes(t *testing.T) {
	tests := []struct {
		name   string
		levels map[string]*Level
		want   []want
	}{
		{"nil level", map[string]*Level{"basic": nil}, []want{{"levels.basic.scope", 0, "is missing"}}},
		{"name not the key", map[string]*Level{"basic": {Name: "full", Scope: scope(req(passport.TypeEmail))}},
			[]want{{"levels.basic", 0, `is named "full": a level's Name is its key under levels; leave Name empty`}}},
		{"unknown types", map[string]*Level{"basic": {Scope: scope(
			req("passprt"),
			oneOf(passport.TypePassport, "identity-card"),
		)}}, []want{
			{"levels.basic.scope[0]", 0, `"passprt" is not an element type (did you mean "passport"?)`},
			{"levels.basic.scope[1].one_of[1]", 0, `"identity-card" is not a document type (did you mean "identity_card"?)`},
		}},
		{"an element without types", map[string]*Level{"basic": {Scope: scope(passport.ScopeElement{Selfie: true})}},
			[]want{{"levels.basic.scope[0]", 0, "names no element type"}}},
		{"a type twice in one element", map[string]*Level{"basic": {Scope: scope(oneOf(passport.TypePassport, passport.TypePassport))}},
			[]want{{"levels.basic.scope[0].one_of[1]", 0, "passport is listed more than once in this list; name each type once"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, goProblems(t, Config{Levels: tt.levels}), tt.want)
		})
	}
}

// How a level's rules combine with the top-level rules in Go.
func TestNewLevelRules(t *testing.T) {
	base := verify.DefaultPolicy()
	base.Personal.MaxAge = 70
	base.Personal.LatinNames = true
	base.Personal.Residence.Deny = []string{"KP"}
	base.Documents.Types = map[passport.ElementType]verify.DocumentTypeRules{passport.TypePassport: {RequireExpiry: boolp(true)}}
	own := verify.Policy{
		Personal: verify.PersonalRules{MinAge: 25, Citizenship: verify.CountryRule{Allow: []string{"DE"}}, Residence: verify.CountryRule{Deny: []string{}}},
		Documents: verify.DocumentRules{RequireExpiry: true, Types: map[passport.ElementType]verify.DocumentTypeRules{
			passport.TypePassport:     {MinValidityDays: intp(0)},
			passport.TypeIdentityCard: {RequireExpiry: boolp(false)},
		}},
		Files: verify.FileRules{MinHeight: 600},
	}
	cfg, err := New(Config{Rules: base, Levels: map[string]*Level{"a": {Scope: scope(req(passport.TypePersonalDetails)), Policy: own}}})
	if err != nil {
		t.Fatal(err)
	}
	want := verify.DefaultPolicy()
	want.Personal.MinAge = 25                        // set: replaces
	want.Personal.MaxAge = 70                        // zero: inherited
	want.Personal.LatinNames = true                  // false: inherited
	want.Personal.Citizenship.Allow = []string{"DE"} // a list: replaces
	want.Personal.Residence.Deny = []string{}        // an empty list: clears
	want.Documents.RequireExpiry = true              // true: replaces
	want.Documents.Types = map[passport.ElementType]verify.DocumentTypeRules{
		passport.TypePassport:     {RequireExpiry: boolp(true), MinValidityDays: intp(0)}, // merged by key and pointer
		passport.TypeIdentityCard: {RequireExpiry: boolp(false)},                          // added
	}
	want.Files.MinHeight = 600
	if got := cfg.Levels["a"].Policy; !reflect.DeepEqual(got, want) {
		t.Errorf("level rules =\n %+v\nwant\n %+v", got, want)
	}
	if !reflect.DeepEqual(cfg.Rules, base) {
		t.Errorf("top-level rules = %+v, want them as given %+v", cfg.Rules, base)
	}
}
