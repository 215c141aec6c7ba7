package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
)

const linkUsage = `Usage: kycbot link --user-id N [--config FILE] [--level NAME] [--ref REF] [--lang TAG]

Issue a verification request for a Telegram user without a chat message,
as /verify would, and print its request page URL and its Telegram Passport
deep link. Support staff can send the page to the user; the submission is
then processed by the running bot like any other. The request is bound to
that user and expires after passport.request_ttl; it replaces the user's
earlier request.

Flags:
  --user-id N     the user's Telegram ID (required)
  --config FILE   the config file (default config.yaml)
  --level NAME    the verification level (default: default_level)
  --ref REF       the business's reference for the user (A-Z a-z 0-9 _ -)
  --lang TAG      the user's language, such as de or pt-BR

Exit status: 0 when the request was issued, 1 when it could not be, 2 on
bad flags.
`

func runLink(e *env, args []string) int {
	const name = "link"
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	userID := flags.String("user-id", "", "")
	level := flags.String("level", "", "")
	ref := flags.String("ref", "", "")
	lang := flags.String("lang", "", "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	if len(positional) > 0 {
		return e.usageError(name, fmt.Sprintf("unexpected argument %q", positional[0]))
	}
	uid, err := strconv.ParseInt(*userID, 10, 64)
	if err != nil || uid <= 0 {
		return e.usageError(name, "--user-id must be the user's positive Telegram ID")
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail(name, err)
	}
	b, err := bot.New(e.ctx, cfg, bot.WithLogger(nil))
	if err != nil {
		return e.fail(name, err)
	}
	defer func() { _ = b.Close() }()
	l, err := b.IssueLink(e.ctx, bot.LinkParams{UserID: uid, Level: *level, Ref: *ref, Lang: *lang})
	if err != nil {
		return e.fail(name, err)
	}
	fmt.Fprintf(e.stdout, "Request for user %d, level %s, valid until %s.\n\nRequest page (send this to the user):\n  %s\n\nTelegram Passport deep link:\n  %s\n",
		uid, l.Request.Level, l.Request.ExpiresAt.Local().Format("2006-01-02 15:04 MST"), l.PageURL, l.DeepLink)
	return exitOK
}
