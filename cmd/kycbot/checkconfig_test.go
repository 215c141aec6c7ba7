package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clearSecretEnv makes the KYCBOT_* secrets unset for the test (an empty
// variable counts as unset).
func clearSecretEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"KYCBOT_APP_HASH", "KYCBOT_BOT_TOKEN", "KYCBOT_REDIS_PASSWORD", "KYCBOT_WEBHOOK_SECRET"} {
		t.Setenv(v, "")
	}
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckConfigExample(t *testing.T) {
	clearSecretEnv(t)
	r := runCLI(t, nil, "check-config", "--config", "../../config.example.yaml")
	// The example says nothing of where results go: kycbot run would
	// refuse it, and check-config says so, with the summary.
	if r.code != exitFailure {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"../../config.example.yaml is well-formed, but kycbot run refuses it",
		"Levels (2, default basic):",
		"  basic (Basic check)",
		"  full (Full KYC)",
		"one of: passport, driving licence or identity card, with a selfie",
		"Documents must be valid for at least 30 days.",
		"Redis: single server 127.0.0.1:6379",
		"Brand on the request page: the bot's @username (web.brand.name not set), no logo.",
		"Delivery: no webhook: results reach only the WithOnVerified hooks",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	// The missing Telegram credentials are warnings on stderr, and so is
	// the key file, which does not exist beside the example; the missing
	// delivery is an error.
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("stderr has %d lines, want 4 warnings, an error and the count:\n%s", len(lines), r.stderr)
	}
	if !strings.Contains(lines[3], "warning: passport.private_key_file: key file") || !strings.Contains(lines[3], "does not exist: create one with: kycbot keygen --out") {
		t.Errorf("warning 3 = %q, want the missing key file and how to create it", lines[3])
	}
	for i, path := range []string{"telegram.app_id", "telegram.app_hash", "telegram.bot_token"} {
		if !strings.HasPrefix(lines[i], "../../config.example.yaml:") || !strings.Contains(lines[i], ": warning: "+path+": is not set") {
			t.Errorf("warning %d = %q, want one about %s", i, lines[i], path)
		}
	}
	if !strings.HasPrefix(lines[4], "../../config.example.yaml:") || !strings.Contains(lines[4], ": delivery.webhook_url: is not set: verified results would go nowhere") ||
		!strings.Contains(lines[4], "delivery.none: true") || strings.Contains(lines[4], "warning") {
		t.Errorf("line 5 = %q, want the error about delivery.webhook_url naming delivery.none", lines[4])
	}
	if lines[5] != "kycbot check-config: 1 problem in ../../config.example.yaml (kycbot run would refuse it)" {
		t.Errorf("last line = %q", lines[5])
	}
}

