package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// CommandStore is the part of *store.Store the conversation uses.
type CommandStore interface {
	IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration) (store.Request, error)
	LiveRequest(ctx context.Context, userID int64) (store.Request, bool, error)
	CancelRequest(ctx context.Context, userID int64) (bool, error)
	GetStatus(ctx context.Context, userID int64, level string) (store.Status, error)
	ListStatuses(ctx context.Context, userID int64) ([]store.Status, error)
	Preferences(ctx context.Context, userID int64) (store.Prefs, error)
	SetLanguage(ctx context.Context, userID int64, tag string) error
	SetRef(ctx context.Context, userID int64, ref string) error
	Audit(ctx context.Context, ev store.Event) error
	// The admin commands'.
	Stats(ctx context.Context, day time.Time) (store.Stats, error)
	ResetStatus(ctx context.Context, userID int64, level string) error
	DeleteUser(ctx context.Context, userID int64) (int, error)
}

// DefaultAlertInterval is how often at most the admins are alarmed about
// one Telegram Passport error code (CommandsConfig.AlertInterval).
const DefaultAlertInterval = time.Hour

// CommandsConfig is what NewCommands needs.
type CommandsConfig struct {
	// Store keeps requests, statuses, preferences and the audit trail
	// (*store.Store). Required.
	Store CommandStore
	// Telegram talks to Telegram (NewTelegram). Required.
	Telegram Telegram
	// Catalog holds the texts. Required.
	Catalog *i18n.Catalog
	// Levels are the names of the configured verification levels.
	// Required, at least one.
	Levels []string
	// DefaultLevel is the level of /start and of /verify without a level.
	// It must be one of Levels; it may be left empty when there is only
	// one level.
	DefaultLevel string
	// Scopes returns the scope of a level, for the explanation of what
	// will be asked. Required; called for every level by NewCommands.
	Scopes func(level string) (passport.Scope, error)
	// PageURL returns the URL of the request page of a request ID.
	// Required.
	PageURL func(requestID string) string
	// Admins are the Telegram user IDs alarmed when Telegram Passport
	// refuses to open the form because of the bot's configuration, and
	// the only users the admin commands (/kyc_stats, /kyc_status,
	// /kyc_reset, /kyc_delete) answer.
	Admins []int64
	// RequestTTL is the life of the requests issued (default
	// DefaultRequestTTL).
	RequestTTL time.Duration
	// BotUsername is the bot's username, without "@" (optional). When
	// set, commands addressed to another bot ("/help@otherbot") are
	// ignored; without it every "/cmd@name" is taken as addressed to us.
	BotUsername string
	// AlertInterval is how often at most the admins are alarmed about the
	// same Passport error code (default DefaultAlertInterval).
	AlertInterval time.Duration
}

// Outcome is what the request page learned from the Telegram app after
// the Passport form (the callback_url): the bot adapts web.Outcome to it.
type Outcome struct {
	// UserID is the user the request was issued to.
	UserID int64
	// RequestID is the request the outcome is about.
	RequestID string
	// Result is OutcomeSuccess, OutcomeCancel or OutcomeError.
	Result string
	// Error is Telegram's error code for OutcomeError, such as
	// "PUBLIC_KEY_INVALID", "BOT_INVALID", "PUBLIC_KEY_REQUIRED",
	// "SCOPE_EMPTY", "NONCE_EMPTY" or "UNKNOWN".
	Error string
	// Lang is the request's language tag, if any.
	Lang string
}

// Outcome results.
const (
	OutcomeSuccess = "success"
	OutcomeCancel  = "cancel"
	OutcomeError   = "error"
)

// outcomeCodes are the error codes of Outcome.Error kept as they are (any
// other is audited as UNKNOWN); alarm says whether the admins must act:
// the bot or its public key is misconfigured, so nobody can verify.
var outcomeCodes = map[string]struct{ alarm bool }{
	"BOT_INVALID":         {true},
	"PUBLIC_KEY_REQUIRED": {true},
	"PUBLIC_KEY_INVALID":  {true},
	"SCOPE_EMPTY":         {false},
	"NONCE_EMPTY":         {false},
	"UNKNOWN":             {false},
}

