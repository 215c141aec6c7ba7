// Package demo runs kycbot against the sandbox: a local Telegram (package
// sandbox), the real bot (package bot) with its web server on loopback,
// and simulated users. It is what `kycbot sandbox` shows a newcomer, and
// what the end-to-end tests in tests/ build on.
//
// Start brings everything up on a fresh bot account and a private key
// generated for the run, with the demo configuration (config.yaml in this
// folder, or one given in Options). Redis is the one at Options.RedisAddr;
// when nothing answers there, Start falls back to an in-process
// Redis-compatible server (miniredis) unless Options.RequireRedis is set,
// and Env.InMemory says so: nothing is kept after the run. The sandbox's
// Bot API front (package sandbox/botapi) runs beside it: Env.BotAPIURL,
// also the config's telegram.bot_api_url.
//
// StopBot and StartBot restart the bot on the same session, Redis and
// web address; StartInstance runs another instance of the same bot next
// to it (one account, one Redis, one config), as a deployment with
// several processes does.
//
// # Scenarios
//
// Play drives a simulated user (*sandbox.SimUser) through one scripted
// conversation (Happy: verified; Fix: a submission that needs fixes and
// is sent again; Final: a final rejection) against a bot it reaches as
// any user does, and recognizes the bot's verdicts by the bot's texts, in
// any language (Verdicts). RunScenario plays one with a user of the
// in-process sandbox and prints both sides of the chat with timings.
//
// # The bot in processes of its own
//
// Serve starts the sandbox with the demo bot's account, its Bot API front
// and no bot (`kycbot sandbox serve`); ProcessConfig writes the config
// with which `kycbot run` reaches it (the demo's levels and rules,
// telegram.server, telegram.bot_api_url, the key file, web and Redis). RunUsers plays many users at once against
// that bot, each signing up over the network (sandbox.Connect) and
// playing its scenario with Play (`kycbot sandbox users`), and reports how
// each ended with every message the bot sent it; RemoteFor and Texts read
// what it needs from the bot's config.
package demo
