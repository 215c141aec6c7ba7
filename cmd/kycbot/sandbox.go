package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/sandbox/demo"
)

const sandboxUsage = `Usage: kycbot sandbox [--scenario NAME] [--lang TAG] [--redis ADDR] [--verbose]
       kycbot sandbox serve [--config-out FILE] [--redis ADDR[,ADDR...]] [--redis-mode MODE] [--redis-master NAME] ...
       kycbot sandbox users [--config FILE] --users N [--scenario NAME] [--lang TAG] [--report FILE] [--timeout D]

Watch the real bot verify a simulated user, end to end, on this machine:
no Telegram account, no credentials, no network. kycbot starts a local
Telegram (MTProto servers on 127.0.0.1), registers a bot with a fresh
Passport key, runs the bot and its request page, and plays a scripted
user with a Telegram app. Both sides of the chat are printed as they
happen, with the time since the start.

Scenarios:
  happy   complete, valid documents: the user ends verified (default)
  fix     an expired driving licence and a blurry selfie: the bot flags
          both in Telegram Passport, the user fixes them and is verified
  final   a user under the minimum age: declined for good
  all     the three, one after the other

Flags:
  --scenario NAME  happy, fix, final or all
  --lang TAG       the language of the user's Telegram app: en (default),
                   ru, uk, es, pt-BR, de, fr, tr, fa or ar
  --redis ADDR     the Redis to use (default 127.0.0.1:6379); when none
                   answers there, an in-process Redis-compatible server is
                   used instead and nothing is kept
  --verbose        print the bot's logs (stderr)

Exit status: 0 when every scenario ends as expected, 1 otherwise, 2 on bad
flags.

The bot in processes of its own, as in production:
  serve   run the local Telegram alone, with the demo bot's account, and
          write a config with which 'kycbot run' reaches it
  users   play many simulated users at once against that bot, and report
          how each ended with every message it got

Run 'kycbot help sandbox serve' and 'kycbot help sandbox users' for their
flags.
`

func runSandbox(e *env, args []string) int {
	const name = "sandbox"
	if len(args) > 0 {
		if sub, ok := lookup(name + " " + args[0]); ok {
			return sub.run(e, args[1:])
		}
	}
	flags := newFlagSet(name)
	scenario := flags.String("scenario", string(demo.Happy), "")
	lang := flags.String("lang", "en", "")
	addr := flags.String("redis", demo.DefaultRedisAddr, "")
	verbose := flags.Bool("verbose", false, "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	if len(positional) > 0 {
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the subcommands are serve and users)", positional[0]))
	}
	var scenarios []demo.Scenario
	if *scenario == "all" {
		scenarios = demo.Scenarios()
	} else {
		sc, err := demo.ParseScenario(*scenario)
		if err != nil {
			return e.usageError(name, err.Error()+" or all")
		}
		scenarios = []demo.Scenario{sc}
	}
	if !validLanguage(*lang) {
		return e.usageError(name, fmt.Sprintf("--lang %q: use one of %s", *lang, strings.Join(config.Languages(), ", ")))
	}

	fmt.Fprintln(e.stdout, "kycbot sandbox: starting a local Telegram, Redis and the bot...")
	opts := demo.Options{RedisAddr: *addr}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Minute)
	defer cancel()
	env, err := demo.Start(ctx, opts)
	if err != nil {
		return e.fail(name, err)
	}
	defer func() { _ = env.Close() }()
	if env.InMemory {
		fmt.Fprintf(e.stdout, "Redis: nothing answers at %s, so an in-process Redis is used: nothing is kept after this run.\n", *addr)
	} else {
		fmt.Fprintf(e.stdout, "Redis: %s (keys under %s, removed at the end).\n", *addr, env.Config.Redis.Prefix)
		defer cleanRedis(env)
	}
	info := env.Info()
	fmt.Fprintf(e.stdout, "Telegram: local, on %s. Bot: @%s, request page on http://%s (started in %.1fs).\n",
		env.Sandbox.Addr(2), info.Username, info.WebAddr, time.Since(started).Seconds())

	failed := 0
	for _, sc := range scenarios {
		fmt.Fprintf(e.stdout, "\n== Scenario %q (user's language: %s) ==\n\n", sc, *lang)
		res, err := env.RunScenario(ctx, sc, *lang, e.stdout)
		if err != nil {
			failed++
			fmt.Fprintf(e.stdout, "\nResult: FAILED: %s\n", oneLine(err.Error()))
			continue
		}
		var verdicts []string
		for _, d := range res.Verdicts {
			verdicts = append(verdicts, fmt.Sprintf("%.2fs", d.Seconds()))
		}
		fmt.Fprintf(e.stdout, "\nResult: %s, as expected (%.1fs in all; from sharing to verdict: %s).\n",
			res.State, res.Took.Seconds(), strings.Join(verdicts, ", "))
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "kycbot sandbox: %d of %d scenarios did not end as expected\n", failed, len(scenarios))
		return exitFailure
	}
	return exitOK
}

// cleanRedis removes the keys of the run from a real Redis.
func cleanRedis(env *demo.Env) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = env.StopBot()
	_ = env.DeleteKeys(ctx)
}

func validLanguage(tag string) bool {
	for _, l := range config.Languages() {
		if strings.EqualFold(l, tag) {
			return true
		}
	}
	return false
}