// Commands is the chat conversation of the bot: /start, /verify,
// /status, /language, /help and /cancel, the language buttons, the
// outcomes the request page reports, and the admin commands (see admin.go).
// It is safe for concurrent use.
type Commands struct {
	cfg    CommandsConfig
	now    func() time.Time
	log    *slog.Logger
	obs    Observer
	levels map[string]passport.Scope

	mu      sync.Mutex
	alerted map[string]time.Time // Passport error code -> last admin alarm
	told    map[string]bool      // request IDs whose error outcome the user was told
}

// maxTold bounds the memory of error outcomes told.
const maxTold = 10000

// NewCommands returns the conversation; it fails when cfg lacks something
// required or a level has no scope. Of the options it reads WithClock
// and WithLogger.
func NewCommands(cfg CommandsConfig, opts ...Option) (*Commands, error) {
	if err := requireSet("commands", []setting{
		{"Store", cfg.Store != nil}, {"Telegram", cfg.Telegram != nil}, {"Catalog", cfg.Catalog != nil},
		{"Levels", len(cfg.Levels) > 0}, {"Scopes", cfg.Scopes != nil}, {"PageURL", cfg.PageURL != nil},
	}); err != nil {
		return nil, err
	}
	if cfg.DefaultLevel == "" && len(cfg.Levels) == 1 {
		cfg.DefaultLevel = cfg.Levels[0]
	}
	if !slices.Contains(cfg.Levels, cfg.DefaultLevel) {
		return nil, fmt.Errorf("handlers: commands config: DefaultLevel %q is not one of Levels (%s)",
			cfg.DefaultLevel, strings.Join(cfg.Levels, ", "))
	}
	cfg.Levels = slices.Clone(cfg.Levels)
	cfg.Admins = slices.Clone(cfg.Admins)
	cfg.BotUsername = strings.TrimPrefix(cfg.BotUsername, "@")
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.AlertInterval <= 0 {
		cfg.AlertInterval = DefaultAlertInterval
	}
	levels := make(map[string]passport.Scope, len(cfg.Levels))
	for _, l := range cfg.Levels {
		if _, dup := levels[l]; dup {
			return nil, fmt.Errorf("handlers: commands config: level %q is listed twice", l)
		}
		sc, err := cfg.Scopes(l)
		if err != nil {
			return nil, fmt.Errorf("handlers: commands config: scope of level %q: %w", l, err)
		}
		if len(sc.Elements) == 0 {
			return nil, fmt.Errorf("handlers: commands config: scope of level %q is empty", l)
		}
		levels[l] = sc
	}
	o := newOptions(opts)
	return &Commands{
		cfg: cfg, now: o.now, log: o.log, obs: o.obs, levels: levels,
		alerted: map[string]time.Time{}, told: map[string]bool{},
	}, nil
}

// Register installs the conversation as the dispatcher's NewMessage and
// BotCallbackQuery handler. It replaces any handler of those updates set
// before (tg.UpdateDispatcher keeps one per type): to process Passport
// submissions too, install the passport handler's Chain instead:
//
//	d.OnNewMessage(passportHandler.Chain(commands.OnNewMessage))
//	d.OnBotCallbackQuery(commands.OnBotCallbackQuery)
func (c *Commands) Register(d *tg.UpdateDispatcher) {
	d.OnNewMessage(c.OnNewMessage)
	d.OnBotCallbackQuery(c.OnBotCallbackQuery)
}

// Command names, as registered with SetBotCommands.
const (
	cmdStart    = "start"
	cmdVerify   = "verify"
	cmdStatus   = "status"
	cmdLanguage = "language"
	cmdHelp     = "help"
	cmdCancel   = "cancel"
)

// command is a command name with the message ID of its description.
type command struct{ name, desc string }

