package main

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/store"
)

const auditUsage = `Usage: kycbot audit verify [--config FILE] [--head HASH]
       kycbot audit head [--config FILE]

verify checks the audit trail in Redis: every event must name the link of
the one before it and match its own link, an HMAC-SHA256 under the audit
key (derived from the Passport private key, passport.private_key_file,
which Redis does not hold), and the chain must end at the recorded head.
It prints how many events were checked, or the ID of the first event that
was changed, inserted or removed, and why. A chain rebuilt without the
key does not verify. Events from before the chain was keyed (older
versions of kycbot) verify as plain SHA-256 links and are counted apart;
they may only come before the keyed ones.

head prints the chain head: the last event's link (hash), its stream ID
and time, and the id of the audit key. Record it somewhere Redis cannot
reach (a ticket, a signed mail, a transparency log): verify --head HASH
later proves the events up to it were neither changed nor removed,
which catches even someone holding the key who rewrote or cut back the
trail since.

Flags:
  --config FILE   the config file, for redis: and passport: (default
                  config.yaml)
  --head HASH     (verify) a head recorded earlier with kycbot audit head:
                  it must still be in the chain

Exit status: 0 when the chain verifies (head: when printed), 1 when it is
broken or empty (nothing to verify: a new bot, or the wrong Redis) or Redis
or the key cannot be read, 2 on bad flags.
`

func runAudit(e *env, args []string) int {
	const name = "audit"
	if len(args) > 0 && isHelpFlag(args[0]) {
		fmt.Fprint(e.stdout, auditUsage)
		return exitOK
	}
	if len(args) == 0 || args[0] != "verify" && args[0] != "head" {
		return e.usageError(name, "the subcommands are verify and head: kycbot audit verify, kycbot audit head")
	}
	sub := args[0]
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	var anchor *string
	if sub == "verify" {
		anchor = flags.String("head", "", "")
	}
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
	key, err := bot.LoadPrivateKey(cfg.Passport.PrivateKeyFile)
	if err != nil {
		return e.fail(name, fmt.Errorf("the audit key derives from the Passport private key: %w", err))
	}
	var previous []*rsa.PrivateKey
	for _, path := range cfg.Passport.PreviousPrivateKeyFiles {
		k, err := bot.LoadPrivateKey(path)
		if err != nil {
			return e.fail(name, fmt.Errorf("passport.previous_private_key_files (events keyed before a rotation): %w", err))
		}
		previous = append(previous, k)
	}
	client, err := bot.OpenRedis(e.ctx, cfg.Redis)
	if err != nil {
		return e.fail(name, err)
	}
	defer client.Close()
	trail := store.New(client, bot.StoreOptions(cfg, bot.AuditKeys(key, previous...))...).Audit()
	var ae *store.AuditError
	if sub == "head" {
		h, err := trail.Head(e.ctx)
		if errors.As(err, &ae) {
			fmt.Fprintf(e.stdout, "The audit trail is BROKEN at event %s: %s.\n", ae.EventID, ae.Reason)
			return exitFailure
		}
		if err != nil {
			return e.fail(name, err)
		}
		kid := h.KeyID
		if kid == "" {
			kid = "none (an event from before keying)"
		}
		fmt.Fprintf(e.stdout, "head:  %s\nevent: %s\ntime:  %s\nkey:   %s\n", h.Hash, h.EventID, h.At.Format(time.RFC3339Nano), kid)
		return exitOK
	}
	var anchors []string
	if *anchor != "" {
		anchors = append(anchors, *anchor)
	}
	sum, err := trail.Verify(e.ctx, anchors...)
	if errors.As(err, &ae) {
		fmt.Fprintf(e.stdout, "The audit trail is BROKEN at event %s (after %d good events): %s.\n", ae.EventID, sum.Events, ae.Reason)
		return exitFailure
	}
	if err != nil {
		return e.fail(name, err)
	}
	if sum.Events == 0 {
		// Nothing to verify: a new deployment, or the wrong Redis.
		fmt.Fprintf(e.stdout, "The audit trail is EMPTY: no events under the prefix %q in Redis at %s. "+
			"If this bot has handled any verification, the config points at another Redis, database or prefix "+
			"(redis.addrs, redis.db, redis.prefix) than the bot's; check them against the bot's config.\n",
			cfg.Redis.Prefix, strings.Join(cfg.Redis.Addrs, ","))
		return exitFailure
	}
	msg := fmt.Sprintf("The audit trail verifies: %d events, unbroken", sum.Events)
	if sum.Unkeyed > 0 {
		msg += fmt.Sprintf(", of which %d from before keying (plain SHA-256 links)", sum.Unkeyed)
	}
	if *anchor != "" {
		msg += "; the anchored head is in the chain"
	}
	fmt.Fprintln(e.stdout, msg+".")
	return exitOK
}
