package main

import (
	"path/filepath"
	"testing"

	"github.com/kycbot/kycbot/tests/testkit"
)

// A link without a bot token says what is missing and where to set it,
// not that the token is malformed.
func TestLinkWithoutBotToken(t *testing.T) {
	c := testkit.Need(t)
	prefix := testkit.Prefix(t, c, "cli-link")
	keyFile := writeKey(t, t.TempDir(), "bot.key", testKeys()[0], 0o600)
	cfg := writeConfig(t, "levels: {full: {scope: [pd]}}\npassport: {private_key_file: "+keyFile+
		", privacy_policy_url: \"https://example.com/privacy\"}\nweb: {public_url: \"http://localhost:8080\"}\nredis: {prefix: \""+prefix+"\"}\n")
	t.Setenv("KYCBOT_BOT_TOKEN", "")
	r := runCLI(t, nil, "link", "--config", cfg, "--user-id", "42")
	wantOneLineError(t, r, exitFailure, "telegram.bot_token is not set", "KYCBOT_BOT_TOKEN")
}

// keygen into a folder that does not exist says so and what to do.
func TestKeygenMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "bot")
	r := runCLI(t, nil, "keygen", "--out", filepath.Join(dir, "bot.pem"))
	wantOneLineError(t, r, exitFailure, "the folder "+dir+" does not exist", "mkdir -p "+dir)
}
