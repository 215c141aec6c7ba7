package config

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// noEnv is an environment with no variables.
func noEnv(string) (string, bool) { return "", false }

// mapEnv is an environment holding m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// want is one expected problem: its exact path and line, and a part of its
// message.
type want struct {
	path string
	line int
	msg  string
}

// parseProblems parses src and returns its problems (failing the test when
// it parses cleanly or fails with another error type).
func parseProblems(t *testing.T, src string, env func(string) (string, bool)) (*Error, []Problem) {
	t.Helper()
	cfg, err := Parse([]byte(src), "config.yaml", WithEnv(env))
	if err == nil {
		t.Fatalf("Parse succeeded (levels %v), want problems", cfg.LevelNames())
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %T %v is not a *config.Error", err, err)
	}
	return cerr, cerr.Problems
}

func checkProblems(t *testing.T, got []Problem, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		w := wants[i]
		ok = got[i].Path == w.path && got[i].Line == w.line && strings.Contains(got[i].Message, w.msg)
	}
	if ok {
		return
	}
	var b strings.Builder
	for _, p := range got {
		b.WriteString("\n  got  " + p.Format("config.yaml"))
	}
	for _, w := range wants {
		b.WriteString("\n  want " + w.path + " at line " + itoa(w.line) + ": ..." + w.msg + "...")
	}
	t.Errorf("problems differ:%s", b.String())
}

func itoa(i int) string { return strconv.Itoa(i) }

// level is a valid levels section, for cases about other sections.
const level = "levels: {basic: {scope: [personal_details]}}\n"

