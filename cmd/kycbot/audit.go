package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/store"
)

const auditUsage = `Usage: kycbot audit verify [--config FILE]

Check the audit trail in Redis: every event must name the hash of the one
before it and match its own hash, and the chain must end at the recorded
head. Print how many events were checked, or the ID of the first event
that was changed, inserted or removed, and why.

The chain is not keyed: whoever can write to Redis can rebuild it from the
point they change. Keep a copy of the head hash elsewhere if that matters.

Flags:
  --config FILE   the config file, for redis: (default config.yaml)

Exit status: 0 when the chain verifies, 1 when it is broken or Redis
cannot be read, 2 on bad flags.
`

func runAudit(e *env, args []string) int {
	const name = "audit"
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && isHelpFlag(args[0]) {
			fmt.Fprint(e.stdout, auditUsage)
			return exitOK
		}
		return e.usageError(name, "the only subcommand is verify: kycbot audit verify")
	}
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	positional, code, done := e.parseCommandFlags(name, flags, args[1:])
	if done {
		return code
	}
	if len(positional) > 0 {
		return e.usageError(name, fmt.Sprintf("unexpected argument %q", positional[0]))
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail(name, err)
	}
	client, err := bot.OpenRedis(e.ctx, cfg.Redis)
	if err != nil {
		return e.fail(name, err)
	}
	defer client.Close()
	n, err := store.New(client, bot.StoreOptions(cfg)...).Audit().Verify(e.ctx)
	var ae *store.AuditError
	if errors.As(err, &ae) {
		fmt.Fprintf(e.stdout, "The audit trail is BROKEN at event %s (after %d good events): %s.\n", ae.EventID, n, ae.Reason)
		return exitFailure
	}
	if err != nil {
		return e.fail(name, err)
	}
	fmt.Fprintf(e.stdout, "The audit trail verifies: %d events, unbroken.\n", n)
	return exitOK
}
