package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rl := &redisLog{}
	redis.SetLogger(rl)
	code := runWith(&env{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, redisLog: rl}, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK      = 0 // success
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // unknown command, bad flags or arguments
)

// env is what a subcommand may use: no globals, so tests call run in-process.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// redisLog, when not nil, is go-redis's process-wide logger (set by
	// main only): 'kycbot run' points it at its own logger.
	redisLog *redisLog
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // full usage text for "kycbot help <name>" and "<name> -h"
	run     func(e *env, args []string) int
	// subs are the subcommands ("kycbot sandbox serve"): run dispatches
	// to them, help shows their usage ("kycbot help sandbox serve").
	subs []command
}

// commands lists the subcommands in the order help shows them: the order
// in which a new admin meets them (make the key, check the config, run
// the bot, send a user a link, try things on a local Telegram), then the
// tools of later days (the webhook receiver, the audit trail, support),
// then help itself. It is a function, not a variable, because help itself
// reads the list.
func commands() []command {
	return []command{
		{name: "keygen", summary: "generate the bot's RSA key and print the public key for @BotFather", usage: keygenUsage, run: runKeygen},
		{name: "check-config", summary: "check a config file and summarize it in plain language", usage: checkConfigUsage, run: runCheckConfig},
		{name: "run", summary: "run the bot against Telegram", usage: runUsage, run: runRun},
		{name: "link", summary: "issue a verification request for a user and print its links", usage: linkUsage, run: runLink},
		{name: "sandbox", summary: "watch the real bot verify a simulated user on a local Telegram (no credentials)", usage: sandboxUsage, run: runSandbox,
			subs: []command{
				{name: "serve", summary: "run a local Telegram for bots run with 'kycbot run'", usage: sandboxServeUsage, run: runSandboxServe},
				{name: "users", summary: "play simulated users against a bot on 'sandbox serve'", usage: sandboxUsersUsage, run: runSandboxUsers},
			}},
		{name: "webhook", summary: "test a webhook receiver: check a request's signature, or send it a signed sample event", usage: webhookUsage, run: runWebhook},
		{name: "audit", summary: "verify the audit trail's keyed chain, print its head for anchoring", usage: auditUsage, run: runAudit},
		{name: "decrypt", summary: "decrypt a Bot API PassportData object offline (support, debugging)", usage: decryptUsage, run: runDecrypt},
		{name: "help", summary: "show this list, or the usage of one command", usage: helpUsage, run: runHelp},
	}
}

// lookup finds a command by name, or a subcommand by its full name
// ("sandbox serve").
func lookup(name string) (command, bool) {
	first, sub, isSub := strings.Cut(name, " ")
	for _, c := range commands() {
		if c.name != first {
			continue
		}
		if !isSub {
			return c, true
		}
		for _, s := range c.subs {
			if s.name == sub {
				return s, true
			}
		}
	}
	return command{}, false
}

// run is the whole CLI: it parses args (without the program name), runs the
// subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(&env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

// runWith is run with its env.
func runWith(e *env, args []string) int {
	if e.stdin == nil {
		e.stdin = strings.NewReader("")
	}
	if len(args) == 0 {
		return runHelp(e, nil)
	}
	name, rest := args[0], args[1:]
	if isHelpFlag(name) {
		return runHelp(e, rest)
	}
	cmd, ok := lookup(name)
	if !ok {
		what := fmt.Sprintf("unknown command %q", name)
		if strings.HasPrefix(name, "-") {
			what = fmt.Sprintf("unknown flag %q (flags go after the command name)", name)
		}
		return e.usageError("", what)
	}
	return cmd.run(e, rest)
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// usageError reports a usage problem of subcommand cmd ("" for kycbot
// itself) on one line, with a hint to read the help, and returns exitUsage.
func (e *env) usageError(cmd, problem string) int {
	if cmd == "" {
		fmt.Fprintf(e.stderr, "kycbot: %s; run 'kycbot help' for the list of commands\n", oneLine(problem))
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "kycbot %s: %s; run 'kycbot help %s' for usage\n", cmd, oneLine(problem), cmd)
	return exitUsage
}

// fail reports err of subcommand cmd on exactly one line and returns
// exitFailure.
func (e *env) fail(cmd string, err error) int {
	fmt.Fprintf(e.stderr, "kycbot %s: %s\n", cmd, oneLine(err.Error()))
	return exitFailure
}

// oneLine joins the lines of a message (errors.Join separates with
// newlines) so that every error is a single line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "; ")
}

// newFlagSet returns a silent flag set: run prints its own messages.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kycbot "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs and returns the positional arguments.
// Unlike fs.Parse alone it accepts flags after positional arguments
// ("decrypt in.json --key bot.pem"); "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseCommandFlags parses the flags of subcommand cmd. It returns done
// with the exit status when the command must stop: after printing its usage
// for -h, or after a usage error.
func (e *env) parseCommandFlags(cmd string, fs *flag.FlagSet, args []string) (positional []string, code int, done bool) {
	positional, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c, _ := lookup(cmd)
		fmt.Fprint(e.stdout, c.usage)
		return nil, exitOK, true
	}
	if err != nil {
		return nil, e.usageError(cmd, err.Error()), true
	}
	return positional, exitOK, false
}