var brokenConfigs = []struct {
	name string
	src  string
	want []want
}{
	{
		name: "misspelled element type in one_of",
		src: `levels:
  full:
    scope:
      - personal_details
      - one_of: [pasport, driver_license]
        selfie: true
`,
		want: []want{{"levels.full.scope[1].one_of[0]", 5, `"pasport" is not a document type (did you mean "passport"?)`}},
	},
	{
		name: "misspelled element type, misspelled flag and unknown element key at once",
		src: `levels:
  basic:
    scope:
      - personal_detials
      - utility_bill: {translaton: true}
      - adress: {translation: true}
`,
		want: []want{
			{"levels.basic.scope[0]", 4, `"personal_detials" is not an element type (did you mean "personal_details"?)`},
			{"levels.basic.scope[1].utility_bill.translaton", 5, `unknown key "translaton" (did you mean "translation"?)`},
			{"levels.basic.scope[2]", 6, `"adress" is not an element type (did you mean "address"?)`},
		},
	},
	{
		name: "unknown top-level key",
		src: level + `levles_default: basic
defualt_level: basic
`,
		want: []want{
			{"levles_default", 2, `unknown key "levles_default"; the keys here are telegram, passport, default_level`},
			{"defualt_level", 3, `unknown key "defualt_level" (did you mean "default_level"?)`},
		},
	},
	{
		name: "unknown nested keys",
		src: level + `telegram:
  bot_tokn: x
redis:
  tls:
    enable: true
`,
		want: []want{
			{"telegram.bot_tokn", 3, `unknown key "bot_tokn" (did you mean "bot_token"?)`},
			{"redis.tls.enable", 6, `unknown key "enable" (did you mean "enabled"?)`},
		},
	},
	{
		name: "wrong types",
		src: level + `telegram:
  app_id: "12345abc"
admins: 12345
delivery:
  include_data: "yes"
`,
		want: []want{
			{"telegram.app_id", 3, `must be a whole number, not the text "12345abc"`},
			{"admins", 4, "must be a list, not the number 12345"},
			{"delivery.include_data", 6, `must be true or false, not the text "yes"`},
		},
	},
	{
		name: "bad durations",
		src: level + `passport:
  request_ttl: 30
delivery:
  give_up_after: two days
`,
		want: []want{
			{"passport.request_ttl", 3, "30 has no unit: write 30s, 30m or 30h"},
			{"delivery.give_up_after", 5, `"two days" is not a duration`},
		},
	},
	{
		name: "scan memory out of range",
		src: level + `passport:
  scan_memory_mb: -1
`,
		want: []want{
			{"passport.scan_memory_mb", 3, "-1 is out of range: use between 0 (every scan staged on disk) and 4096 megabytes"},
		},
	},
	{
		name: "durations out of range",
		src: level + `passport:
  request_ttl: 25h
delivery:
  give_up_after: 30s
`,
		want: []want{
			{"passport.request_ttl", 3, "25h is out of range: use between 1m and 24h"},
			{"delivery.give_up_after", 5, "30s is out of range: use between 1m and 30d"},
		},
	},
	{
		name: "retry durations out of range",
		src: level + `delivery:
  min_backoff: 0s
  max_backoff: 2d
  reclaim_after: 10s
`,
		want: []want{
			{"delivery.min_backoff", 3, "0s is out of range: use between 1s and 24h"},
			{"delivery.max_backoff", 4, "2d is out of range: use between 1s and 24h"},
			{"delivery.reclaim_after", 5, "10s is too short: another instance would take over deliveries still under way (a request may take 10s); use between 30s and 1h"},
		},
	},
	{
		name: "negative and bad retry durations",
		src: level + `delivery:
  min_backoff: -5s
  max_backoff: fast
  reclaim_after: 2h
`,
		want: []want{
			{"delivery.min_backoff", 3, "-5s is out of range: use between 1s and 24h"},
			{"delivery.max_backoff", 4, `"fast" is not a duration`},
			{"delivery.reclaim_after", 5, "2h is out of range: use between 30s and 1h"},
		},
	},
	{
		name: "max_backoff below min_backoff",
		src: level + `delivery:
  min_backoff: 1m
  max_backoff: 30s
`,
		want: []want{{"delivery.max_backoff", 4, "30s is below min_backoff (1m): raise max_backoff to at least 1m, or lower min_backoff"}},
	},
	{
		name: "min_backoff above the default max_backoff",
		src: level + `delivery:
  min_backoff: 20m
`,
		want: []want{{"delivery.min_backoff", 3, "20m is above max_backoff (default 10m): lower min_backoff, or set max_backoff to at least 20m"}},
	},
	{
		name: "flags on the wrong elements",
		src: `levels:
  basic:
    scope:
      - address: {selfie: true}
      - passport: {native_names: true, selfie: true}
      - personal_details: {translation: true}
`,
		want: []want{
			{"levels.basic.scope[0].address.selfie", 4, "a selfie cannot be asked for with address"},
			{"levels.basic.scope[1].passport.native_names", 5, "native names exist only for personal_details, not for passport"},
			{"levels.basic.scope[2].personal_details.translation", 6, "a translation cannot be asked for with personal_details"},
		},
	},
	{
		name: "same type twice across one_of lists, and a mixed list",
		src: `levels:
  basic:
    scope:
      - one_of: [passport, driver_license]
      - one_of: [identity_card, passport]
      - one_of: [utility_bill, internal_passport]
`,
		want: []want{
			{"levels.basic.scope[1].one_of[1]", 5, "passport is already asked for at levels.basic.scope[0]; each type may appear only once"},
			{"levels.basic.scope[2].one_of", 6, "mixes identity documents (internal_passport) with address documents (utility_bill)"},
		},
	},
	{
		name: "one_of with other elements, a group overlapping a type, a flag without element",
		src: `levels:
  basic:
    scope:
      - one_of: [phone_number, email]
      - passport
      - idd
      - selfie: true
`,
		want: []want{
			{"levels.basic.scope[0].one_of", 4, "a one-of list may hold only identity documents"},
			{"levels.basic.scope[2]", 6, "passport (in idd) is already asked for at levels.basic.scope[1]"},
			{"levels.basic.scope[3]", 7, "selfie needs an element"},
		},
	},
	{
		name: "empty scope and missing scope",
		src: `default_level: basic
levels:
  basic:
    scope: []
  full:
    title: Full check
`,
		want: []want{
			{"levels.basic.scope", 4, "is empty (Telegram refuses an empty request)"},
			{"levels.full.scope", 5, "is missing: list what this level asks for"},
		},
	},
	{
		name: "default_level names a missing level",
		src: `default_level: ful
levels:
  basic: {scope: [pd]}
  full: {scope: [pd, pp]}
`,
		want: []want{{"default_level", 1, `"ful" is not a level (did you mean "full"?); the levels are basic and full`}},
	},
	{
		name: "several levels and no default_level",
		src: `telegram: {}
levels:
  basic: {scope: [pd]}
  full: {scope: [pd, pp]}
`,
		want: []want{{"default_level", 1, "is not set: with several levels, name the one /start and /verify use: basic or full"}},
	},
	{
		name: "no levels",
		src: `telegram:
  app_id: 1
`,
		want: []want{{"levels", 1, "no level is defined"}},
	},
	{
		name: "bad level names",
		src: `default_level: basic
levels:
  basic: {scope: [pd]}
  Full Check: {scope: [pd]}
  a.b: {scope: [pd]}
`,
		want: []want{
			{"levels.Full Check", 4, `"Full Check" is not a valid level name: use 1 to 32 lowercase letters, digits, _ and -, such as "full-check"`},
			{"levels.a.b", 5, `"a.b" is not a valid level name`},
		},
	},
	{
		name: "negative min_age and max_age below min_age in a level",
		src: `rules:
  personal_details:
    min_age: -1
levels:
  basic:
    scope: [pd]
    rules:
      personal_details:
        min_age: 30
        max_age: 21
`,
		want: []want{
			{"rules.personal_details.min_age", 3, "-1 is negative"},
			{"levels.basic.rules.personal_details.max_age", 10, "21 is below min_age 30: no one could pass"},
		},
	},
	{
		name: "an inherited max_age below a level's min_age points at the nearest parent",
		src: `rules:
  personal_details:
    max_age: 30
levels:
  basic:
    scope: [pd]
    rules:
      personal_details:
        min_age: 40
`,
		want: []want{{"levels.basic.rules.personal_details.max_age", 8, "30 is below min_age 40"}},
	},
	{
		name: "max_age below an inherited min_age",
		src: `levels:
  basic:
    scope: [pd]
    rules:
      personal_details:
        max_age: 16
`,
		want: []want{{"levels.basic.rules.personal_details.max_age", 6, "16 is below min_age 18"}},
	},
	{
		name: "bad country codes and a country both allowed and denied",
		src: level + `rules:
  personal_details:
    citizenship:
      allow: [DE, XX, at]
      deny: [AT]
  address:
    countries:
      deny: [UK]
`,
		want: []want{
			{"rules.personal_details.citizenship", 4, "AT is both allowed and denied; keep it in one list"},
			{"rules.personal_details.citizenship.allow[1]", 5, `"XX" is not an ISO 3166-1 alpha-2 country code`},
			{"rules.address.countries.deny[0]", 9, `"UK" is not an ISO 3166-1 alpha-2 country code`},
		},
	},
	{
		name: "document type overrides for non-document types",
		src: level + `rules:
  documents:
    types:
      address: {min_validity_days: 30}
      pasport: {require_expiry: true}
      passport: {min_validity_days: -3}
`,
		want: []want{
			{"rules.documents.types.address", 5, `"address" is not an identity document type`},
			{"rules.documents.types.pasport", 6, `(did you mean "passport"?)`},
			{"rules.documents.types.passport.min_validity_days", 7, "-3 is negative"},
		},
	},
	{
		name: "duplicates not a choice",
		src: level + `rules:
  duplicates: refused
`,
		want: []want{
			{"rules.duplicates", 3, `"refused" is not a choice; use refuse (the default), review or off`},
		},
	},
	{
		name: "public_url and privacy policy not https",
		src: level + `passport:
  privacy_policy_url: http://example.com/privacy
web:
  public_url: http://kyc.example.com
  listen: 8080
`,
		want: []want{
			{"passport.privacy_policy_url", 3, "must use https"},
			{"web.public_url", 5, "must use https (http is allowed only for localhost)"},
			{"web.listen", 6, `8080 is not host:port: did you mean ":8080"?`},
		},
	},
	{
		name: "redis sentinel without master_name and a bad address",
		src: level + `redis:
  mode: sentinel
  addrs: ["10.0.0.1:26379", "sentinel-2"]
`,
		want: []want{
			{"redis.master_name", 2, "is required in sentinel mode"},
			{"redis.addrs[1]", 4, `"sentinel-2" is not host:port`},
		},
	},
	{
		name: "redis bad mode and settings without effect",
		src: level + `redis:
  mode: clustr
  tls:
    ca_file: ca.pem
`,
		want: []want{
			{"redis.mode", 3, `"clustr" is not a Redis mode (did you mean "cluster"?)`},
			{"redis.tls.ca_file", 5, "has no effect while redis.tls.enabled is false"},
		},
	},
	{
		name: "redis cluster with a database, a master_name and credentials in an address",
		src: level + `redis:
  mode: cluster
  db: 2
  master_name: mymaster
  addrs: ["user:pw@10.0.0.1:6379"]
  wait_replicas: 1
`,
		want: []want{
			{"redis.db", 4, "Redis Cluster has only database 0"},
			{"redis.master_name", 5, "is used only in sentinel mode"},
			{"redis.addrs[0]", 6, "must be host:port only"},
			{"redis.wait_replicas", 7, "is for sentinel and single modes"},
		},
	},
	{
		name: "redis single with two servers",
		src: level + `redis:
  addrs: [a:6379, b:6379]
`,
		want: []want{{"redis.addrs", 3, "single mode connects to one server, but 2 addresses are listed"}},
	},
	{
		name: "webhook_url without secret",
		src: level + `delivery:
  webhook_url: https://backend.example.com/hook
`,
		want: []want{{"delivery.webhook_secret", 2, "is required when webhook_url is set"}},
	},
	{
		name: "short webhook secret and an http webhook",
		src: level + `delivery:
  webhook_url: http://backend.example.com/hook
  webhook_secret: tooshort-SECRET1
`,
		want: []want{
			{"delivery.webhook_url", 3, "must use https"},
			{"delivery.webhook_secret", 4, "is 16 characters, need at least 32"},
		},
	},
	{
		name: "previous webhook secret short, then the current one",
		src: level + `delivery:
  webhook_url: https://backend.example.com/hook
  webhook_secret: 0123456789abcdef0123456789abcdef
  previous_webhook_secret: old-SECRET1
`,
		want: []want{{"delivery.previous_webhook_secret", 5, "is 11 characters, need at least 32"}},
	},
	{
		name: "previous webhook secret the same as the current one",
		src: level + `delivery:
  webhook_url: https://backend.example.com/hook
  webhook_secret: 0123456789abcdef0123456789abcdef
  previous_webhook_secret: 0123456789abcdef0123456789abcdef
`,
		want: []want{{"delivery.previous_webhook_secret", 5, "is the same as delivery.webhook_secret"}},
	},
	{
		name: "previous private key files empty or the current one",
		src: level + `passport:
  private_key_file: bot.pem
  previous_private_key_files: ["", bot.pem]
`,
		want: []want{
			{"passport.previous_private_key_files[0]", 4, "is empty"},
			{"passport.previous_private_key_files[1]", 4, "is passport.private_key_file itself"},
		},
	},
	{
		name: "unknown default_language",
		src: level + `i18n:
  default_language: pt-br
`,
		want: []want{{"i18n.default_language", 3, `"pt-br" is not a language kycbot speaks (did you mean "pt-BR"?)`}},
	},
	{
		name: "admin ids not positive and twice",
		src: level + `admins:
  - 12345
  - -5
  - 0
  - 12345
`,
		want: []want{
			{"admins[1]", 4, "-5 is not a Telegram user ID"},
			{"admins[2]", 5, "0 is not a Telegram user ID"},
			{"admins[3]", 6, "12345 is listed twice (also at admins[0])"},
		},
	},
	{
		name: "bad Telegram credentials and negative retention",
		src: level + `telegram:
  app_id: -1
  app_hash: zz-not-hex-SECRET2
  bot_token: nottoken-SECRET3
retention:
  audit_days: -1
`,
		want: []want{
			{"telegram.app_id", 3, "-1 is negative"},
			{"telegram.app_hash", 4, "is not an api_hash: it must be the 32 hexadecimal characters"},
			{"telegram.bot_token", 5, "does not look like a bot token"},
			{"retention.audit_days", 7, "-1 is negative"},
		},
	},
	{
		name: "bot api urls",
		src: level + `telegram:
  bot_api_url: ftp://api.example.com
`,
		want: []want{{"telegram.bot_api_url", 3, "must be an http or https URL, not ftp:"}},
	},
	{
		name: "bot api url with the token path",
		src: level + `telegram:
  bot_api_url: https://api.telegram.org/bot123:abc
`,
		want: []want{{"telegram.bot_api_url", 3, "must be the server's base URL, without /bot<token>"}},
	},
	{
		name: "bot api url with a query",
		src: level + `telegram:
  bot_api_url: "http://127.0.0.1:8081/?x=1"
`,
		want: []want{{"telegram.bot_api_url", 3, "must not have a ?query or #fragment"}},
	},
	{
		name: "empty bot api url",
		src: level + `telegram:
  bot_api_url: ""
`,
		want: []want{{"telegram.bot_api_url", 3, "is empty: leave it out for Telegram's https://api.telegram.org"}},
	},
	{
		name: "unknown transport",
		src: level + `telegram:
  transport: http
`,
		want: []want{{"telegram.transport", 3, `"http" is not a transport: use mtproto (gotd; app_id, app_hash and bot_token) or botapi`}},
	},
	{
		name: "unknown way of receiving",
		src: level + `telegram:
  transport: botapi
  bot_api: {receive: push}
`,
		want: []want{{"telegram.bot_api.receive", 4, `"push" is not a way of receiving: use polling`}},
	},
	{
		name: "invalid YAML syntax",
		src: `levels:
  basic: {scope: [pd]
web:
  listen: ":8080"
`,
		want: []want{{"", 2, "invalid YAML: did not find expected ',' or '}'"}},
	},
	{
		name: "invalid YAML without a line from the parser",
		src: level + `web:
  listen: a: b
`,
		want: []want{{"", 3, "invalid YAML: mapping values are not allowed in this context"}},
	},
	{
		name: "tab indentation",
		src: `levels:
  basic:
	scope: [pd]
`,
		want: []want{{"", 3, "a tab indents this line; YAML indents with spaces only"}},
	},
	{
		name: "duplicate keys",
		src: level + `web:
  listen: ":8080"
  listen: ":9090"
web:
  public_url: https://kyc.example.com
`,
		want: []want{
			{"web.listen", 4, "is set twice (first at line 3); keep one"},
			{"web", 5, "is set twice (first at line 2); keep one"},
		},
	},
	{
		name: "not a mapping",
		src:  "- levels\n",
		want: []want{{"", 1, "the config must be a mapping of sections"}},
	},
	{
		name: "two documents",
		src:  level + "---\n" + level,
		want: []want{{"", 2, "more than one YAML document"}},
	},
	{
		name: "scope items of the wrong shape",
		src: `levels:
  basic:
    scope:
      - [pd]
      - 5
      - passport: yes
      - one_of: []
      - address: {}
        selfie: true
`,
		want: []want{
			{"levels.basic.scope[0]", 4, "must be an element name (such as passport)"},
			{"levels.basic.scope[1]", 5, "must be the name of an element, such as passport, not the number 5"},
			{"levels.basic.scope[2].passport", 6, `must be flags such as {selfie: true, translation: true}, not the text "yes"`},
			{"levels.basic.scope[3].one_of", 7, "is empty: name two or more documents"},
			{"levels.basic.scope[4]", 8, "put the flags inside the element"},
		},
	},
	{
		name: "rules of the wrong shape and out of Telegram's limits",
		src: level + `rules:
  personal_details: 18
  files:
    max_size_mb: 20
    min_sharpness: -5
  documents:
    types: [passport]
`,
		want: []want{
			{"rules.personal_details", 3, "must be a mapping of settings (key: value), not the number 18"},
			{"rules.files.max_size_mb", 5, "20 is above Telegram's own limit of 10 MB"},
			{"rules.files.min_sharpness", 6, "-5 is not a sharpness; use 0 to turn the rule off or a number up to 1000 (default 60)"},
			{"rules.documents.types", 8, "must be a mapping (key: value), not a list"},
		},
	},
	{
		name: "a value that does not decode is reported once",
		src: `default_level: a
levels:
  a: [pd]
admins: [me]
`,
		want: []want{
			{"levels.a", 3, "must be a mapping of settings (key: value), not a list"},
			{"admins[0]", 4, `must be a whole number, not the text "me"`},
		},
	},
}

