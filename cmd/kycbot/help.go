package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

const helpUsage = `Usage: kycbot help [command]

Without a command, list the commands of kycbot. With one, show its usage
(with a subcommand, such as "kycbot help sandbox serve", the usage of that
subcommand).
`

func runHelp(e *env, args []string) int {
	switch {
	case len(args) == 0:
		printOverview(e)
		return exitOK
	case isHelpFlag(args[0]):
		fmt.Fprint(e.stdout, helpUsage)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		return e.usageError("", fmt.Sprintf("unknown command %q", args[0]))
	}
	if len(args) > 1 {
		if len(c.subs) == 0 || len(args) > 2 {
			return e.usageError("help", fmt.Sprintf("expected at most one command name, got %d arguments", len(args)))
		}
		if c, ok = lookup(args[0] + " " + args[1]); !ok {
			return e.usageError("", fmt.Sprintf("unknown command %q", args[0]+" "+args[1]))
		}
	}
	fmt.Fprint(e.stdout, c.usage)
	return exitOK
}

func printOverview(e *env) {
	var b strings.Builder
	b.WriteString("kycbot verifies the identity of Telegram users through Telegram Passport.\n\n")
	b.WriteString("Usage: kycbot <command> [flags] [arguments]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		for _, sub := range c.subs {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, sub.name, sub.summary)
		}
	}
	tw.Flush()
	b.WriteString("\nRun 'kycbot help <command>' for the flags and arguments of a command.\n")
	fmt.Fprint(e.stdout, b.String())
}
