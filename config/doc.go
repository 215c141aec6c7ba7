// Package config holds kycbot's configuration, read from YAML or built in
// Go: the Telegram credentials, the Passport settings, the verification
// levels (what to ask for, as a passport.Scope, and what to accept, as a
// verify.Policy), the web server, Redis, languages, admins, delivery of
// results and retention.
//
// A host bot can build its configuration in Go, without YAML: fill a
// Config (or start from Default) with the levels' scopes and rules as Go
// values and pass it to New. New fills the same defaults and runs the same
// checks as Parse, by the same code; its problems name the same YAML paths
// with the same messages, without line and column. See New for the
// defaults of fields left zero and for how a level's rules combine with
// the top-level rules in Go.
//
// Load and Parse are strict and say everything at once: unknown keys (with a
// did-you-mean suggestion), values of the wrong type and invalid values are
// all collected into one *Error, each Problem naming the YAML path, the line
// and the column of the offending node ("config.yaml:12:5:
// levels.full.scope[1].one_of[0]: ..."). A setting that is wrong because of
// a default is located at its nearest parent present in the file.
//
// Defaults: a key left out, or set to null, keeps its default; the
// defaults are documented on each field and in config.example.yaml at the
// root of the repository. The top-level rules start from
// verify.DefaultPolicy; each level's rules start from a copy of the
// resolved top-level rules and override only the keys they name (maps merge
// by key, lists are replaced). Levels never share lists or maps.
//
// A scope is written as a list whose items are an element name or alias
// ("phone_number", "pd", "idd"), a one-key mapping of a name to its flags
// ("utility_bill: {translation: true}"), or a choice with flags beside it
// ("one_of: [passport, identity_card]" and "selfie: true").
//
// Where Telegram is: telegram.server (TelegramServer) is left out for
// Telegram's production DCs, the usual case; it names Telegram's test DCs,
// or MTProto servers of one's own such as kycbot's local sandbox (their
// addresses by DC number and their RSA public keys in PEM), so that the
// same config runs against any of them. TelegramServer.Apply sets the
// matching fields of gotd's telegram.Options. telegram.bot_api_url is the
// Bot API server's base URL (DefaultBotAPIURL, Telegram's, unless a
// self-hosted telegram-bot-api server or the sandbox's Bot API front is
// given), for what speaks the Bot API instead of MTProto.
// telegram.transport (TransportMTProto, the default, or TransportBotAPI)
// says which one the standalone bot uses: on the Bot API it needs the
// bot token alone, and telegram.bot_api.receive (ReceivePolling or
// ReceiveWebhook) how its updates arrive; a webhook needs web.public_url
// (RequireTelegram names it). Config.DescribeTransport says it in words.
//
// Secrets (telegram.app_hash, telegram.bot_token, redis.password,
// delivery.webhook_secret) may come from the environment instead
// (KYCBOT_APP_HASH, KYCBOT_BOT_TOKEN, KYCBOT_REDIS_PASSWORD,
// KYCBOT_WEBHOOK_SECRET); a variable that is set and not empty wins over the
// file. They are held as Secret values, which fmt and encoders print as
// "[redacted]", and no message ever repeats them. Settings only a running
// bot needs (Telegram credentials, the private key, the privacy policy and
// public URLs) may be missing: Config.Warnings lists them and
// Config.RequireTelegram fails for commands that connect to Telegram.
// Config.RequireDelivery fails when verified results would go nowhere in
// a bot without Go hooks (kycbot run): no delivery.webhook_url and no
// delivery.none: true.
//
// YAML anchors and aliases are followed (with a bound on the values they
// expand to); merge keys (<<) are refused.
package config