// Where results go: a webhook or none on purpose pass check-config, and
// say so in the summary.
func TestCheckConfigDelivery(t *testing.T) {
	clearSecretEnv(t)
	t.Setenv("KYCBOT_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef")
	for _, tt := range []struct{ name, delivery, want string }{
		{"webhook", "delivery: {webhook_url: https://backend.example.com/kyc}\n", "Delivery: webhook to backend.example.com"},
		{"none on purpose", "delivery: {none: true}\n", "Delivery: none, on purpose (delivery.none): verified results are kept nowhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, "levels: {a: {scope: [email]}}\n"+tt.delivery)
			r := runCLI(t, nil, "check-config", "--config", p)
			if r.code != exitOK || !strings.HasPrefix(r.stdout, p+" is valid.") || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit status %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// check-config explains the transport and, on the Bot API, the way of
// receiving and what it lacks; the token-only config needs no app_id.
func TestCheckConfigTransport(t *testing.T) {
	clearSecretEnv(t)
	const base = "levels: {a: {scope: [email]}}\ndelivery: {none: true}\n"
	const token = "  bot_token: '7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'\n"
	for _, tt := range []struct{ name, src, want, notWant string }{
		{"mtproto", "", "Telegram transport: MTProto (gotd)", ""},
		{"botapi polling", "telegram:\n  transport: botapi\n" + token,
			"Telegram transport: the Bot API at https://api.telegram.org with the bot token alone", "telegram.app_id"},
		{"botapi webhook without a public URL", "telegram:\n  transport: botapi\n  bot_api: {receive: webhook}\n" + token,
			"web.public_url: is not set: telegram.bot_api.receive webhook needs it", "telegram.app_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, base+tt.src)
			r := runCLI(t, nil, "check-config", "--config", p)
			out := r.stdout + r.stderr
			if r.code != exitOK || !strings.Contains(out, tt.want) || (tt.notWant != "" && strings.Contains(out, tt.notWant)) {
				t.Errorf("exit status %d, want %q without %q; stdout:\n%s\nstderr:\n%s", r.code, tt.want, tt.notWant, r.stdout, r.stderr)
			}
			if strings.Contains(out, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") {
				t.Error("check-config printed the bot token")
			}
		})
	}
}

func TestCheckConfigSecretsFromEnv(t *testing.T) {
	clearSecretEnv(t)
	t.Setenv("KYCBOT_APP_HASH", "0123456789abcdef0123456789abcdef")
	t.Setenv("KYCBOT_BOT_TOKEN", "123456:AAHsecretsecretsecretsecretsecret1")
	t.Setenv("KYCBOT_REDIS_PASSWORD", "redis-secret-xyzzy")
	p := writeConfig(t, `telegram: {app_id: 42}
passport:
  private_key_file: bot.pem
  privacy_policy_url: https://example.com/privacy
web: {public_url: "https://kyc.example.com"}
levels:
  only: {scope: [pd, pn]}
delivery: {none: true}
`)
	writeKey(t, filepath.Dir(p), "bot.pem", testKeys()[0], 0o600) // the key file, beside the config
	r := runCLI(t, nil, "check-config", "--config", p)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit status %d, stderr %q; want 0 and no warning", r.code, r.stderr)
	}
	for _, want := range []string{"app_id 42, app_hash set, bot token set", "password set", "only\n    Asks for: Personal details; phone number."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, secret := range []string{"0123456789abcdef", "AAHsecret", "xyzzy"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("output shows a secret (%s)", secret)
		}
	}
}

// web.brand: check-config prints the brand and reads the logo file as run
// will, relative to the config file; a file that is not an image fails.
func TestCheckConfigBrand(t *testing.T) {
	clearSecretEnv(t)
	p := writeConfig(t, `levels:
  only: {scope: [pd]}
web:
  brand:
    name: Acme Bank
    logo_file: logo.svg
delivery:
  none: true
`)
	logo := filepath.Join(filepath.Dir(p), "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check-config", "--config", p)
	if want := `Brand on the request page: "Acme Bank", logo ` + logo + " (SVG, 59 bytes)."; r.code != exitOK || !strings.Contains(r.stdout, want) {
		t.Errorf("exit status %d, summary lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if err := os.WriteFile(logo, []byte("GIF89a"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "check-config", "--config", p)
	if want := p + `:6:16: web.brand.logo_file: "logo.svg" is not a PNG, JPEG or SVG image`; r.code != exitFailure || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit status %d, stderr %q, want it to start with %q", r.code, r.stderr, want)
	}
}

func TestCheckConfigProblems(t *testing.T) {
	clearSecretEnv(t)
	t.Setenv("KYCBOT_WEBHOOK_SECRET", "too-short-SECRET")
	p := writeConfig(t, `levels:
  full:
    scope:
      - one_of: [pasport, identity_card]
redis:
  mode: sentinel
delivery:
  webhook_url: https://backend.example.com/kyc
`)
	r := runCLI(t, nil, "check-config", "--config", p)
	if r.code != exitFailure || r.stdout != "" {
		t.Fatalf("exit status %d, stdout %q; want 1 and nothing", r.code, r.stdout)
	}
	want := []string{
		p + `:4:18: levels.full.scope[0].one_of[0]: "pasport" is not a document type (did you mean "passport"?)`,
		p + ":5:1: redis.master_name: is required in sentinel mode",
		p + ":7:1: delivery.webhook_secret: is 16 characters (from KYCBOT_WEBHOOK_SECRET), need at least 32",
		"kycbot check-config: 3 problems in " + p,
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), r.stderr)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	if strings.Contains(r.stderr, "too-short") {
		t.Errorf("stderr shows the webhook secret:\n%s", r.stderr)
	}
}

func TestCheckConfigErrors(t *testing.T) {
	clearSecretEnv(t)
	dir := t.TempDir()
	t.Run("default file missing", func(t *testing.T) {
		t.Chdir(dir)
		wantOneLineError(t, runCLI(t, nil, "check-config"), exitFailure, "kycbot check-config:", "config.yaml", "no such file")
	})
	t.Run("default file present", func(t *testing.T) {
		t.Chdir(dir)
		if err := os.WriteFile("config.yaml", []byte("levels: {a: {scope: [email]}}\ndelivery: {none: true}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, "check-config")
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "config.yaml is valid.") {
			t.Errorf("exit status %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("one problem", func(t *testing.T) {
		p := writeConfig(t, "levels: {a: {scope: [email]}}\nadmins: [0]\n")
		r := runCLI(t, nil, "check-config", "--config="+p)
		if r.code != exitFailure || r.stderr != p+":2:10: admins[0]: 0 is not a Telegram user ID: user IDs are positive numbers (ask @userinfobot for yours)\n"+
			"kycbot check-config: 1 problem in "+p+"\n" {
			t.Errorf("exit status %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("positional argument", func(t *testing.T) {
		wantOneLineError(t, runCLI(t, nil, "check-config", "config.yaml"), exitUsage, `unexpected argument "config.yaml"`, "kycbot help check-config")
	})
	t.Run("empty --config", func(t *testing.T) {
		wantOneLineError(t, runCLI(t, nil, "check-config", "--config", ""), exitUsage, "--config must name a file")
	})
	t.Run("unknown flag", func(t *testing.T) {
		wantOneLineError(t, runCLI(t, nil, "check-config", "--file", "x"), exitUsage, "-file", "kycbot help check-config")
	})
	t.Run("help", func(t *testing.T) {
		r := runCLI(t, nil, "check-config", "-h")
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "Usage: kycbot check-config [--config FILE]") ||
			!strings.Contains(r.stdout, "default: config.yaml") {
			t.Errorf("exit status %d, stdout %q", r.code, r.stdout)
		}
	})
}

// check-config reads the key file as kycbot run will: one others can
// read, or one that is not a key, is a warning saying what to do.
func TestCheckConfigKeyFile(t *testing.T) {
	clearSecretEnv(t)
	dir := t.TempDir()
	exposed := writeKey(t, dir, "exposed.pem", testKeys()[0], 0o644)
	notKey := filepath.Join(dir, "note.pem")
	if err := os.WriteFile(notKey, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := writeKey(t, dir, "good.pem", testKeys()[0], 0o600)
	for _, tt := range []struct {
		name, file string
		want       []string // in the warning; none for a good file
	}{
		{"readable by others", exposed, []string{"passport.private_key_file", "group or others can access it", "chmod 600"}},
		{"not a key", notKey, []string{"passport.private_key_file", notKey}},
		{"good", good, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: "+tt.file+"}\ndelivery: {none: true}\n")
			r := runCLI(t, nil, "check-config", "--config", cfg)
			if r.code != exitOK {
				t.Fatalf("exit status %d, stderr:\n%s", r.code, r.stderr)
			}
			var warning string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.Contains(l, "private_key_file") {
					warning = l
				}
			}
			if tt.want == nil && warning != "" {
				t.Errorf("a good key file warned: %q", warning)
			}
			for _, w := range tt.want {
				if !strings.Contains(warning, w) {
					t.Errorf("the key file warning %q lacks %q (stderr:\n%s)", warning, w, r.stderr)
				}
			}
		})
	}
}

// kycbot run refuses to start when verified results would go nowhere,
// naming the setting, before it connects to anything.
func TestRunRefusesResultsGoingNowhere(t *testing.T) {
	clearSecretEnv(t)
	p := writeConfig(t, `telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
passport: {privacy_policy_url: "https://acme.example/privacy", private_key_file: bot.pem}
levels: {basic: {scope: [pd]}}
web: {public_url: "https://kyc.acme.example"}
redis: {addrs: ["127.0.0.1:1"]}
`)
	r := runCLI(t, nil, "run", "--config", p)
	wantOneLineError(t, r, exitFailure, "kycbot run: "+p+":", "delivery.webhook_url: is not set: verified results would go nowhere", "delivery.none: true")
}
