package config_test

import (
	"errors"
	"fmt"

	"github.com/kycbot/kycbot/config"
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
	// full: Personal details (with names in the original script); one of: passport, driver's license or identity card, with a selfie; residential address; phone number
	// Minimum age 18. Countries of citizenship allowed: DE, AT. Documents must be valid for at least 30 days.
	// {"v":1,"d":[{"_":"pd","n":1},{"_":["pp","dl","ic"],"s":1},"ad","pn"]}
	// config.yaml:4:18: levels.full.scope[0].one_of[0]: "pasport" is not a document type (did you mean "passport"?)
	// config.yaml:5:19: levels.full.scope[1].address.selfie: a selfie cannot be asked for with address (only with passport, driver_license, identity_card, internal_passport): remove the selfie flag or those types
	// config.yaml:6:1: redis.master_name: is required in sentinel mode: the name of the master the sentinels watch (often mymaster)
}
