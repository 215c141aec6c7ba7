// Command kycbot is the command-line interface of kycbot, a Telegram bot
// (and a plugin for gotd-based bots) that verifies the identity of Telegram
// users through Telegram Passport.
//
// Usage:
//
//	kycbot <command> [flags] [arguments]
//
// The commands are:
//
//	help     list the commands, or show the usage of one ("kycbot help keygen")
//	keygen   generate the bot's RSA key: the private key goes to a new file
//	         with mode 0600, the public key is printed with the steps to
//	         register it with @BotFather (/setpublickey)
//	decrypt  decrypt a Bot API PassportData object offline with the bot's
//	         private key and print its content as JSON, optionally decrypting
//	         the files too (for support and debugging)
//	sandbox  watch the real bot verify a simulated user on a local Telegram;
//	         "sandbox serve" runs that local Telegram alone with the demo
//	         bot's account and writes a config for "kycbot run",
//	         "sandbox users" plays many simulated users against such a bot
//	         and reports how each ended
//	run      run the bot (any number of instances sharing Redis)
//	link     issue a verification request and print its links
//	audit    verify the audit trail's keyed chain, print its head for anchoring
//	check-config  load a YAML configuration, print a plain-language summary
//	         of what each verification level asks for and accepts, or every
//	         problem with its file, line and YAML path
//	webhook  test the receiver of the webhook: "webhook verify" checks a
//	         request's signature and body, "webhook send" posts a signed
//	         sample event of made-up data
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
