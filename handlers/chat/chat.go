package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// Store is what the conversation keeps in Redis: exactly the calls it
// makes. Package bot implements it on the store's views.
type Store interface {
	// IssueRequest issues a request, idempotently by src: the user's live
	// request issued for the same src is returned instead of a new one.
	IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error)
	LiveRequest(ctx context.Context, userID int64) (store.Request, bool, error)
	CancelRequest(ctx context.Context, userID int64) (bool, error)
	GetStatus(ctx context.Context, userID int64, level string) (store.Status, error)
	ListStatuses(ctx context.Context, userID int64) ([]store.Status, error)
	Preferences(ctx context.Context, userID int64) (store.Prefs, error)
	SetLanguage(ctx context.Context, userID int64, tag string) error
	SetRef(ctx context.Context, userID int64, ref string) error
	// DeleteUser erases everything about the user (what the admin's
	// /kyc_delete erases) and returns how many records it removed.
	DeleteUser(ctx context.Context, userID int64) (int, error)
	// AuditOnce appends ev to the audit trail once per id.
	AuditOnce(ctx context.Context, ev store.Event, id string) error
}

// Telegram is what the conversation asks of Telegram.
type Telegram interface {
	handlers.Sender
	// AnswerCallback answers a callback query with a short notice shown
	// by the app, or none when text is empty.
	AnswerCallback(ctx context.Context, queryID int64, text string) error
	// SetCommands registers the bot's command menu for the users whose
	// app language is langCode (two-letter ISO 639-1; "" for everybody
	// else).
	SetCommands(ctx context.Context, langCode string, cmds []handlers.BotCommand) error
}

// Admin runs the admin commands; package handlers/admin implements it.
type Admin interface {
	// Handles reports whether name (lower case, without "/") is an admin
	// command.
	Handles(name string) bool
	// Command runs the admin command name with its arguments (for anyone
	// but an admin it answers as to an unknown command).
	Command(ctx context.Context, m handlers.TextMessage, name string, args []string) error
	// HandlesData reports whether callback data is an admin button's.
	HandlesData(data string) bool
	// Callback handles a tap on an admin button.
	Callback(ctx context.Context, q handlers.CallbackQuery) error
	// SetCommands registers, in each admin's chat, the public commands
	// and the admin ones.
	SetCommands(ctx context.Context, public []handlers.BotCommand)
}

// Defaults of Config.
const (
	// DefaultRequestTTL is the life of the requests issued.
	DefaultRequestTTL = 30 * time.Minute
	// DefaultAlertInterval is how often at most the admins are alarmed
	// about one Telegram Passport error code.
	DefaultAlertInterval = time.Hour
	// DeleteConfirmTTL is how long the confirmation button of
	// /delete_my_data works.
	DeleteConfirmTTL = 10 * time.Minute
)

// Config is what New needs. Fields without a default are required.
type Config struct {
	// Store keeps requests, statuses, preferences and the audit trail.
	Store Store
	// Telegram sends the answers.
	Telegram Telegram
	// Catalog holds the texts.
	Catalog *i18n.Catalog
	// Levels are the names of the verification levels; at least one.
	Levels []string
	// Titles are the levels' labels for people, by level name ("Full
	// check"); a level without one is shown by its name.
	Titles map[string]string
	// DefaultLevel is the level of /start and of /verify without a level;
	// one of Levels (default: the only level, when there is one).
	DefaultLevel string
	// Scopes returns the scope of a level, for the explanation of what
	// will be asked; called for every level by New.
	Scopes func(level string) (passport.Scope, error)
	// PageURL returns the URL of the request page of a request ID.
	PageURL func(requestID string) string
	// Support is whom users may contact about their verification: a
	// Telegram username ("@acme_help"), an https URL or an e-mail
	// address, shown in /help, and in /status and /verify after a final
	// rejection (default: none).
	Support string
	// Commands renames the public commands (command -> the name users
	// type, without "/"; an empty name turns the command off): the keys
	// are those of Commands (CommandStatus, ...). Parsing, Handles, the
	// menu of SetCommands, /help and the commands the texts mention
	// follow the names. Default: every command under its own name.
	Commands map[string]string
	// CatchAll makes the conversation answer every text: plain text and
	// unknown commands get a hint to /help. Without it they are left
	// alone (no answer), for the host bot that embeds kycbot. The
	// standalone bot sets it.
	CatchAll bool
	// Admin runs the admin commands (default: none; /kyc_* are then
	// unknown commands).
	Admin Admin
	// Admins are alarmed when Telegram Passport refuses to open the form
	// because of the bot's configuration (default: nobody).
	Admins *handlers.Admins
	// RequestTTL is the life of the requests issued (default
	// DefaultRequestTTL).
	RequestTTL time.Duration
	// BotUsername is the bot's username, without "@" (default: none).
	// When set, commands addressed to another bot ("/help@otherbot") are
	// ignored; without it every "/cmd@name" is taken as addressed to us.
	BotUsername string
	// AlertInterval is how often at most the admins are alarmed about one
	// Passport error code (default DefaultAlertInterval), whichever
	// instance sees it.
	AlertInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the logs (default: none); a logger in the context
	// (handlers.ContextWithLogger) wins. Logs hold user IDs and command
	// names, never the text of a message.
	Log *slog.Logger
	// Observer is told every command by a bounded name (default
	// handlers.NopObserver).
	Observer handlers.Observer
}

