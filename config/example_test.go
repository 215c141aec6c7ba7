package config_test

import (
	"errors"
	"fmt"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

func ExampleParse() {
	noEnv := func(string) (string, bool) { return "", false }
	src := []byte(`levels:
  full:
    scope:
      - personal_details: {native_names: true}
      - one_of: [passport, driver_license, identity_card]
        selfie: true
      - address
      - phone_number
    rules:
      personal_details:
        citizenship: {allow: [DE, AT]}
      documents:
        min_validity_days: 30
`)
	cfg, err := config.Parse(src, "config.yaml", config.WithEnv(noEnv))
	if err != nil {
		fmt.Println(err)
		return
	}
	l := cfg.DefaultLevel()
	fmt.Println(l.Name+":", config.DescribeScope(l.Scope))
	fmt.Println(config.DescribePolicy(l.Policy, l.Scope))
	scope, _ := l.Scope.Encode()
	fmt.Println(scope)

	// Every problem at once, each with its line and YAML path.
	_, err = config.Parse([]byte(`levels:
  full:
    scope:
      - one_of: [pasport, identity_card]
      - address: {selfie: true}
redis:
  mode: sentinel
`), "config.yaml", config.WithEnv(noEnv))
	var cerr *config.Error
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Println(p.Format(cerr.File))
		}
	}
	// Output:
	// full: Personal details (with names in the original script); one of: passport, driving licence or identity card, with a selfie; residential address; phone number
	// Minimum age 18. Countries of citizenship allowed: DE, AT. Documents must be valid for at least 30 days.
	// {"v":1,"d":[{"_":"pd","n":1},{"_":["pp","dl","ic"],"s":1},"ad","pn"]}
	// config.yaml:4:18: levels.full.scope[0].one_of[0]: "pasport" is not a document type (did you mean "passport"?)
	// config.yaml:5:19: levels.full.scope[1].address.selfie: a selfie cannot be asked for with address (only with passport, driver_license, identity_card, internal_passport): remove the selfie flag or those types
	// config.yaml:6:1: redis.master_name: is required in sentinel mode: the name of the master the sentinels watch (often mymaster)
}

// A configuration built in Go, without YAML: two levels, the top-level
// rules and the settings a running bot needs. New fills in the defaults
// and runs the checks a file gets.
func ExampleNew() {
	rules := verify.DefaultPolicy() // adults only, documents not expired
	rules.Personal.Citizenship.Deny = []string{"RU", "BY"}

	cfg, err := config.New(config.Config{
		Telegram: config.Telegram{
			AppID:    12345,
			AppHash:  "0123456789abcdef0123456789abcdef",
			BotToken: "123456789:AAE-example-example-example-example",
		},
		Passport: config.Passport{
			PrivateKeyFile:   "/etc/kycbot/bot.pem",
			PrivacyPolicyURL: "https://example.com/privacy",
		},
		DefaultLevelName: "basic",
		Levels: map[string]*config.Level{
			"basic": {
				Title: "Basic check",
				Scope: passport.NewScope(
					passport.Require(passport.TypePersonalDetails),
					passport.Require(passport.TypePhoneNumber),
				),
			},
			"full": {
				Title: "Full KYC",
				Scope: passport.NewScope(
					passport.Require(passport.TypePersonalDetails).WithNativeNames(),
					passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard).WithSelfie(),
					passport.Require(passport.TypeAddress),
				),
				// Only what differs from the top-level rules.
				Policy: verify.Policy{
					Personal:  verify.PersonalRules{MinAge: 21},
					Documents: verify.DocumentRules{MinValidityDays: 30},
				},
			},
		},
		Rules:  rules,
		Web:    config.Web{PublicURL: "https://kyc.example.com"},
		Redis:  config.Redis{Addrs: []string{"redis.internal:6379"}},
		Admins: []int64{111111111},
		// In Go, a false is kept: say which notices the admins get.
		AdminNotices: config.AdminNotices{Verified: true, Rejected: true, Alarms: true},
		Retention:    config.Retention{StatusDays: 365, AuditDays: 1825}, // 0 would keep forever
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range cfg.LevelNames() {
		l, _ := cfg.Level(name)
		fmt.Printf("%s: %s.\n  %s\n", l.Name, config.DescribeScope(l.Scope), config.DescribePolicy(l.Policy, l.Scope))
	}
	fmt.Println("default level:", cfg.DefaultLevel().Name)
	fmt.Println("listen:", cfg.Web.Listen, "- requests expire after", cfg.Passport.RequestTTL)

	// The same mistakes as in a file give the same messages, each naming
	// the YAML path of the setting.
	_, err = config.New(config.Config{Levels: map[string]*config.Level{
		"full": {
			Scope:  passport.NewScope(passport.Require(passport.TypeAddress).WithSelfie()),
			Policy: verify.Policy{Personal: verify.PersonalRules{MaxAge: 16}},
		},
	}})
	fmt.Println(err)
	// Output:
	// basic: Personal details; phone number.
	//   Minimum age 18. Countries of citizenship refused: RU, BY.
	// full: Personal details (with names in the original script); one of: passport or identity card, with a selfie; residential address.
	//   Minimum age 21. Countries of citizenship refused: RU, BY. Documents must be valid for at least 30 days.
	// default level: basic
	// listen: :8080 - requests expire after 30m0s
	// levels.full.scope[0].address.selfie: a selfie cannot be asked for with address (only with passport, driver_license, identity_card, internal_passport): remove the selfie flag or those types
	// levels.full.rules.personal_details.max_age: 16 is below min_age 18: no one could pass
}

// A bot with the token alone: on the Bot API, receiving with a webhook,
// which needs web.public_url (RequireTelegram says so while it is
// missing).
func ExampleConfig_DescribeTransport() {
	noEnv := func(string) (string, bool) { return "", false }
	src := `levels: {basic: {scope: [personal_details]}}
telegram:
  transport: botapi
  bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
  bot_api: {receive: webhook}
`
	cfg, err := config.Parse([]byte(src), "config.yaml", config.WithEnv(noEnv))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.RequireTelegram())
	cfg, _ = config.Parse([]byte(src+"web: {public_url: \"https://kyc.example.com\"}\n"), "config.yaml", config.WithEnv(noEnv))
	fmt.Println(cfg.RequireTelegram())
	fmt.Println(cfg.DescribeTransport())
	// Output:
	// config.yaml:1:1: web.public_url: is not set: telegram.bot_api.receive webhook needs it, Telegram posts the updates to <web.public_url>/telegram/...; set it, or receive with polling
	// <nil>
	// the Bot API at https://api.telegram.org with the bot token alone (no app_id or app_hash); updates by webhook: Telegram posts them to https://kyc.example.com/telegram/<path derived from the bot token>, which every instance serves on web.listen (:8080), so any of them may receive; the bot sets the webhook when it starts, with a secret token derived from the bot token.
}
