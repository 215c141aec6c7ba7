package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/sandbox/demo"
)

const sandboxUsersUsage = `Usage: kycbot sandbox users [--config FILE] --users N [--scenario NAME] [--lang TAG] [--report FILE] [--timeout D] [--bot USERNAME]

Play N simulated users at once against a bot that runs in other processes
('kycbot run' with the config 'kycbot sandbox serve' wrote), on the local
Telegram of 'kycbot sandbox serve'. Each user signs up with a fresh phone
number and plays the scenario as a person with a Telegram app would:
/start, the bot's message with its button, the request page (at the
config's web.public_url) and its Telegram Passport link, sharing; in the
fix scenario, the problems the bot flagged in Telegram Passport, the
fixes, and sharing again. Then it waits for the bot's verdict, and
listens two more seconds for messages that come late or twice.

A user ends as expected when its verdict is the scenario's (happy and fix:
verified; final: rejected), exactly one message told it, and the problems
to fix were listed once in fix and never otherwise.

Scenarios:
  happy   complete, valid documents (default)
  fix     an expired driving licence and a blurry selfie, fixed after the
          bot's list of problems
  final   a user under the minimum age: declined for good
  mix     user i plays happy, fix, final, happy, ... by its index

Flags:
  --config FILE     the bot's config, as 'kycbot sandbox serve' wrote it
                    (default kycbot-sandbox.yaml): the servers come from
                    telegram.server, the texts from i18n
  --users N         how many users play at once (1 to 1000; required)
  --scenario NAME   happy, fix, final or mix
  --lang TAG        the language of the users' Telegram app: en (default),
                    ru, uk, es, pt-BR, de, fr, tr, fa or ar
  --report FILE     write a JSON report to FILE ('-' for stdout instead of
                    the summary): for each user its index, Telegram user
                    ID, scenario, expected and actual outcome, durations,
                    and every message the bot sent it (text, buttons,
                    time, and which verdict it tells), in order, and
                    the verification mark on its profile at the end
                    (with 'sandbox serve --bot-verifier')
  --ramp D          start the users evenly over D (such as 30s), rather
                    than all at once (default 0)
  --timeout D       how long the whole run may take, such as 90s or 5m
                    (default 3m); users still waiting then are reported so
  --bot USERNAME    the bot's username (default kycbot_demo_bot, the bot
                    'sandbox serve' registers)

Exit status: 0 when every user ended as expected, 1 otherwise (with a
summary on stderr) or when the run cannot start, 2 on bad flags.
`

// maxSimUsers bounds --users.
const maxSimUsers = 1000