// Conversation is the bot's chat with its users: /start, /verify,
// /status, /language, /help, /cancel and /delete_my_data (under the
// names Config.Commands gives them), their buttons, the outcomes the
// request page reports, and the admin commands through Config.Admin. It
// is safe for concurrent use.
type Conversation struct {
	cfg    Config
	levels map[string]passport.Scope
	names  map[string]string // command -> name users type, for the commands on
	byName map[string]string // name users type -> command
	rename renamer
}

// New returns the conversation; it fails when cfg lacks something
// required, a level has no scope, or Config.Commands names a command
// that does not exist, under a name that is not a command name or that
// another command (an admin one too) has.
func New(cfg Config) (*Conversation, error) {
	if err := handlers.Require("chat",
		handlers.Setting{Name: "Store", Set: cfg.Store != nil}, handlers.Setting{Name: "Telegram", Set: cfg.Telegram != nil},
		handlers.Setting{Name: "Catalog", Set: cfg.Catalog != nil}, handlers.Setting{Name: "Levels", Set: len(cfg.Levels) > 0},
		handlers.Setting{Name: "Scopes", Set: cfg.Scopes != nil}, handlers.Setting{Name: "PageURL", Set: cfg.PageURL != nil},
	); err != nil {
		return nil, err
	}
	if cfg.DefaultLevel == "" && len(cfg.Levels) == 1 {
		cfg.DefaultLevel = cfg.Levels[0]
	}
	if !slices.Contains(cfg.Levels, cfg.DefaultLevel) {
		return nil, fmt.Errorf("chat: DefaultLevel %q is not one of Levels (%s)", cfg.DefaultLevel, strings.Join(cfg.Levels, ", "))
	}
	cfg.Levels = slices.Clone(cfg.Levels)
	titles := make(map[string]string, len(cfg.Titles))
	for l, t := range cfg.Titles {
		if t = strings.TrimSpace(t); t != "" {
			titles[l] = t
		}
	}
	cfg.Titles = titles
	cfg.Support = strings.TrimSpace(cfg.Support)
	cfg.BotUsername = strings.TrimPrefix(cfg.BotUsername, "@")
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.AlertInterval <= 0 {
		cfg.AlertInterval = DefaultAlertInterval
	}
	handlers.Defaults(&cfg.Now, &cfg.Log, &cfg.Observer)
	levels := make(map[string]passport.Scope, len(cfg.Levels))
	for _, l := range cfg.Levels {
		if _, dup := levels[l]; dup {
			return nil, fmt.Errorf("chat: level %q is listed twice", l)
		}
		sc, err := cfg.Scopes(l)
		if err != nil {
			return nil, fmt.Errorf("chat: scope of level %q: %w", l, err)
		}
		if len(sc.Elements) == 0 {
			return nil, fmt.Errorf("chat: scope of level %q is empty", l)
		}
		levels[l] = sc
	}
	names, err := CommandNames(cfg.Commands)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]string, len(names))
	for cmd, name := range names {
		if cfg.Admin != nil && cfg.Admin.Handles(name) {
			return nil, fmt.Errorf("chat: command %q renamed to %q, an admin command", cmd, name)
		}
		byName[name] = cmd
	}
	cfg.Commands = nil // names holds them
	// The default order puts the default level first: the next step
	// suggested is then the level a plain /verify asks for.
	ordered := append([]string{cfg.DefaultLevel}, slices.DeleteFunc(slices.Clone(cfg.Levels), func(l string) bool { return l == cfg.DefaultLevel })...)
	cfg.Levels = ordered
	return &Conversation{cfg: cfg, levels: levels, names: names, byName: byName, rename: newRenamer(names)}, nil
}