func TestBrokenConfigs(t *testing.T) {
	if len(brokenConfigs) < 25 {
		t.Fatalf("only %d broken configs", len(brokenConfigs))
	}
	for _, tt := range brokenConfigs {
		t.Run(tt.name, func(t *testing.T) {
			cerr, got := parseProblems(t, tt.src, noEnv)
			checkProblems(t, got, tt.want)
			// Error prints one problem per line, each with file, line and path.
			lines := strings.Split(cerr.Error(), "\n")
			if len(lines) != len(got) {
				t.Errorf("Error() has %d lines for %d problems:\n%s", len(lines), len(got), cerr.Error())
			}
			for i, l := range lines {
				prefix := "config.yaml:" + itoa(got[i].Line) + ":"
				if !strings.HasPrefix(l, prefix) {
					t.Errorf("line %q does not start with %q", l, prefix)
				}
				if got[i].Path != "" && !strings.Contains(l, " "+got[i].Path+": ") {
					t.Errorf("line %q does not name the path %s", l, got[i].Path)
				}
				for _, secret := range []string{"SECRET1", "SECRET2", "SECRET3"} {
					if strings.Contains(l, secret) {
						t.Errorf("a secret leaked into %q", l)
					}
				}
			}
		})
	}
}

func TestManyProblems(t *testing.T) {
	src := level + "admins: [" + strings.Repeat("0, ", 149) + "0]\n"
	cerr, got := parseProblems(t, src, noEnv)
	if len(got) != maxReported+1 {
		t.Fatalf("%d problems, want %d", len(got), maxReported+1)
	}
	if last := got[len(got)-1]; last.Message != "and 50 more problems; fix these first" {
		t.Errorf("last problem = %+v", last)
	}
	if !strings.HasSuffix(cerr.Error(), "\nconfig.yaml: and 50 more problems; fix these first") {
		t.Errorf("Error() ends with %q", cerr.Error()[len(cerr.Error())-60:])
	}
}