// botCommands lists the commands with their descriptions, in menu order.
var botCommands = []command{
	{cmdStart, i18n.MsgCommandStart},
	{cmdVerify, i18n.MsgCommandVerify},
	{cmdStatus, i18n.MsgCommandStatus},
	{cmdLanguage, i18n.MsgCommandLanguage},
	{cmdHelp, i18n.MsgCommandHelp},
	{cmdCancel, i18n.MsgCommandCancel},
}

// listed reports whether name is one of cmds.
func listed(cmds []command, name string) bool {
	for _, c := range cmds {
		if c.name == name {
			return true
		}
	}
	return false
}

// refRE is the deep link payload alphabet of "/start <ref>".
var refRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// languageData prefixes the callback data of the language buttons.
const languageData = "lang:"

// parsed is a message as the conversation reads it.
type parsed struct {
	command bool     // the text is a command addressed to us
	other   bool     // the text is a command addressed to another bot
	name    string   // the command, lower case, without "/" and "@bot"
	arg     string   // the first word after the command, if any
	args    []string // every word after the command
}

// parse reads a message text: "/cmd", "/cmd@bot" and "/cmd arg ...".
func (c *Commands) parse(text string) parsed {
	fields := strings.Fields(text)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") || len(fields[0]) == 1 {
		return parsed{}
	}
	name, bot, addressed := strings.Cut(fields[0][1:], "@")
	if addressed && c.cfg.BotUsername != "" && !strings.EqualFold(bot, c.cfg.BotUsername) {
		return parsed{other: true}
	}
	p := parsed{command: true, name: strings.ToLower(name)}
	if len(fields) > 1 {
		p.arg = fields[1]
		p.args = fields[1:]
	}
	return p
}

// conv is one exchange with a user: who, in which language.
type conv struct {
	c        *Commands
	userID   int64
	user     *tg.InputUser
	langCode string // the Telegram app's
	prefs    store.Prefs
	loc      *i18n.Localizer
	log      *slog.Logger
}

// logger returns the logger of ctx (ContextWithLogger), else c's.
func (c *Commands) logger(ctx context.Context) *slog.Logger { return LoggerFromContext(ctx, c.log) }

// newConv starts an exchange with userID, reading the access hash and the
// app's language from the update's entities when they hold the user.
func (c *Commands) newConv(ctx context.Context, e tg.Entities, userID int64) *conv {
	cv := &conv{c: c, userID: userID, user: &tg.InputUser{UserID: userID}, log: c.logger(ctx).With(slog.Int64("user_id", userID))}
	if tu, ok := e.Users[userID]; ok && tu != nil {
		cv.user.AccessHash = tu.AccessHash
		cv.langCode = tu.LangCode
	}
	cv.loc = c.cfg.Catalog.Language(c.cfg.Catalog.Match(cv.langCode))
	return cv
}

// load reads the user's preferences: the language they chose wins over
// the app's.
func (cv *conv) load(ctx context.Context) error {
	p, err := cv.c.cfg.Store.Preferences(ctx, cv.userID)
	if err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	cv.prefs = p
	if p.Lang != "" {
		cv.loc = cv.c.cfg.Catalog.Language(p.Lang)
	}
	return nil
}

// send sends a text with buttons in one row.
func (cv *conv) send(ctx context.Context, text string, buttons ...Button) error {
	if err := cv.c.cfg.Telegram.SendText(ctx, cv.user, text, buttons...); err != nil {
		return fmt.Errorf("handlers: reply: %w", err)
	}
	return nil
}

// text sends a message of the catalog.
func (cv *conv) text(ctx context.Context, id string, data map[string]any) error {
	return cv.send(ctx, cv.loc.Text(id, data))
}