// refRE is the deep link payload alphabet of "/start <ref>".
var refRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Callback data prefixes: every kycbot button's data starts with
// DataPrefix, so that a host bot's own buttons never reach kycbot.
const (
	// DataPrefix starts the data of every kycbot callback button.
	DataPrefix = "kyc:"
	// languageData prefixes the data of the language buttons.
	languageData = DataPrefix + "lang:"
	// legacyLanguageData is the prefix the language buttons had before
	// kycbot namespaced its data: taps on buttons sent then still work
	// in a standalone bot.
	legacyLanguageData = "lang:"
	// eraseData prefixes the data of the buttons of /delete_my_data:
	// "kyc:erase:<unix seconds when sent>" confirms, eraseKeep keeps.
	eraseData = DataPrefix + "erase:"
	eraseKeep = eraseData + "keep"
	// ReverifyData prefixes the data of the one-tap re-verification button
	// of the reminders and the expiry notice: "kyc:reverify:<level>".
	ReverifyData = DataPrefix + "reverify:"
)

// Parsed is a message text as the conversation reads it.
type Parsed struct {
	// Command is true when the text is a command addressed to this bot.
	Command bool
	// Other is true when it is a command addressed to another bot.
	Other bool
	// Name is the command, lower case, without "/" and "@bot".
	Name string
	// Args are the words after the command.
	Args []string
}

// Parse reads a message text: "/cmd", "/cmd@bot" and "/cmd arg ...";
// botUsername (without "@"), when set, tells commands addressed to this
// bot from those addressed to another one.
func Parse(text, botUsername string) Parsed {
	fields := strings.Fields(text)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") || len(fields[0]) == 1 {
		return Parsed{}
	}
	name, bot, addressed := strings.Cut(fields[0][1:], "@")
	if addressed && botUsername != "" && !strings.EqualFold(bot, strings.TrimPrefix(botUsername, "@")) {
		return Parsed{Other: true}
	}
	return Parsed{Command: true, Name: strings.ToLower(name), Args: fields[1:]}
}

// Handles reports whether the conversation answers text: one of its
// commands (under the names Config.Commands gives them) or an admin
// command, addressed to this bot; with Config.CatchAll, any text. A host
// bot that embeds kycbot keeps every other message.
func (c *Conversation) Handles(text string) bool {
	p := Parse(text, c.cfg.BotUsername)
	if c.cfg.CatchAll && !p.Other {
		return true
	}
	if !p.Command {
		return false
	}
	_, ok := c.byName[p.Name]
	return ok || (c.cfg.Admin != nil && c.cfg.Admin.Handles(p.Name))
}

// HandlesData reports whether callback data is a kycbot button's.
func (c *Conversation) HandlesData(data string) bool { return strings.HasPrefix(data, DataPrefix) }

// conv is one exchange with a user: who, in which language.
type conv struct {
	c *Conversation
	*handlers.Exchange
}

// newConv starts an exchange with user in the language of their app.
func (c *Conversation) newConv(ctx context.Context, id string, user handlers.User) *conv {
	return &conv{c: c, Exchange: handlers.NewExchange(ctx, "chat", id, user, c.cfg.Telegram, c.cfg.Catalog, c.cfg.Log)}
}

// load reads the user's preferences: the language they chose wins over
// the app's.
func (cv *conv) load(ctx context.Context) error { return cv.LoadPrefs(ctx, cv.c.cfg.Store.Preferences) }

// audit appends an event once per update; a failure is logged.
func (cv *conv) audit(ctx context.Context, ev store.Event) {
	ev.UserID = cv.User.ID
	cv.auditAs(ctx, ev)
}

