package chat

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kycbot/kycbot/i18n"
)

// The conversation's commands, by the names they have unless
// Config.Commands renames them.
const (
	CommandStart        = "start"
	CommandVerify       = "verify"
	CommandStatus       = "status"
	CommandLanguage     = "language"
	CommandHelp         = "help"
	CommandCancel       = "cancel"
	CommandDeleteMyData = "delete_my_data"
)

// command is a command with the message ID of its description.
type command struct{ name, desc string }

// commands lists the commands with their descriptions, in menu order.
var commands = []command{
	{CommandStart, i18n.MsgCommandStart},
	{CommandVerify, i18n.MsgCommandVerify},
	{CommandStatus, i18n.MsgCommandStatus},
	{CommandLanguage, i18n.MsgCommandLanguage},
	{CommandHelp, i18n.MsgCommandHelp},
	{CommandCancel, i18n.MsgCommandCancel},
	{CommandDeleteMyData, i18n.MsgCommandDeleteMyData},
}

// Commands returns the conversation's commands, by their own names, in
// menu order: the keys of Config.Commands.
func Commands() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// commandNameRE is what Telegram accepts as a bot command: 1 to 32
// lower-case letters, digits and underscores.
var commandNameRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// CommandNames returns, for each command the conversation answers, the
// name users type (without "/"): its own name, or the one renames gives
// it (command -> name; an empty name turns the command off). It fails on
// a key that is not one of Commands, a name Telegram would not accept as
// a command (1 to 32 of a-z 0-9 _), or two commands under one name.
func CommandNames(renames map[string]string) (map[string]string, error) {
	names := make(map[string]string, len(commands))
	for _, c := range commands {
		names[c.name] = c.name
	}
	keys := slices.Collect(maps.Keys(renames))
	sort.Strings(keys)
	for _, cmd := range keys {
		name := renames[cmd]
		if _, ok := names[cmd]; !ok {
			return nil, fmt.Errorf("chat: no command %q to rename (the commands are %s)", cmd, strings.Join(Commands(), ", "))
		}
		if name == "" {
			delete(names, cmd)
			continue
		}
		name = strings.TrimPrefix(name, "/")
		if !commandNameRE.MatchString(name) {
			return nil, fmt.Errorf("chat: command %q renamed to %q: a command name is 1 to 32 of a-z 0-9 _", cmd, name)
		}
		names[cmd] = name
	}
	seen := make(map[string]string, len(names))
	for _, c := range commands {
		name, ok := names[c.name]
		if !ok {
			continue
		}
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("chat: commands %q and %q are both named %q", other, c.name, name)
		}
		seen[name] = c.name
	}
	return names, nil
}

// renamer rewrites the commands mentioned in the catalog's texts
// ("tap /verify") to the names users type, for the commands renamed.
type renamer map[string]string // own name -> name users type

// newRenamer returns the renamer of names (command -> name users type).
func newRenamer(names map[string]string) renamer {
	r := renamer{}
	for cmd, name := range names {
		if cmd != name {
			r[cmd] = name
		}
	}
	return r
}

// rewrite returns text with every "/cmd" of a renamed command written
// with its new name. A mention is "/" + the name, not inside a word or a
// path, and not followed by a letter, a digit, "_" or "@".
func (r renamer) rewrite(text string) string {
	if len(r) == 0 || !strings.Contains(text, "/") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if text[i] != '/' || (i > 0 && (isNameByte(text[i-1]) || strings.IndexByte("/.:", text[i-1]) >= 0)) {
			b.WriteByte(text[i])
			i++
			continue
		}
		j := i + 1
		for j < len(text) && isNameByte(text[j]) {
			j++
		}
		word := text[i+1 : j]
		if name, ok := r[word]; ok && (j == len(text) || text[j] != '@') {
			b.WriteString("/" + name)
		} else {
			b.WriteString(text[i:j])
		}
		i = j
	}
	return b.String()
}

// isNameByte reports whether b may be part of a command name or a word.
func isNameByte(b byte) bool {
	return b == '_' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}