// failed reports a failure of the bot's side (storage unreachable): the
// user is asked to try again later, and the error is returned.
func (cv *conv) failed(ctx context.Context, what string, err error) error {
	cv.log.ErrorContext(ctx, "commands: "+what+" failed", slog.String("error", err.Error()))
	err = fmt.Errorf("handlers: %s for user %d: %w", what, cv.userID, err)
	if serr := cv.text(ctx, i18n.MsgErrorTryLater, nil); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// audit appends an event; a failure is logged.
func (cv *conv) audit(ctx context.Context, ev store.Event) {
	ev.UserID = cv.userID
	if err := cv.c.cfg.Store.Audit(ctx, ev); err != nil {
		cv.log.ErrorContext(ctx, "commands: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
}

// OnNewMessage answers a text message of a user in a private chat; it has
// the signature of tg.UpdateDispatcher.OnNewMessage. Outgoing messages,
// service messages (Passport submissions among them: see
// PassportHandler.Chain), messages of bots and messages in groups and
// channels are ignored. Text that is not a command gets a hint to /help;
// commands addressed to another bot are ignored.
//
// It returns an error when the answer could not be given (storage or
// Telegram unreachable); the user was then asked to try again later when
// that was possible.
func (c *Commands) OnNewMessage(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
	if u == nil {
		return nil
	}
	msg, ok := u.Message.(*tg.Message)
	if !ok || msg.Out || msg.Post {
		return nil
	}
	peer, ok := msg.PeerID.(*tg.PeerUser)
	if !ok {
		return nil
	}
	if from, ok := msg.FromID.(*tg.PeerUser); ok && from.UserID != peer.UserID {
		return nil
	}
	if tu, ok := e.Users[peer.UserID]; ok && tu != nil && tu.Bot {
		return nil
	}
	p := c.parse(msg.Message)
	if p.other {
		c.logger(ctx).DebugContext(ctx, "commands: command for another bot ignored", slog.Int64("user_id", peer.UserID))
		return nil
	}
	cv := c.newConv(ctx, e, peer.UserID)
	name := p.name
	if !p.command {
		name = CommandText
	} else if !listed(botCommands, p.name) && !listed(adminCommands, p.name) {
		name = CommandUnknown // an unknown command's name is the user's text: not logged
	}
	c.obs.Command(name)
	cv.log = cv.log.With(slog.String("command", name))
	cv.log.InfoContext(ctx, "commands: message")
	if err := cv.load(ctx); err != nil {
		return cv.failed(ctx, "read preferences", err)
	}
	switch name {
	case cmdStart:
		return cv.start(ctx, p.arg)
	case cmdVerify:
		return cv.verify(ctx, p.arg)
	case cmdStatus:
		return cv.status(ctx)
	case cmdLanguage:
		return cv.language(ctx)
	case cmdHelp:
		return cv.text(ctx, i18n.MsgHelp, nil)
	case cmdCancel:
		return cv.cancel(ctx)
	case cmdKycStats, cmdKycStatus, cmdKycReset, cmdKycDelete:
		return cv.admin(ctx, name, p.args)
	default:
		return cv.text(ctx, i18n.MsgHelpNotUnderstood, nil)
	}
}

// start greets the user, keeps the deep link's ref and offers a request
// at the default level.
func (cv *conv) start(ctx context.Context, ref string) error {
	switch {
	case ref == "":
	case !refRE.MatchString(ref):
		cv.log.DebugContext(ctx, "commands: start parameter outside the deep link alphabet ignored", slog.Int("length", len(ref)))
	case ref != cv.prefs.Ref:
		if err := cv.c.cfg.Store.SetRef(ctx, cv.userID, ref); err != nil {
			return cv.failed(ctx, "remember the ref", err)
		}
		cv.prefs.Ref = ref
	}
	if err := cv.text(ctx, i18n.MsgStartGreeting, nil); err != nil {
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
			cv.log.InfoContext(ctx, "commands: unknown level asked for")
			return cv.text(ctx, i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": strings.Join(cv.c.cfg.Levels, ", ")})
		}
		level = cv.c.cfg.Levels[i]
	}
	return cv.offer(ctx, level)
}

// offer tells a verified or finally rejected user so, and gives anyone
// else a fresh request: what will be asked and why, the cloud password
// note and the button to the request page.
func (cv *conv) offer(ctx context.Context, level string) error {
	st, err := cv.c.cfg.Store.GetStatus(ctx, cv.userID, level)
	if err != nil {
		return cv.failed(ctx, "read the status", err)
	}
	switch st.State {
	case store.StateVerified:
		return cv.text(ctx, i18n.MsgVerifyAlreadyVerified, nil)
	case store.StateRejected:
		return cv.text(ctx, i18n.MsgStatusRejected, map[string]any{"Since": formatDate(cv.loc.Lang(), st.UpdatedAt)})
	}
	head := cv.loc.Text(i18n.MsgStartExplain, map[string]any{"Documents": documents(cv.loc, cv.c.levels[level])}) +
		"\n\n" + cv.loc.Text(i18n.MsgStartPasswordNote, nil)
	return cv.request(ctx, level, cv.prefs.Ref, "", head)
}

// request issues a request at level with ref and sends it: head, how long
// the button works, and the button to the request page. after, if not
// empty, is audited as what the request follows (such as
// "outcome_cancel").
func (cv *conv) request(ctx context.Context, level, ref, after, head string) error {
	c := cv.c
	req, err := c.cfg.Store.IssueRequest(ctx, store.RequestParams{
		UserID: cv.userID, ChatID: cv.userID, Level: level, Lang: cv.loc.Lang(), Ref: ref,
	}, c.cfg.RequestTTL)
	if err != nil {
		return cv.failed(ctx, "issue a request", err)
	}
	detail := map[string]string{"nonce_hash": req.NonceHash()}
	if after != "" {
		detail["after"] = after
	}
	cv.audit(ctx, store.Event{Kind: "request_issued", Level: level, Ref: ref, Detail: detail})
	cv.log.InfoContext(ctx, "commands: request issued", slog.String("level", level), slog.String("nonce_hash", req.NonceHash()))

	text := head + "\n\n" + cv.loc.Plural(i18n.MsgRequestWaiting, minutes(c.cfg.RequestTTL), nil)
	return cv.send(ctx, text, Button{Text: cv.loc.Text(i18n.MsgButtonShare, nil), URL: c.cfg.PageURL(req.ID)})
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

// status tells the user where they stand at each configured level.
func (cv *conv) status(ctx context.Context) error {
	c := cv.c
	statuses, err := c.cfg.Store.ListStatuses(ctx, cv.userID)
	if err != nil {
		return cv.failed(ctx, "list the statuses", err)
	}
	live, hasLive, err := c.cfg.Store.LiveRequest(ctx, cv.userID)
	if err != nil {
		return cv.failed(ctx, "read the live request", err)
	}
	byLevel := make(map[string]store.Status, len(statuses))
	for _, st := range statuses {
		byLevel[st.Level] = st
	}
	var lines []string
	for _, level := range c.cfg.Levels {
		st := byLevel[level]
		since := map[string]any{"Since": formatDate(cv.loc.Lang(), st.UpdatedAt)}
		var line string
		switch {
		case st.State == store.StateVerified:
			line = cv.loc.Text(i18n.MsgStatusVerified, since)
		case st.State == store.StateRejected:
			line = cv.loc.Text(i18n.MsgStatusRejected, since)
		case st.State == store.StateNeedsFixes:
			line = cv.loc.Text(i18n.MsgStatusNeedsFixes, since)
		case st.State == store.StatePending:
			line = cv.loc.Text(i18n.MsgStatusPending, since)
		case hasLive && live.Level == level:
			line = cv.loc.Text(i18n.MsgStatusRequested, nil)
		default:
			continue
		}
		if len(c.cfg.Levels) > 1 {
			line = cv.loc.Text(i18n.MsgStatusLevel, map[string]any{"Level": level, "Status": line})
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return cv.text(ctx, i18n.MsgStatusNone, nil)
	}
	return cv.send(ctx, strings.Join(lines, "\n"))
}

// language offers one button per language of the catalog, two per row,
// each labelled in its own language.
func (cv *conv) language(ctx context.Context) error {
	cat := cv.c.cfg.Catalog
	var rows [][]Button
	for i, tag := range cat.Languages() {
		b := Button{Text: cat.Language(tag).Text(i18n.MsgLanguageName, nil), Data: languageData + tag}
		if i%2 == 0 {
			rows = append(rows, []Button{b})
		} else {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		}
	}
	if err := cv.c.cfg.Telegram.SendButtons(ctx, cv.user, cv.loc.Text(i18n.MsgLanguagePrompt, nil), rows); err != nil {
		return fmt.Errorf("handlers: language buttons for user %d: %w", cv.userID, err)
	}
	return nil
}

// cancel voids the user's live request.
func (cv *conv) cancel(ctx context.Context) error {
	done, err := cv.c.cfg.Store.CancelRequest(ctx, cv.userID)
	if err != nil {
		return cv.failed(ctx, "cancel the request", err)
	}
	if !done {
		return cv.text(ctx, i18n.MsgCancelNothing, nil)
	}
	cv.audit(ctx, store.Event{Kind: "request_cancelled"})
	cv.log.InfoContext(ctx, "commands: request cancelled")
	return cv.text(ctx, i18n.MsgCancelDone, nil)
}

// OnBotCallbackQuery handles a tap on a language button ("lang:<tag>"):
// the choice is remembered and used for every later message, the query
// is answered and the user told, in the new language. A tap on the
// confirmation button of /kyc_delete ("kycdel:...") deletes the user when
// an admin taps it (see admin.go). It has the signature of
// tg.UpdateDispatcher.OnBotCallbackQuery; other callback data is answered
// and otherwise ignored.
func (c *Commands) OnBotCallbackQuery(ctx context.Context, e tg.Entities, u *tg.UpdateBotCallbackQuery) error {
	if u == nil {
		return nil
	}
	if rest, ok := strings.CutPrefix(string(u.Data), deleteData); ok {
		c.obs.Command(CommandCallbackDelete)
		return c.onDeleteConfirm(ctx, e, u, rest)
	}
	cv := c.newConv(ctx, e, u.UserID)
	cv.log = cv.log.With(slog.String("command", "callback"))
	tag, ok := strings.CutPrefix(string(u.Data), languageData)
	if !ok || !slices.Contains(c.cfg.Catalog.Languages(), tag) {
		c.obs.Command(CommandCallbackUnknown)
		cv.log.DebugContext(ctx, "commands: unknown callback data ignored", slog.Int("length", len(u.Data)))
		return c.answer(ctx, u.QueryID, "")
	}
	c.obs.Command(CommandCallbackLanguage)
	if err := c.cfg.Store.SetLanguage(ctx, u.UserID, tag); err != nil {
		cv.log.ErrorContext(ctx, "commands: remember the language failed", slog.String("error", err.Error()))
		err = fmt.Errorf("handlers: remember the language of user %d: %w", u.UserID, err)
		if aerr := c.answer(ctx, u.QueryID, cv.loc.Text(i18n.MsgErrorTryLater, nil)); aerr != nil {
			return errors.Join(err, aerr)
		}
		return err
	}
	cv.audit(ctx, store.Event{Kind: "language_set", Codes: []string{tag}})
	cv.log.InfoContext(ctx, "commands: language set", slog.String("lang", tag))
	cv.loc = c.cfg.Catalog.Language(tag)
	if err := c.answer(ctx, u.QueryID, ""); err != nil {
		cv.log.WarnContext(ctx, "commands: cannot answer the callback query", slog.String("error", err.Error()))
	}
	return cv.text(ctx, i18n.MsgLanguageChosen, nil)
}

func (c *Commands) answer(ctx context.Context, queryID int64, text string) error {
	if err := c.cfg.Telegram.AnswerCallback(ctx, queryID, text); err != nil {
		return fmt.Errorf("handlers: answer callback query: %w", err)
	}
	return nil
}

// SetBotCommands registers the six commands with their descriptions
// (bots.setBotCommands, default scope) once per language of the catalog,
// and once more with an empty lang_code in the catalog's default
// language, for users of other languages. Then, for each of the Admins,
// it registers those six and the admin commands in the default language
// in the scope of that admin's private chat (BotCommandScopePeer, with
// the access hash Telegram.ResolveUser finds); an admin whose
// registration fails is logged and skipped, not returned as an error.
//
// Telegram's lang_code there is a two-letter ISO 639-1 code, without
// region: a catalog language with a region (pt-BR) is registered under
// its base language ("pt"), as i18n.Catalog.Match maps every "pt-*" app
// language to it. When two catalog languages share a base, the first
// one wins, as in Match. It tries every language and returns the errors
// joined.
func (c *Commands) SetBotCommands(ctx context.Context) error {
	cat := c.cfg.Catalog
	var errs []error
	done := map[string]bool{}
	set := func(code, tag string) {
		cmds := make([]tg.BotCommand, len(botCommands))
		loc := cat.Language(tag)
		for i, bc := range botCommands {
			cmds[i] = tg.BotCommand{Command: bc.name, Description: loc.Text(bc.desc, nil)}
		}
		if err := c.cfg.Telegram.SetBotCommands(ctx, code, cmds); err != nil {
			errs = append(errs, err)
			return
		}
		c.logger(ctx).DebugContext(ctx, "commands: bot commands set", slog.String("lang_code", code), slog.String("lang", tag))
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
	c.setAdminCommands(ctx)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("handlers: set bot commands: %w", err)
	}
	return nil
}

// telegramLangCode is the lang_code of bots.setBotCommands for a language
// tag: its base language in lower case ("pt-BR" -> "pt").
func telegramLangCode(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(base)
}

// OnOutcome reacts to what the request page learned from the Telegram app
// after the Passport form:
//
//   - success: nothing. The data reaches the bot as a service message and
//     the passport handler answers it; the page already told the user to
//     go back to the chat. (Saying "received" here could contradict the
//     passport handler, which may already have answered, or be first.)
//   - cancel: when the outcome's request is still the user's live one, a
//     message (MsgOutcomeCancel) with a fresh request button of the same
//     level and ref. The fresh request supersedes the old one, so a
//     reloaded callback page finds no request and reports nothing more.
//     An outcome of an older request is ignored.
//   - error: a message (MsgOutcomeError), once per request per instance
//     (the page may be reloaded); for BOT_INVALID, PUBLIC_KEY_REQUIRED and
//     PUBLIC_KEY_INVALID every admin gets MsgAdminPassportError, at most
//     once per AlertInterval and code.
//
// Cancels and errors are audited (outcome_cancel, outcome_error with the
// code). It returns an error when the store or Telegram failed.
func (c *Commands) OnOutcome(ctx context.Context, o Outcome) error {
	if o.UserID <= 0 {
		return fmt.Errorf("handlers: outcome without a user (user ID %d)", o.UserID)
	}
	cv := c.newConv(ctx, tg.Entities{}, o.UserID)
	cv.log = cv.log.With(slog.String("command", "outcome"), slog.String("result", o.Result))
	switch o.Result {
	case OutcomeSuccess:
		cv.log.DebugContext(ctx, "commands: passport form sent; the passport handler answers")
		return nil
	case OutcomeCancel, OutcomeError:
	default:
		return fmt.Errorf("handlers: outcome of user %d: unknown result %q", o.UserID, o.Result)
	}
	if o.Lang != "" {
		cv.loc = c.cfg.Catalog.Language(o.Lang)
	}
	if err := cv.load(ctx); err != nil {
		return fmt.Errorf("handlers: outcome of user %d: %w", o.UserID, err)
	}
	if o.Result == OutcomeCancel {
		return cv.outcomeCancel(ctx, o)
	}
	return cv.outcomeError(ctx, o)
}

func (cv *conv) outcomeCancel(ctx context.Context, o Outcome) error {
	live, ok, err := cv.c.cfg.Store.LiveRequest(ctx, cv.userID)
	if err != nil {
		return fmt.Errorf("handlers: cancel outcome of user %d: %w", cv.userID, err)
	}
	if !ok || live.ID != o.RequestID {
		cv.log.DebugContext(ctx, "commands: cancel outcome of a request no longer live ignored")
		return nil
	}
	cv.audit(ctx, store.Event{Kind: "outcome_cancel", Level: live.Level, Ref: live.Ref,
		Detail: map[string]string{"nonce_hash": live.NonceHash()}})
	cv.log.InfoContext(ctx, "commands: passport form closed without sharing")
	return cv.request(ctx, live.Level, live.Ref, "outcome_cancel", cv.loc.Text(i18n.MsgOutcomeCancel, nil))
}

func (cv *conv) outcomeError(ctx context.Context, o Outcome) error {
	c := cv.c
	code := o.Error
	kind, known := outcomeCodes[code]
	if !known {
		code = "UNKNOWN"
	}
	if !c.markTold(o.RequestID) {
		cv.log.DebugContext(ctx, "commands: error outcome already told", slog.String("error_code", code))
		return nil
	}
	cv.audit(ctx, store.Event{Kind: "outcome_error", Codes: []string{code}})
	cv.log.WarnContext(ctx, "commands: Telegram Passport reported an error", slog.String("error_code", code))
	err := cv.text(ctx, i18n.MsgOutcomeError, nil)
	if kind.alarm {
		c.alarm(ctx, code)
	}
	return err
}

// markTold reports whether the error outcome of a request is still to be
// told, and records it. The memory is per instance: with several
// instances behind a load balancer a reloaded page may be told twice.
func (c *Commands) markTold(requestID string) bool {
	if requestID == "" {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.told[requestID] {
		return false
	}
	if len(c.told) >= maxTold {
		clear(c.told)
	}
	c.told[requestID] = true
	return true
}

// alarm sends MsgAdminPassportError for code to every admin, in the
// catalog's default language, unless it was sent less than AlertInterval
// ago. The rate limit is in memory: several instances may each alarm once
// per interval, which is fine for a misconfiguration that needs a human.
func (c *Commands) alarm(ctx context.Context, code string) {
	if len(c.cfg.Admins) == 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	last, seen := c.alerted[code]
	if seen && now.Sub(last) < c.cfg.AlertInterval {
		c.mu.Unlock()
		c.logger(ctx).DebugContext(ctx, "commands: admin alarm rate limited", slog.String("error_code", code))
		return
	}
	c.alerted[code] = now
	c.mu.Unlock()
	log := c.logger(ctx)
	log.ErrorContext(ctx, "commands: Telegram Passport refuses the bot's configuration; alarming the admins", slog.String("error_code", code))
	text := c.cfg.Catalog.Language(c.cfg.Catalog.DefaultLanguage()).Text(i18n.MsgAdminPassportError, map[string]any{"Code": code})
	for _, admin := range c.cfg.Admins {
		if err := c.cfg.Telegram.SendText(ctx, &tg.InputUser{UserID: admin}, text); err != nil {
			log.ErrorContext(ctx, "commands: cannot alarm an admin", slog.Int64("admin_id", admin), slog.String("error", err.Error()))
		}
	}
}

// dateLayouts are the numeric date formats of the catalog's languages
// (time.Format layouts); others get ISO 8601.
var dateLayouts = map[string]string{
	"en":    "02/01/2006",
	"es":    "02/01/2006",
	"pt-BR": "02/01/2006",
	"fr":    "02/01/2006",
	"ar":    "02/01/2006",
	"ru":    "02.01.2006",
	"uk":    "02.01.2006",
	"de":    "02.01.2006",
	"tr":    "02.01.2006",
	"fa":    "2006/01/02",
}

// formatDate writes the UTC date of t as the language does, in digits (no
// month names, so that every language reads it the same way).
func formatDate(lang string, t time.Time) string {
	layout, ok := dateLayouts[lang]
	if !ok {
		layout = time.DateOnly
	}
	return t.UTC().Format(layout)
}