// auditAs appends ev, about whom it names, once per update.
func (cv *conv) auditAs(ctx context.Context, ev store.Event) {
	if err := cv.c.cfg.Store.AuditOnce(ctx, ev, ev.Kind+":"+cv.ID); err != nil {
		cv.Log.ErrorContext(ctx, "chat: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
}

// text renders the catalog's message id in the user's language, with the
// commands it mentions under the names users type.
func (cv *conv) text(id string, data map[string]any) string {
	return cv.c.rename.rewrite(cv.Loc().Text(id, data))
}

// plural renders the catalog's plural message id like text.
func (cv *conv) plural(id string, count int, data map[string]any) string {
	return cv.c.rename.rewrite(cv.Loc().Plural(id, count, data))
}

// say sends the catalog's message id (its purpose too), rendered by text.
func (cv *conv) say(ctx context.Context, id string, data map[string]any, rows ...[]handlers.Button) error {
	return cv.Reply.Send(ctx, id, cv.text(id, data), rows...)
}

// title is how a level is shown to people (handlers.Title).
func (c *Conversation) title(level string) string { return handlers.Title(c.cfg.Titles, level) }

// slash returns "/" and the name users type for cmd, and whether the
// command is on.
func (c *Conversation) slash(cmd string) (string, bool) {
	name, ok := c.names[cmd]
	return "/" + name, ok
}

// OnMessage answers a text message of a user in their private chat with
// the bot. Commands addressed to another bot are ignored, and so, unless
// Config.CatchAll, are text that is not a command and unknown commands
// (with it, they get a hint to /help). Admin commands go to Config.Admin.
//
// It returns an error when the answer could not be given (storage or
// Telegram unreachable); the user was then asked to try again later when
// that was possible.
func (c *Conversation) OnMessage(ctx context.Context, m handlers.TextMessage) error {
	p := Parse(m.Text, c.cfg.BotUsername)
	if p.Other {
		handlers.LoggerFromContext(ctx, c.cfg.Log).DebugContext(ctx, "chat: command for another bot ignored", slog.Int64("user_id", m.From.ID))
		return nil
	}
	cmd, known := c.byName[p.Name]
	admin := p.Command && c.cfg.Admin != nil && c.cfg.Admin.Handles(p.Name)
	name := cmd
	switch {
	case admin:
		name = p.Name
	case !p.Command:
		name = handlers.CommandText
	case !known:
		name = handlers.CommandUnknown // an unknown command's name is the user's text: not logged
	}
	if !c.cfg.CatchAll && (name == handlers.CommandText || name == handlers.CommandUnknown) {
		handlers.LoggerFromContext(ctx, c.cfg.Log).DebugContext(ctx, "chat: not a kycbot command; left to the host", slog.Int64("user_id", m.From.ID))
		return nil
	}
	c.cfg.Observer.Command(name)
	if admin {
		return c.cfg.Admin.Command(ctx, m, name, p.Args)
	}
	cv := c.newConv(ctx, m.ID, m.From)
	cv.Log = cv.Log.With(slog.String("command", name))
	cv.Log.InfoContext(ctx, "chat: message")
	if err := cv.load(ctx); err != nil {
		return cv.Failed(ctx, "read preferences", err)
	}
	arg := ""
	if len(p.Args) > 0 {
		arg = p.Args[0]
	}
	switch name {
	case CommandStart:
		return cv.start(ctx, arg)
	case CommandVerify:
		return cv.verify(ctx, arg)
	case CommandStatus:
		return cv.status(ctx)
	case CommandLanguage:
		return cv.language(ctx)
	case CommandHelp:
		return cv.help(ctx)
	case CommandCancel:
		return cv.cancel(ctx)
	case CommandDeleteMyData:
		return cv.eraseAsk(ctx)
	default:
		return cv.say(ctx, i18n.MsgHelpNotUnderstood, nil)
	}
}

// start greets the user, keeps the deep link's ref and offers a request
// at the default level.
func (cv *conv) start(ctx context.Context, ref string) error {
	switch {
	case ref == "":
	case !refRE.MatchString(ref):
		cv.Log.DebugContext(ctx, "chat: start parameter outside the deep link alphabet ignored", slog.Int("length", len(ref)))
	case ref != cv.Prefs.Ref:
		if err := cv.c.cfg.Store.SetRef(ctx, cv.User.ID, ref); err != nil {
			return cv.Failed(ctx, "remember the ref", err)
		}
		cv.Prefs.Ref = ref
	}
	if err := cv.say(ctx, i18n.MsgStartGreeting, nil); err != nil {
		return err
	}
	return cv.offer(ctx, cv.c.cfg.DefaultLevel)
}

// verify offers a request at the level named, or the default one.
func (cv *conv) verify(ctx context.Context, arg string) error {
	level := cv.c.cfg.DefaultLevel
	if arg != "" {
		i := slices.IndexFunc(cv.c.cfg.Levels, func(l string) bool { return strings.EqualFold(l, arg) })
		if i < 0 {
			cv.Log.InfoContext(ctx, "chat: unknown level asked for")
			return cv.say(ctx, i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": cv.levelList()})
		}
		level = cv.c.cfg.Levels[i]
	}
	return cv.offer(ctx, level)
}

// levelList lists the levels as users type them, each with its title
// when it has one: "basic (Basic check), full (Full check)".
func (cv *conv) levelList() string {
	items := make([]string, len(cv.c.cfg.Levels))
	for i, l := range cv.c.cfg.Levels {
		items[i] = l
		if t := cv.c.title(l); t != l {
			items[i] += " (" + t + ")"
		}
	}
	return strings.Join(items, cv.Loc().Text(i18n.MsgListSeparator, nil))
}

// offer tells a verified or finally rejected user so (with the next step
// that works, or the support contact), reminds a user whose request at
// level is still open of the button they have, in one line, and gives
// anyone else a fresh request: what will be asked, the cloud password
// note and the button to the request page.
func (cv *conv) offer(ctx context.Context, level string) error {
	c := cv.c
	statuses, err := c.cfg.Store.ListStatuses(ctx, cv.User.ID)
	if err != nil {
		return cv.Failed(ctx, "read the status", err)
	}
	byLevel := make(map[string]store.Status, len(statuses))
	for _, st := range statuses {
		byLevel[st.Level] = st
	}
	st := byLevel[level]
	switch st.State {
	case store.StateVerified:
		next := cv.nextStep(byLevel, "")
		if next == "" {
			return cv.say(ctx, i18n.MsgVerifyAlreadyVerified, nil)
		}
		text := cv.text(i18n.MsgVerifyAlreadyVerifiedLevel, map[string]any{"Level": c.title(level)}) + " " + next
		return cv.Reply.Send(ctx, i18n.MsgVerifyAlreadyVerified, text)
	case store.StateRejected:
		text := cv.text(i18n.MsgStatusRejected, map[string]any{"Since": cv.Loc().Date(st.UpdatedAt)})
		return cv.Reply.Send(ctx, i18n.MsgStatusRejected, cv.withSupport(text))
	case store.StateReview:
		return cv.say(ctx, i18n.MsgStatusReview, map[string]any{"Since": cv.Loc().Date(st.UpdatedAt)})
	}
	live, ok, err := c.cfg.Store.LiveRequest(ctx, cv.User.ID)
	if err != nil {
		return cv.Failed(ctx, "read the live request", err)
	}
	if ok && live.Level == level && live.Ref == cv.Prefs.Ref {
		left := live.ExpiresAt.Sub(c.cfg.Now())
		if left >= time.Minute {
			// Under the purpose of a new request's message: handled
			// again after the request it issued, the update tells the
			// user nothing twice.
			cv.Log.InfoContext(ctx, "chat: live request reminded", slog.String("level", level), slog.String("nonce_hash", live.NonceHash()))
			mins := int((left + time.Minute/2) / time.Minute) // 29:59 left reads "30 more minutes"
			return cv.Reply.Send(ctx, "request", cv.plural(i18n.MsgRequestStillOpen, mins, nil), cv.shareButton(live))
		}
	}
	head := cv.text(i18n.MsgStartExplain, map[string]any{"Documents": documents(cv.Loc(), c.levels[level])}) +
		"\n\n" + cv.text(i18n.MsgRequestPasswordNote, nil)
	return cv.request(ctx, level, cv.Prefs.Ref, "", head)
}

// shareButton is the button to the request page of req.
func (cv *conv) shareButton(req store.Request) []handlers.Button {
	return []handlers.Button{{Text: cv.Loc().Text(i18n.MsgButtonShare, nil), URL: cv.c.cfg.PageURL(req.ID)}}
}

// nextStep returns the line that names the next step that works: the
// command that asks for the first level (the default one first) the user
// can still verify at; "" when there is none or /verify is off. liveLevel
// is the level of the user's live request, if any.
func (cv *conv) nextStep(byLevel map[string]store.Status, liveLevel string) string {
	c := cv.c
	verify, on := c.slash(CommandVerify)
	if !on {
		return ""
	}
	for _, l := range c.cfg.Levels {
		st := byLevel[l]
		if st.State == store.StateVerified || st.State == store.StateRejected || st.State == store.StatePending || st.State == store.StateReview {
			continue
		}
		command := verify
		if l != c.cfg.DefaultLevel {
			command += " " + l
		}
		data := map[string]any{"Command": command, "Level": c.title(l)}
		switch {
		case len(c.cfg.Levels) > 1:
			return cv.text(i18n.MsgStatusNextLevel, data)
		case st.State == "" && l != liveLevel:
			return cv.text(i18n.MsgStatusNextBegin, data)
		default:
			return cv.text(i18n.MsgStatusNext, data)
		}
	}
	return ""
}

// withSupport adds the support contact, when there is one, to text.
func (cv *conv) withSupport(text string) string {
	if cv.c.cfg.Support == "" {
		return text
	}
	return text + "\n" + cv.text(i18n.MsgSupportContact, map[string]any{"Support": cv.c.cfg.Support})
}

// request issues a request at level with ref (once per update) and sends
// it: head, how long the button works, and the button to the request
// page. after, if not empty, is audited as what the request follows (such
// as "outcome_cancel").
func (cv *conv) request(ctx context.Context, level, ref, after, head string) error {
	c := cv.c
	req, err := c.cfg.Store.IssueRequest(ctx, store.RequestParams{
		UserID: cv.User.ID, ChatID: cv.User.ID, Level: level, Lang: cv.Loc().Lang(), Ref: ref,
	}, c.cfg.RequestTTL, cv.ID)
	if err != nil {
		return cv.Failed(ctx, "issue a request", err)
	}
	detail := map[string]string{"nonce_hash": req.NonceHash()}
	if after != "" {
		detail["after"] = after
	}
	cv.audit(ctx, store.Event{Kind: "request_issued", Level: level, Ref: ref, Detail: detail})
	cv.Log.InfoContext(ctx, "chat: request issued", slog.String("level", level), slog.String("nonce_hash", req.NonceHash()))

	text := head + "\n\n" + cv.plural(i18n.MsgRequestWaiting, minutes(c.cfg.RequestTTL), nil)
	return cv.Reply.Send(ctx, "request", text, cv.shareButton(req))
}

// minutes rounds a duration up to whole minutes (at least 1).
func minutes(d time.Duration) int {
	return max(1, int((d+time.Minute-1)/time.Minute))
}

// documents lists a scope in words, one line per element ("• Passport,
// driving licence or identity card, with a selfie holding the
// document"), as the request page does.
func documents(loc *i18n.Localizer, sc passport.Scope) string {
	lines := make([]string, 0, len(sc.Elements))
	for _, e := range sc.Elements {
		names := make([]string, len(e.Types))
		for i, t := range e.Types {
			names[i] = loc.Element(string(t))
		}
		line := "• " + loc.Capitalize(loc.OrList(names...))
		var extra string
		switch {
		case e.Selfie && e.Translation:
			extra = loc.Text(i18n.MsgPageScopeSelfieTranslation, nil)
		case e.Selfie:
			extra = loc.Text(i18n.MsgPageScopeSelfie, nil)
		case e.Translation:
			extra = loc.Text(i18n.MsgPageScopeTranslation, nil)
		case e.NativeNames:
			extra = loc.Text(i18n.MsgPageScopeNativeNames, nil)
		}
		if extra != "" {
			line += loc.Text(i18n.MsgListSeparator, nil) + extra
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// status tells the user where they stand at each configured level (by
// its title), then the next step that works, and, after a final
// rejection, whom to contact.
func (cv *conv) status(ctx context.Context) error {
	c := cv.c
	statuses, err := c.cfg.Store.ListStatuses(ctx, cv.User.ID)
	if err != nil {
		return cv.Failed(ctx, "list the statuses", err)
	}
	live, hasLive, err := c.cfg.Store.LiveRequest(ctx, cv.User.ID)
	if err != nil {
		return cv.Failed(ctx, "read the live request", err)
	}
	byLevel := make(map[string]store.Status, len(statuses))
	for _, st := range statuses {
		byLevel[st.Level] = st
	}
	loc := cv.Loc()
	var lines []string
	rejected := false
	for _, level := range c.cfg.Levels {
		st := byLevel[level]
		since := map[string]any{"Since": loc.Date(st.UpdatedAt)}
		var line string
		switch {
		case st.State == store.StateVerified && !st.ValidUntil.IsZero():
			line = cv.text(i18n.MsgStatusVerifiedUntil, map[string]any{"Since": loc.Date(st.UpdatedAt), "Until": loc.Date(st.ValidUntil)})
		case st.State == store.StateVerified:
			line = cv.text(i18n.MsgStatusVerified, since)
		case st.State == store.StateRejected:
			line, rejected = cv.text(i18n.MsgStatusRejected, since), true
		case st.State == store.StateNeedsFixes:
			line = cv.text(i18n.MsgStatusNeedsFixes, since)
		case st.State == store.StatePending:
			line = cv.text(i18n.MsgStatusPending, since)
		case st.State == store.StateReview:
			line = cv.text(i18n.MsgStatusReview, since)
		case st.State == store.StateRevoked:
			line = cv.text(i18n.MsgStatusRevoked, since)
		case st.State == store.StateExpired && slices.Contains(st.Codes, store.CodeReviewExpired):
			line = cv.text(i18n.MsgStatusReviewExpired, since)
		case st.State == store.StateExpired:
			line = cv.text(i18n.MsgStatusExpired, since)
		case hasLive && live.Level == level:
			line = cv.text(i18n.MsgStatusRequested, nil)
		default:
			continue
		}
		if len(c.cfg.Levels) > 1 {
			line = cv.text(i18n.MsgStatusLevel, map[string]any{"Level": c.title(level), "Status": line})
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = append(lines, cv.text(i18n.MsgStatusNone, nil))
	}
	liveLevel := ""
	if hasLive {
		liveLevel = live.Level
	}
	if next := cv.nextStep(byLevel, liveLevel); next != "" {
		lines = append(lines, next)
	}
	text := strings.Join(lines, "\n")
	if rejected {
		text = cv.withSupport(text)
	}
	return cv.Reply.Send(ctx, "status", text)
}

// help says what the bot does, lists the commands that are on, under
// their names, and gives the support contact.
func (cv *conv) help(ctx context.Context) error {
	loc := cv.Loc()
	var b strings.Builder
	b.WriteString(cv.text(i18n.MsgHelp, nil))
	b.WriteString("\n")
	for _, bc := range commands {
		slash, on := cv.c.slash(bc.name)
		if !on {
			continue
		}
		b.WriteString("\n")
		if loc.Dir() == "rtl" {
			b.WriteString("\u200f") // the line is laid out right to left, as the catalog's own lines
		}
		b.WriteString(slash + " – " + loc.Text(bc.desc, nil))
	}
	if cv.c.cfg.Support != "" {
		b.WriteString("\n\n" + cv.text(i18n.MsgSupportContact, map[string]any{"Support": cv.c.cfg.Support}))
	}
	return cv.Reply.Send(ctx, i18n.MsgHelp, loc.ProtectLTR(b.String()))
}

// language offers one button per language of the catalog, two per row,
// each labelled in its own language.
func (cv *conv) language(ctx context.Context) error {
	cat := cv.c.cfg.Catalog
	var rows [][]handlers.Button
	for i, tag := range cat.Languages() {
		b := handlers.Button{Text: cat.Language(tag).Text(i18n.MsgLanguageName, nil), Data: languageData + tag}
		if i%2 == 0 {
			rows = append(rows, []handlers.Button{b})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		}
	}
	return cv.say(ctx, i18n.MsgLanguagePrompt, nil, rows...)
}

// cancel voids the user's live request. Both answers have one purpose:
// the same /cancel handled again finds nothing left to cancel, and its
// "nothing to cancel" must not follow the "cancelled" the user saw.
func (cv *conv) cancel(ctx context.Context) error {
	done, err := cv.c.cfg.Store.CancelRequest(ctx, cv.User.ID)
	if err != nil {
		return cv.Failed(ctx, "cancel the request", err)
	}
	if !done {
		return cv.Reply.Send(ctx, CommandCancel, cv.text(i18n.MsgCancelNothing, nil))
	}
	cv.audit(ctx, store.Event{Kind: "request_cancelled"})
	cv.Log.InfoContext(ctx, "chat: request cancelled")
	return cv.Reply.Send(ctx, CommandCancel, cv.text(i18n.MsgCancelDone, nil))
}

// OnCallback handles a tap on a kycbot button. A language button: the
// choice is remembered and used for every later message, the query is
// answered and the user told, in the new language. The buttons of
// /delete_my_data: see eraseTap. Taps on admin buttons go to
// Config.Admin; other data is answered and otherwise ignored.
func (c *Conversation) OnCallback(ctx context.Context, q handlers.CallbackQuery) error {
	if c.cfg.Admin != nil && c.cfg.Admin.HandlesData(q.Data) {
		c.cfg.Observer.Command(handlers.CommandCallbackDelete)
		return c.cfg.Admin.Callback(ctx, q)
	}
	cv := c.newConv(ctx, q.ID, q.From)
	cv.Log = cv.Log.With(slog.String("command", "callback"))
	if strings.HasPrefix(q.Data, eraseData) {
		if _, on := c.names[CommandDeleteMyData]; on {
			c.cfg.Observer.Command(handlers.CommandCallbackErase)
			return cv.eraseTap(ctx, q)
		}
	}
	if level, ok := strings.CutPrefix(q.Data, ReverifyData); ok {
		if _, known := c.levels[level]; known {
			return cv.reverifyTap(ctx, q, level)
		}
	}
	tag, ok := strings.CutPrefix(q.Data, languageData)
	if !ok {
		tag, ok = strings.CutPrefix(q.Data, legacyLanguageData)
	}
	if !ok || !slices.Contains(c.cfg.Catalog.Languages(), tag) {
		c.cfg.Observer.Command(handlers.CommandCallbackUnknown)
		cv.Log.DebugContext(ctx, "chat: unknown callback data ignored", slog.Int("length", len(q.Data)))
		return c.answer(ctx, q.QueryID, "")
	}
	c.cfg.Observer.Command(handlers.CommandCallbackLanguage)
	if err := c.cfg.Store.SetLanguage(ctx, q.From.ID, tag); err != nil {
		cv.Log.ErrorContext(ctx, "chat: remember the language failed", slog.String("error", err.Error()))
		err = fmt.Errorf("chat: remember the language of user %d: %w", q.From.ID, err)
		if aerr := c.answer(ctx, q.QueryID, cv.Loc().Text(i18n.MsgErrorTryLater, nil)); aerr != nil {
			return errors.Join(err, aerr)
		}
		return err
	}
	cv.audit(ctx, store.Event{Kind: "language_set", Codes: []string{tag}})
	cv.Log.InfoContext(ctx, "chat: language set", slog.String("lang", tag))
	cv.SetLanguage(tag)
	if err := c.answer(ctx, q.QueryID, ""); err != nil {
		cv.Log.WarnContext(ctx, "chat: cannot answer the callback query", slog.String("error", err.Error()))
	}
	return cv.say(ctx, i18n.MsgLanguageChosen, nil)
}

// reverifyTap handles a tap on the re-verification button of a reminder
// or an expiry notice: a fresh request at level, whatever the status (a
// verified user verifies again before the end), with the user's ref.
func (cv *conv) reverifyTap(ctx context.Context, q handlers.CallbackQuery, level string) error {
	c := cv.c
	c.cfg.Observer.Command(handlers.CommandCallbackReverify)
	cv.Log = cv.Log.With(slog.String("command", "reverify"))
	if err := cv.load(ctx); err != nil {
		err = fmt.Errorf("chat: read the preferences of user %d: %w", q.From.ID, err)
		if aerr := c.answer(ctx, q.QueryID, cv.Loc().Text(i18n.MsgErrorTryLater, nil)); aerr != nil {
			return errors.Join(err, aerr)
		}
		return err
	}
	if err := c.answer(ctx, q.QueryID, ""); err != nil {
		cv.Log.WarnContext(ctx, "chat: cannot answer the callback query", slog.String("error", err.Error()))
	}
	head := cv.text(i18n.MsgStartExplain, map[string]any{"Documents": documents(cv.Loc(), c.levels[level])}) +
		"\n\n" + cv.text(i18n.MsgRequestPasswordNote, nil)
	return cv.request(ctx, level, cv.Prefs.Ref, "reverify", head)
}

func (c *Conversation) answer(ctx context.Context, queryID int64, text string) error {
	if err := c.cfg.Telegram.AnswerCallback(ctx, queryID, text); err != nil {
		return fmt.Errorf("chat: answer callback query: %w", err)
	}
	return nil
}

// SetCommands registers the commands that are on, under their names,
// with their descriptions once per language of the catalog, and once
// more with an empty lang_code in the catalog's default language, for
// users of other languages; then Config.Admin registers the admin
// commands for the admins. Telegram's lang_code is a two-letter ISO
// 639-1 code, without region: a catalog language with a region (pt-BR)
// is registered under its base language ("pt"), as i18n.Catalog.Match
// maps every "pt-*" app language to it; when two catalog languages share
// a base, the first one wins, as in Match. It tries every language and
// returns the errors joined.
func (c *Conversation) SetCommands(ctx context.Context) error {
	cat := c.cfg.Catalog
	var errs []error
	done := map[string]bool{}
	menu := func(tag string) []handlers.BotCommand {
		loc := cat.Language(tag)
		cmds := make([]handlers.BotCommand, 0, len(commands))
		for _, bc := range commands {
			if name, on := c.names[bc.name]; on {
				cmds = append(cmds, handlers.BotCommand{Command: name, Description: loc.Text(bc.desc, nil)})
			}
		}
		return cmds
	}
	set := func(code, tag string) {
		if err := c.cfg.Telegram.SetCommands(ctx, code, menu(tag)); err != nil {
			errs = append(errs, err)
			return
		}
		handlers.LoggerFromContext(ctx, c.cfg.Log).DebugContext(ctx, "chat: bot commands set", slog.String("lang_code", code), slog.String("lang", tag))
	}
	for _, tag := range cat.Languages() {
		code := telegramLangCode(tag)
		if code == "" || done[code] {
			continue
		}
		done[code] = true
		set(code, tag)
	}
	set("", cat.DefaultLanguage())
	if c.cfg.Admin != nil {
		c.cfg.Admin.SetCommands(ctx, menu(cat.DefaultLanguage()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("chat: set bot commands: %w", err)
	}
	return nil
}

// telegramLangCode is the lang_code of bots.setBotCommands for a language
// tag: its base language in lower case ("pt-BR" -> "pt").
func telegramLangCode(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(base)
}

// alarmKey names an admin alarm about code: the same in every instance
// for one AlertInterval, so that the admins get it once per interval.
func (c *Conversation) alarmKey(code string) string {
	return "alarm:" + code + ":" + strconv.FormatInt(c.cfg.Now().UnixNano()/int64(c.cfg.AlertInterval), 10)
}
