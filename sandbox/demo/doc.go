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
// and Env.InMemory says so: nothing is kept after the run.
//
// StopBot and StartBot restart the bot on the same session, Redis and
// web address; StartInstance runs another instance of the same bot next
// to it (one account, one Redis, one config), as a deployment with
// several processes does.
//
// RunScenario plays one scripted conversation (the happy path, a
// submission that needs fixes and is sent again, a final rejection) and
// prints both sides of the chat with timings.
package demo