func runSandboxUsers(e *env, args []string) int {
	const name = "sandbox users"
	flags := newFlagSet(name)
	file := flags.String("config", "kycbot-sandbox.yaml", "")
	users := flags.Int("users", 0, "")
	scenario := flags.String("scenario", string(demo.Happy), "")
	lang := flags.String("lang", "en", "")
	report := flags.String("report", "", "")
	timeout := flags.Duration("timeout", 3*time.Minute, "")
	ramp := flags.Duration("ramp", 0, "")
	botName := flags.String("bot", demo.BotUsername, "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	switch {
	case len(positional) > 0:
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the config goes in --config)", positional[0]))
	case *users < 1 || *users > maxSimUsers:
		return e.usageError(name, fmt.Sprintf("--users N is required: how many users play, from 1 to %d", maxSimUsers))
	case *ramp < 0:
		return e.usageError(name, fmt.Sprintf("--ramp %v: give a duration of 0 or more, such as 30s", *ramp))
	case *timeout <= 0:
		return e.usageError(name, fmt.Sprintf("--timeout %v: give a positive duration, such as 90s or 5m", *timeout))
	case !validLanguage(*lang):
		return e.usageError(name, fmt.Sprintf("--lang %q: use one of %s", *lang, strings.Join(config.Languages(), ", ")))
	case strings.TrimPrefix(*botName, "@") == "":
		return e.usageError(name, "--bot must name the bot's username")
	case *file == "":
		return e.usageError(name, "--config must name a file")
	}
	sc := demo.Scenario(*scenario)
	if sc != demo.Mix {
		if _, err := demo.ParseScenario(*scenario); err != nil {
			return e.usageError(name, err.Error()+" or mix")
		}
	}

	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail(name, fmt.Errorf("%w (is it the config 'kycbot sandbox serve' wrote? run 'kycbot check-config --config %s' for every problem)", err, *file))
	}
	remote, err := demo.RemoteFor(cfg)
	if err != nil {
		return e.fail(name, fmt.Errorf("%s: %w", *file, err))
	}
	// A sandbox that is not running fails fast, not after the timeout.
	dcAddr := cfg.Telegram.Server.Addresses[cfg.Telegram.Server.DC]
	var d net.Dialer
	dctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
	conn, err := d.DialContext(dctx, "tcp", dcAddr)
	cancel()
	if err != nil {
		return e.fail(name, fmt.Errorf("nothing answers at %s (DC %d of telegram.server in %s): is 'kycbot sandbox serve' running, and did it write this config?",
			dcAddr, cfg.Telegram.Server.DC, *file))
	}
	_ = conn.Close()

	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	rep, err := demo.RunUsers(ctx, demo.UsersOptions{Remote: remote, Bot: strings.TrimPrefix(*botName, "@"), Config: cfg,
		Users: *users, Scenario: sc, Lang: *lang, Ramp: *ramp})
	if err != nil {
		return e.fail(name, err)
	}

	if *report != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return e.fail(name, fmt.Errorf("report: %w", err))
		}
		b = append(b, '\n')
		if *report == "-" {
			if _, err := e.stdout.Write(b); err != nil {
				return e.fail(name, fmt.Errorf("report: %w", err))
			}
		} else if err := writeFileAtomic(*report, b); err != nil {
			return e.fail(name, fmt.Errorf("report: %w", err))
		}
	}
	if *report != "-" {
		printUsersSummary(e, rep, *report)
	}
	if rep.AsExpected == len(rep.Users) {
		return exitOK
	}
	var first demo.UserReport
	for _, u := range rep.Users {
		if !u.OK {
			first = u
			break
		}
	}
	fmt.Fprintf(e.stderr, "kycbot %s: %d of %d users did not end as expected (first: user %d, %s, expected %s: %s)\n",
		name, len(rep.Users)-rep.AsExpected, len(rep.Users), first.Index, first.Scenario, first.Expected, oneLine(first.Outcome))
	return exitFailure
}

// printUsersSummary prints one line per user and the total.
func printUsersSummary(e *env, rep *demo.Report, report string) {
	fmt.Fprintf(e.stdout, "kycbot sandbox users: %d users against @%s (%s, app language %s) in %.1fs\n\n",
		len(rep.Users), rep.Bot, rep.Scenario, rep.Lang, rep.Seconds)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  user\tscenario\toutcome\t\tfrom /start\tsharing to verdict")
	for _, u := range rep.Users {
		mark := "as expected"
		if !u.OK {
			mark = "NOT as expected: want " + u.Expected
		}
		var verdicts []string
		for _, s := range u.VerdictSeconds {
			verdicts = append(verdicts, fmt.Sprintf("%.2fs", s))
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%.1fs\t%s\n", u.Index, u.Scenario, oneLine(u.Outcome), mark, u.Seconds, strings.Join(verdicts, ", "))
	}
	_ = tw.Flush()
	marked, mark := 0, ""
	for _, u := range rep.Users {
		if u.Badge != "" {
			marked, mark = marked+1, u.Badge
		}
	}
	if marked > 0 {
		fmt.Fprintf(e.stdout, "\n%d of them carry the bot's verification mark on their profile (last seen: %q).\n", marked, mark)
	}
	fmt.Fprintf(e.stdout, "\n%d of %d users ended as expected.", rep.AsExpected, len(rep.Users))
	if report != "" {
		fmt.Fprintf(e.stdout, " Report: %s", report)
	}
	fmt.Fprintln(e.stdout)
}
