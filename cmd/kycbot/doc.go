// Command kycbot is the command-line interface of kycbot, a Telegram bot
// (and a plugin for gotd-based bots) that verifies the identity of Telegram
// users through Telegram Passport.
//
// Usage:
//
//	kycbot <command> [flags] [arguments]
//
// The commands are, in the order an admin meets them:
//
//	keygen   generate the bot's RSA key: the private key goes to a new file
//	         with mode 0600, the public key is printed with the steps to
//	         register it with @BotFather (/setpublickey)
//	check-config  load a YAML configuration, print a plain-language summary
//	         of what each verification level asks for and accepts, or every
//	         problem with its file, line and YAML path (a config whose
//	         verified results would go nowhere is one: set
//	         delivery.webhook_url, or delivery.none: true); says whether
//	         Redis keeps its data on disk
//	run      run the bot (any number of instances sharing Redis)
//	link     issue a verification request and print its links
//	sandbox  watch the real bot verify a simulated user on a local Telegram;
//	         "sandbox serve" runs that local Telegram alone with the demo
//	         bot's account (MTProto, and the Bot API on a port of its
//	         own) and writes a config for "kycbot run",
//	         "sandbox users" plays many simulated users against such a bot
//	         and reports how each ended
//	webhook  test the receiver of the webhook: "webhook verify" checks a
//	         request's signature and body, "webhook send" posts a signed
//	         sample event of made-up data
//	audit    verify the audit trail's keyed chain, print its head for anchoring
//	decrypt  decrypt a Bot API PassportData object offline with the bot's
//	         private key and print its content as JSON, optionally decrypting
//	         the files too (for support and debugging)
//	help     list the commands, or show the usage of one ("kycbot help keygen")
//
// docs/getting-started.md takes a new admin from nothing to a running bot.
//
// Every command prints its usage with -h. The exit status is 0 on success,
// 1 when the command fails (with one line on stderr saying what failed) and
// 2 for an unknown command or bad flags.
//
// kycbot never prints a private key, and refuses to use a private key file
// that group or others can access (fix it with "chmod 600 FILE"), as ssh
// does. Error messages never contain personal data or key material; the
// output of decrypt, by design, does.
package main
