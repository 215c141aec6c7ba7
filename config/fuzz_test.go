package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every outcome
// is either a valid Config or an *Error whose problems all carry a message
// and never repeat the fuzzed secrets.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	f.Add([]byte(level))
	for _, tt := range brokenConfigs[:5] {
		f.Add([]byte(tt.src))
	}
	env := mapEnv(map[string]string{EnvWebhookSecret: "fuzz-env-secret-value"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", WithEnv(env))
		if err != nil {
			var cerr *Error
			if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
				t.Fatalf("error %T without problems: %v", err, err)
			}
			for _, p := range cerr.Problems {
				if p.Message == "" {
					t.Fatalf("problem without a message: %+v", p)
				}
			}
			if strings.Contains(err.Error(), "fuzz-env-secret-value") {
				t.Fatalf("the secret leaked: %v", err)
			}
			return
		}
		if cfg.DefaultLevel() == nil {
			t.Fatalf("valid config without a default level: %v", cfg.LevelNames())
		}
		for _, l := range cfg.Levels {
			if _, err := l.Scope.Encode(); err != nil {
				t.Fatalf("level %s has an invalid scope: %v", l.Name, err)
			}
			if errs := l.Policy.Validate(); len(errs) > 0 {
				t.Fatalf("level %s has an invalid policy: %v", l.Name, errs)
			}
		}
		_ = cfg.Summary()
	})
}
