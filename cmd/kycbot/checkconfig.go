package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/verify/screening"
)

const checkConfigUsage = `Usage: kycbot check-config [--config FILE]

Check a kycbot config file without starting the bot. On success, print a
plain-language summary of it: each level with what it asks for and which
rules apply, the web URL, the brand on the request page, Redis, admins,
delivery and languages (secrets are never shown, only whether they are set).

When Redis answers, check-config asks it whether it keeps its data on disk
(AOF or RDB snapshots) and warns when it does not; kycbot run logs the
same warning at start.

Every problem is printed on stderr on its own line, as
FILE:LINE:COLUMN: PATH: MESSAGE. Settings that only a running bot needs
(Telegram credentials, the private key, the privacy policy and public URLs)
are reported as warnings and do not fail the check, except
delivery.webhook_url: kycbot run refuses to start while verified results
would go nowhere (no webhook_url and no delivery.none: true), so that is an
error (the summary is still shown). The key files are read
as kycbot run reads them (a missing file, one others can read, or one that
is not a key is a warning saying what to do), and so is the logo file
(web.brand.logo_file: a missing file, one that is not a PNG, JPEG or SVG
image, or one over 128 KiB is a problem), and so is every screening list
(screening.lists: each file is parsed in its format; a file that does not
parse is a problem naming its line). Secrets are read from
KYCBOT_APP_HASH, KYCBOT_BOT_TOKEN, KYCBOT_REDIS_PASSWORD and
KYCBOT_WEBHOOK_SECRET when set, as the bot does.

Flags:
  --config FILE   the config file to check (default: config.yaml in the
                  current directory; config.example.yaml in the repository
                  documents every setting)

Exit status: 0 when the config is valid (even with warnings), 1 when it has
problems, kycbot run would refuse it, or it cannot be read, 2 on bad flags.
`

func runCheckConfig(e *env, args []string) int {
	const name = "check-config"
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	switch {
	case len(positional) > 0:
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the file goes in --config)", positional[0]))
	case *file == "":
		return e.usageError(name, "--config must name a file")
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv),
		config.WithListCheck(func(l config.ScreeningList) error { return checkList(e.ctx, l) }))
	var cerr *config.Error
	if errors.As(err, &cerr) {
		for _, p := range cerr.Problems {
			fmt.Fprintln(e.stderr, p.Format(cerr.File))
		}
		what := "problems"
		if len(cerr.Problems) == 1 {
			what = "problem"
		}
		fmt.Fprintf(e.stderr, "kycbot %s: %d %s in %s\n", name, len(cerr.Problems), what, cerr.File)
		return exitFailure
	}
	if err != nil {
		return e.fail(name, err)
	}
	for _, w := range cfg.Warnings() {
		if w.Path != "" {
			w.Message = w.Path + ": " + w.Message
			w.Path = ""
		}
		w.Message = "warning: " + w.Message
		fmt.Fprintln(e.stderr, w.Format(cfg.File()))
	}
	for _, w := range keyFileWarnings(cfg) {
		fmt.Fprintln(e.stderr, w.Format(cfg.File()))
	}
	// What kycbot run alone refuses (a bot built in Go may hand the
	// results to its hooks): an error, with the summary still shown.
	var refused []config.Problem
	if errors.As(cfg.RequireDelivery(), &cerr) {
		refused = cerr.Problems
	}
	for _, p := range refused {
		fmt.Fprintln(e.stderr, p.Format(cfg.File()))
	}
	if len(refused) == 0 {
		fmt.Fprintf(e.stdout, "%s is valid.\n\n", cfg.File())
	} else {
		fmt.Fprintf(e.stdout, "%s is well-formed, but kycbot run refuses it (the problem is on stderr).\n\n", cfg.File())
	}
	if err := cfg.WriteSummary(e.stdout); err != nil {
		return e.fail(name, err)
	}
	// Redis must keep its data on disk: asked of the server when it
	// answers (go-redis's own complaints stay quiet: the line says it).
	if e.redisLog != nil {
		e.redisLog.to.Store(slog.New(slog.DiscardHandler))
	}
	if warning, checked := checkPersistence(e.ctx, cfg.Redis); warning == "" {
		fmt.Fprintln(e.stdout, "Redis persistence: on (the server writes its data to disk).")
	} else if checked {
		fmt.Fprintln(e.stdout, "Warning: "+warning+".")
	} else {
		fmt.Fprintln(e.stdout, "Redis persistence: not checked: "+warning+".")
	}

	if len(refused) > 0 {
		fmt.Fprintf(e.stderr, "kycbot %s: %d problem in %s (kycbot run would refuse it)\n", name, len(refused), cfg.File())
		return exitFailure
	}
	return exitOK
}

// keyFileWarnings reads the key files the config names, as kycbot run
// will, and returns what would stop it: a missing file, one others can
// read, one that is not a key. An absent setting is one of the config's
// own warnings.
func keyFileWarnings(cfg *config.Config) []config.Problem {
	var out []config.Problem
	check := func(setting, path string) {
		if path == "" {
			return
		}
		if _, err := bot.LoadPrivateKey(path); err != nil {
			out = append(out, config.Problem{Message: "warning: " + setting + ": " + err.Error()})
		}
	}
	check("passport.private_key_file", cfg.Passport.PrivateKeyFile)
	for i, p := range cfg.Passport.PreviousPrivateKeyFiles {
		check(fmt.Sprintf("passport.previous_private_key_files[%d]", i), p)
	}
	return out
}

// checkList parses a screening list as the bot will, for check-config.
func checkList(ctx context.Context, l config.ScreeningList) error {
	_, err := screening.Load(ctx, screening.List{Name: l.Name, Format: screening.Format(l.Format), File: l.File})
	return err
}
