package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Store is what the admin commands read and change in Redis: exactly the
// calls they make. Package bot implements it on the store.
type Store interface {
	Stats(ctx context.Context, day time.Time) (store.Stats, error)
	ListStatuses(ctx context.Context, userID int64) ([]store.Status, error)
	ResetStatus(ctx context.Context, userID int64, level string) error
	// SetStatus records a status (/kyc_revoke: revoked).
	SetStatus(ctx context.Context, st store.Status) error
	// DeleteUser erases everything about the user and returns how many
	// records went.
	DeleteUser(ctx context.Context, userID int64) (int, error)
	Preferences(ctx context.Context, userID int64) (store.Prefs, error)
	// AuditOnce appends ev to the audit trail once per id.
	AuditOnce(ctx context.Context, ev store.Event, id string) error
}

// Telegram is what the admin commands ask of Telegram.
type Telegram interface {
	handlers.Sender
	// AnswerCallback answers a callback query with a short notice shown
	// by the app, or none when text is empty.
	AnswerCallback(ctx context.Context, queryID int64, text string) error
	// Resolve returns u with what the transport needs to reach the user
	// later (the MTProto access hash), read now: DeleteUser erases it.
	Resolve(ctx context.Context, u handlers.User) (handlers.User, error)
	// SetUserCommands registers the command menu of one user's private
	// chat with the bot, for the app language langCode ("" for any).
	SetUserCommands(ctx context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error
}

// DeleteConfirmTTL is how long the confirmation button of /kyc_delete
// works: a later tap (or one without the time) is answered with
// MsgAdminDeleteExpired and deletes nothing.
const DeleteConfirmTTL = 10 * time.Minute

// Config is what New needs. Fields without a default are required.
type Config struct {
	// Store reads and changes the records.
	Store Store
	// Telegram sends the answers.
	Telegram Telegram
	// Catalog holds the texts.
	Catalog *i18n.Catalog
	// Admins are the Telegram user IDs the commands answer (default:
	// nobody; every admin command is then refused).
	Admins []int64
	// Levels are the configured level names, in the order the answers
	// list them.
	Levels []string
	// Titles are the levels' titles by name, for the users' notices; a
	// level without one is named by its name.
	Titles map[string]string
	// NotifyRevoked tells a user whose verification /kyc_revoke revoked
	// (config revocation.notify_user).
	NotifyRevoked bool
	// OnRevoked is called for each level /kyc_revoke revokes, before the
	// status changes (the webhook event): an error leaves the status as
	// it was and fails the command, to be handled again. It may be called
	// again for the same revocation (same Revoked.ID): make it idempotent
	// by it. Default: none.
	OnRevoked func(context.Context, Revoked) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the logs (default: none); a logger in the context
	// (handlers.ContextWithLogger) wins.
	Log *slog.Logger
	// Resend queues the kept webhook event eventID again (/kyc_resend),
	// once per src (the admin's update), and says whose event of which
	// kind it is; an error wrapping store.ErrNotFound when it is not
	// kept. Default: none (no webhook: /kyc_resend finds nothing).
	Resend func(ctx context.Context, eventID, src string) (userID int64, kind string, err error)
}

// Revoked is a verification an admin revoked with /kyc_revoke.
type Revoked struct {
	// ID names the revocation: the update that carried the command, and
	// the level (the same revocation handled again has the same ID).
	ID     string
	UserID int64
	Level  string
	// Ref is the business's reference of the verification.
	Ref string
	// Reason is the admin's reason code (such as "document_stolen").
	Reason string
	// Admin is the user ID of the admin who revoked it.
	Admin int64
	// At is when it was revoked.
	At time.Time
}

// Commands are the admin commands. It is safe for concurrent use.
type Commands struct{ cfg Config }

// New returns the admin commands; it fails when cfg lacks something
// required.
func New(cfg Config) (*Commands, error) {
	if err := handlers.Require("admin", handlers.Setting{Name: "Store", Set: cfg.Store != nil},
		handlers.Setting{Name: "Telegram", Set: cfg.Telegram != nil}, handlers.Setting{Name: "Catalog", Set: cfg.Catalog != nil}); err != nil {
		return nil, err
	}
	cfg.Admins = slices.Clone(cfg.Admins)
	cfg.Levels = slices.Clone(cfg.Levels)
	cfg.Titles = maps.Clone(cfg.Titles)
	handlers.Defaults(&cfg.Now, &cfg.Log, nil)
	return &Commands{cfg: cfg}, nil
}

// Admin command names.
const (
	cmdKycStats  = "kyc_stats"
	cmdKycStatus = "kyc_status"
	cmdKycReset  = "kyc_reset"
	cmdKycDelete = "kyc_delete"
	cmdKycRevoke = "kyc_revoke"
	cmdKycResend = "kyc_resend"
)

// commands lists the admin commands with their descriptions, in menu
// order.
var commands = []struct{ name, desc string }{
	{cmdKycStats, i18n.MsgCommandKycStats},
	{cmdKycStatus, i18n.MsgCommandKycStatus},
	{cmdKycReset, i18n.MsgCommandKycReset},
	{cmdKycDelete, i18n.MsgCommandKycDelete},
	{cmdKycRevoke, i18n.MsgCommandKycRevoke},
	{cmdKycResend, i18n.MsgCommandKycResend},
}

// Callback data of the /kyc_delete confirmation button:
// "kyc:del:<user ID>:<unix seconds when it was sent>" (legacyDeleteData
// before kycbot namespaced its buttons' data).
const (
	deleteData       = "kyc:del:"
	legacyDeleteData = "kycdel:"
)

// Handles reports whether name is an admin command.
func (c *Commands) Handles(name string) bool {
	return slices.ContainsFunc(commands, func(cmd struct{ name, desc string }) bool { return cmd.name == name })
}

// HandlesData reports whether data is the data of an admin button.
func (c *Commands) HandlesData(data string) bool {
	return strings.HasPrefix(data, deleteData) || strings.HasPrefix(data, legacyDeleteData)
}

// userIDRE is a Telegram user ID as an admin writes it: digits only.
var userIDRE = regexp.MustCompile(`^[0-9]{1,19}$`)

// levelRE is the alphabet of level names (as the store checks them).
var levelRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// parseUserID reads a positive decimal user ID.
func parseUserID(s string) (int64, bool) {
	if !userIDRE.MatchString(s) {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// isAdmin reports whether userID is one of Config.Admins.
func (c *Commands) isAdmin(userID int64) bool {
	return userID > 0 && slices.Contains(c.cfg.Admins, userID)
}

// conv is one exchange with an admin (or someone trying the commands).
type conv struct {
	c *Commands
	*handlers.Exchange
}

func (c *Commands) newConv(ctx context.Context, id string, user handlers.User) *conv {
	return &conv{c: c, Exchange: handlers.NewExchange(ctx, "admin", id, user, c.cfg.Telegram, c.cfg.Catalog, c.cfg.Log)}
}

// load reads the admin's language preference: the one chosen with
// /language wins over the app's.
func (cv *conv) load(ctx context.Context) error { return cv.LoadPrefs(ctx, cv.c.cfg.Store.Preferences) }

// audit appends an admin event once per update (and level): about target
// (0 for the admin), the admin as its actor, with extra details. The
// store names both by pseudonyms that erasure unlinks; no user ID goes in
// Detail. A failure is logged.
func (cv *conv) audit(ctx context.Context, kind string, target int64, level string, extra map[string]string) {
	ev := store.Event{Kind: kind, UserID: cv.User.ID, Actor: cv.User.ID, Level: level, Detail: extra}
	if target > 0 {
		ev.UserID = target
	}
	if err := cv.c.cfg.Store.AuditOnce(ctx, ev, kind+":"+level+":"+cv.ID); err != nil {
		cv.Log.ErrorContext(ctx, "admin: audit failed", slog.String("kind", kind), slog.String("error", err.Error()))
	}
}

// denied audits and logs an admin command attempted by someone else.
func (cv *conv) denied(ctx context.Context, name string) {
	ev := store.Event{Kind: "admin_denied", UserID: cv.User.ID, Detail: map[string]string{"command": name}}
	if err := cv.c.cfg.Store.AuditOnce(ctx, ev, "admin_denied:"+cv.ID); err != nil {
		cv.Log.ErrorContext(ctx, "admin: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
	cv.Log.WarnContext(ctx, "admin: admin command refused to a user who is not an admin", slog.String("command", name))
}

// Command runs an admin command. For anyone but an admin it answers
// exactly as to an unknown command (MsgHelpNotUnderstood), so that the
// commands are not revealed, reads and changes nothing, and audits
// admin_denied. Answers are in the admin's language; bad arguments get a
// usage line and are not audited.
func (c *Commands) Command(ctx context.Context, m handlers.TextMessage, name string, args []string) error {
	cv := c.newConv(ctx, m.ID, m.From)
	if !c.isAdmin(m.From.ID) {
		cv.denied(ctx, name)
		return cv.Text(ctx, i18n.MsgHelpNotUnderstood, nil)
	}
	cv.Log = handlers.LoggerFromContext(ctx, c.cfg.Log).With(slog.Int64("admin_id", m.From.ID), slog.String("command", name))
	if err := cv.load(ctx); err != nil {
		return cv.Failed(ctx, "read preferences", err)
	}
	switch name {
	case cmdKycStats:
		return cv.stats(ctx)
	case cmdKycStatus:
		return cv.status(ctx, args)
	case cmdKycReset:
		return cv.reset(ctx, args)
	case cmdKycDelete:
		return cv.deleteAsk(ctx, args)
	case cmdKycRevoke:
		return cv.revoke(ctx, args)
	case cmdKycResend:
		return cv.resend(ctx, args)
	}
	return fmt.Errorf("admin: unknown command %q", name)
}

// stateName is a state in words, for the admins.
func stateName(loc *i18n.Localizer, state string) string {
	switch state {
	case store.StatePending:
		return loc.Text(i18n.MsgAdminStatePending, nil)
	case store.StateNeedsFixes:
		return loc.Text(i18n.MsgAdminStateNeedsFixes, nil)
	case store.StateVerified:
		return loc.Text(i18n.MsgAdminStateVerified, nil)
	case store.StateRejected:
		return loc.Text(i18n.MsgAdminStateRejected, nil)
	case store.StateReview:
		return loc.Text(i18n.MsgAdminStateReview, nil)
	case store.StateRevoked:
		return loc.Text(i18n.MsgAdminStateRevoked, nil)
	case store.StateExpired:
		return loc.Text(i18n.MsgAdminStateExpired, nil)
	}
	return state // a state of a newer store
}

// stateOrder is the order of the states in the admins' answers.
var stateOrder = []string{store.StatePending, store.StateNeedsFixes, store.StateReview, store.StateVerified, store.StateRejected,
	store.StateRevoked, store.StateExpired}

// stats answers /kyc_stats: the counters of today (the UTC day of the
// clock) and the totals, per level and state.
func (cv *conv) stats(ctx context.Context) error {
	st, err := cv.c.cfg.Store.Stats(ctx, cv.c.cfg.Now())
	if err != nil {
		return cv.Failed(ctx, "read the stats", err)
	}
	cv.audit(ctx, "admin_stats", 0, "", nil)
	cv.Log.InfoContext(ctx, "admin: stats read")
	return cv.Text(ctx, i18n.MsgAdminStats, map[string]any{
		"Day": cv.Loc().Day(st.Day), "Today": cv.counters(st.Today), "Total": cv.counters(st.Total),
	})
}

// counters writes counters by level and state, one per line: the
// configured levels first, in their order, then any other in name order;
// the states in stateOrder, then any other in name order.
func (cv *conv) counters(m map[string]map[string]int) string {
	levels := slices.Clone(cv.c.cfg.Levels)
	var others []string
	for l := range m {
		if !slices.Contains(levels, l) {
			others = append(others, l)
		}
	}
	slices.Sort(others)
	var lines []string
	for _, l := range append(levels, others...) {
		byState := m[l]
		states := slices.Clone(stateOrder)
		var extra []string
		for s := range byState {
			if !slices.Contains(states, s) {
				extra = append(extra, s)
			}
		}
		slices.Sort(extra)
		for _, s := range append(states, extra...) {
			if n := byState[s]; n != 0 {
				lines = append(lines, cv.Loc().Text(i18n.MsgAdminStatsLine, map[string]any{
					"Level": l, "State": stateName(cv.Loc(), s), "Count": n,
				}))
			}
		}
	}
	if len(lines) == 0 {
		return cv.Loc().Text(i18n.MsgAdminStatsNothing, nil)
	}
	return strings.Join(lines, "\n")
}

// target reads the user ID argument of an admin command: false (and the
// usage line sent) when it is missing or not a positive integer.
func (cv *conv) target(ctx context.Context, args []string, usage string) (int64, bool, error) {
	if len(args) > 0 {
		if id, ok := parseUserID(args[0]); ok {
			cv.Log = cv.Log.With(slog.Int64("target_user_id", id))
			return id, true, nil
		}
	}
	cv.Log.InfoContext(ctx, "admin: command without a valid user ID")
	return 0, false, cv.Text(ctx, usage, nil)
}

// status answers /kyc_status <user_id>: the user's status at each level
// (state, times, problem codes, ref).
func (cv *conv) status(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageStatus)
	if !ok {
		return err
	}
	statuses, err := cv.c.cfg.Store.ListStatuses(ctx, target)
	if err != nil {
		return cv.Failed(ctx, "list the statuses", err)
	}
	cv.audit(ctx, "admin_status", target, "", nil)
	cv.Log.InfoContext(ctx, "admin: a user's status read", slog.Int("statuses", len(statuses)))
	user := strconv.FormatInt(target, 10)
	if len(statuses) == 0 {
		return cv.Text(ctx, i18n.MsgAdminStatusUnknown, map[string]any{"User": user})
	}
	lines := make([]string, len(statuses))
	for i, st := range statuses {
		lines[i] = cv.Loc().Text(i18n.MsgAdminStatusLine, map[string]any{
			"Level": st.Level, "State": stateName(cv.Loc(), st.State),
			"Updated": cv.Loc().DateTime(st.UpdatedAt), "Created": cv.Loc().DateTime(st.CreatedAt),
			"Codes": strings.Join(st.Codes, ", "), "Ref": st.Ref,
		})
	}
	return cv.Text(ctx, i18n.MsgAdminStatus, map[string]any{"User": user, "Levels": strings.Join(lines, "\n")})
}

// reset answers /kyc_reset <user_id> [level]: the status at the level, or
// at every level the user has, is removed, so that the user can verify
// again.
func (cv *conv) reset(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageReset)
	if !ok {
		return err
	}
	level := ""
	if len(args) > 1 {
		if level = args[1]; !levelRE.MatchString(level) {
			cv.Log.InfoContext(ctx, "admin: a level outside the level alphabet")
			return cv.Text(ctx, i18n.MsgAdminUsageReset, nil)
		}
	}
	statuses, err := cv.c.cfg.Store.ListStatuses(ctx, target)
	if err != nil {
		return cv.Failed(ctx, "list the statuses", err)
	}
	todo := statuses
	if level != "" {
		todo = slices.DeleteFunc(slices.Clone(statuses), func(st store.Status) bool { return !strings.EqualFold(st.Level, level) })
	}
	user := strconv.FormatInt(target, 10)
	// Both answers have one purpose: the same /kyc_reset handled again
	// finds nothing left to reset, and its "nothing to reset" must not
	// follow the "reset" the admin saw.
	if len(todo) == 0 {
		cv.audit(ctx, "admin_reset", target, "", map[string]string{"reset": "none"})
		cv.Log.InfoContext(ctx, "admin: reset: nothing to reset")
		return cv.Reply.Send(ctx, cmdKycReset, cv.Loc().Text(i18n.MsgAdminResetNothing, map[string]any{"User": user, "Level": level}))
	}
	items := make([]string, 0, len(todo))
	for _, st := range todo {
		if err := cv.c.cfg.Store.ResetStatus(ctx, target, st.Level); err != nil {
			return cv.Failed(ctx, "reset a status", err)
		}
		cv.audit(ctx, "admin_reset", target, st.Level, map[string]string{"was": st.State})
		cv.Log.InfoContext(ctx, "admin: a status reset", slog.String("level", st.Level), slog.String("was", st.State))
		items = append(items, cv.Loc().Text(i18n.MsgAdminResetItem, map[string]any{"Level": st.Level, "State": stateName(cv.Loc(), st.State)}))
	}
	return cv.Reply.Send(ctx, cmdKycReset, cv.Loc().Text(i18n.MsgAdminResetDone, map[string]any{
		"User": user, "Levels": strings.Join(items, cv.Loc().Text(i18n.MsgListSeparator, nil)),
	}))
}

// reasonRE is the alphabet of a revocation's reason: a short code, never
// free text (it goes to the audit trail and the webhook, which hold no
// personal data).
var reasonRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// revoke answers /kyc_revoke <user_id> <reason>: every verified status of
// the user becomes revoked, with the reason as its code; OnRevoked runs
// first for each (the webhook event), each is audited (admin_revoke),
// and the user is told when Config.NotifyRevoked says so.
func (cv *conv) revoke(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageRevoke)
	if !ok {
		return err
	}
	if len(args) != 2 || !reasonRE.MatchString(args[1]) {
		cv.Log.InfoContext(ctx, "admin: revoke without a valid reason")
		return cv.Text(ctx, i18n.MsgAdminUsageRevoke, nil)
	}
	reason := args[1]
	statuses, err := cv.c.cfg.Store.ListStatuses(ctx, target)
	if err != nil {
		return cv.Failed(ctx, "list the statuses", err)
	}
	todo := slices.DeleteFunc(slices.Clone(statuses), func(st store.Status) bool { return st.State != store.StateVerified })
	user := strconv.FormatInt(target, 10)
	// Both answers have one purpose, as for /kyc_reset.
	if len(todo) == 0 {
		cv.audit(ctx, "admin_revoke", target, "", map[string]string{"revoked": "none"})
		cv.Log.InfoContext(ctx, "admin: revoke: nothing to revoke")
		return cv.Reply.Send(ctx, cmdKycRevoke, cv.Loc().Text(i18n.MsgAdminRevokeNothing, map[string]any{"User": user}))
	}
	now := cv.c.cfg.Now()
	levels := make([]string, 0, len(todo))
	for _, st := range todo {
		if cv.c.cfg.OnRevoked != nil {
			r := Revoked{ID: cv.ID + ":" + st.Level, UserID: target, Level: st.Level, Ref: st.Ref, Reason: reason, Admin: cv.User.ID, At: now}
			if err := cv.c.cfg.OnRevoked(ctx, r); err != nil {
				return cv.Failed(ctx, "queue the revocation's event", err)
			}
		}
		if err := cv.c.cfg.Store.SetStatus(ctx, store.Status{UserID: target, Level: st.Level, State: store.StateRevoked, Ref: st.Ref, Codes: []string{reason}}); err != nil {
			return cv.Failed(ctx, "revoke a status", err)
		}
		cv.audit(ctx, "admin_revoke", target, st.Level, map[string]string{"reason": reason})
		cv.Log.InfoContext(ctx, "admin: a verification revoked", slog.String("level", st.Level), slog.String("reason", reason))
		levels = append(levels, cv.title(st.Level))
	}
	data := map[string]any{"User": user, "Levels": strings.Join(levels, cv.Loc().Text(i18n.MsgListSeparator, nil)), "Reason": reason}
	if cv.c.cfg.NotifyRevoked && cv.tellRevoked(ctx, target, todo) {
		data["Told"] = "yes"
	}
	return cv.Reply.Send(ctx, cmdKycRevoke, cv.Loc().Text(i18n.MsgAdminRevokeDone, data))
}

// tellRevoked tells the user, in their language, that their verification
// at each level of revoked was revoked; it reports whether every notice
// went out.
func (cv *conv) tellRevoked(ctx context.Context, target int64, revoked []store.Status) bool {
	c := cv.c
	r, err := handlers.FindRecipient(ctx, c.cfg.Store.Preferences, c.cfg.Telegram, c.cfg.Catalog, target)
	if err != nil {
		cv.Log.WarnContext(ctx, "admin: the user is not told of the revocation", slog.String("error", err.Error()))
		return false
	}
	told := true
	for _, st := range revoked {
		m := handlers.Message{Text: r.Loc.Text(i18n.MsgRevokedNotice, map[string]any{"Level": cv.title(st.Level)}), Key: cv.ID + ":revoked_notice:" + st.Level}
		if err := c.cfg.Telegram.Send(ctx, r.To, m); err != nil {
			cv.Log.WarnContext(ctx, "admin: cannot tell the user of the revocation", slog.String("error", err.Error()))
			told = false
		}
	}
	return told
}

// title is a level's title, or its name (handlers.Title).
func (cv *conv) title(level string) string { return handlers.Title(cv.c.cfg.Titles, level) }

// eventIDRE is a webhook event ID as the store accepts it.
var eventIDRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// resend answers /kyc_resend <event_id>: the kept event is queued for the
// webhook again (once per update), audited about its user with the admin
// as actor.
func (cv *conv) resend(ctx context.Context, args []string) error {
	if len(args) == 0 || !eventIDRE.MatchString(args[0]) {
		cv.Log.InfoContext(ctx, "admin: /kyc_resend without a valid event ID")
		return cv.Text(ctx, i18n.MsgAdminUsageResend, nil)
	}
	id := args[0]
	cv.Log = cv.Log.With(slog.String("event_id", id))
	var (
		user int64
		kind string
		err  = fmt.Errorf("no webhook: %w", store.ErrNotFound)
	)
	if cv.c.cfg.Resend != nil {
		user, kind, err = cv.c.cfg.Resend(ctx, id, "admin_resend:"+cv.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		cv.Log.InfoContext(ctx, "admin: /kyc_resend of an event not kept")
		return cv.Reply.Send(ctx, cmdKycResend, cv.Loc().Text(i18n.MsgAdminResendUnknown, map[string]any{"Event": id}))
	}
	if err != nil {
		return cv.Failed(ctx, "resend an event", err)
	}
	cv.audit(ctx, "admin_resend", user, "", map[string]string{"event_id": id, "kind": kind})
	cv.Log.InfoContext(ctx, "admin: a webhook event queued again", slog.Int64("target_user_id", user))
	return cv.Reply.Send(ctx, cmdKycResend, cv.Loc().Text(i18n.MsgAdminResendDone, map[string]any{
		"Event": id, "Kind": kind, "User": strconv.FormatInt(user, 10)}))
}

// deleteAsk answers /kyc_delete <user_id> with what will be erased and
// the confirmation button; nothing is deleted before the tap.
func (cv *conv) deleteAsk(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageDelete)
	if !ok {
		return err
	}
	user := strconv.FormatInt(target, 10)
	cv.Log.InfoContext(ctx, "admin: deletion asked; confirmation sent")
	return cv.Reply.Send(ctx, i18n.MsgAdminDeleteConfirm, cv.Loc().Text(i18n.MsgAdminDeleteConfirm, map[string]any{"User": user}),
		[]handlers.Button{{
			Text: cv.Loc().Text(i18n.MsgButtonDeleteUser, map[string]any{"User": user}),
			Data: deleteData + user + ":" + strconv.FormatInt(cv.c.cfg.Now().Unix(), 10),
		}})
}

// Callback handles a tap on the confirmation button of /kyc_delete. The
// tapper must be an admin, checked again here: for anyone else the tap is
// answered as unknown data, audited (admin_denied) and nothing else
// happens. An admin's tap older than DeleteConfirmTTL is answered with
// MsgAdminDeleteExpired. Otherwise Store.DeleteUser erases the user; the
// admin gets the number of records removed, and the user, when there was
// something to remove, the deletion notice in the language of their stored
// preference (else the default one), sent with what Telegram.Resolve read
// before the deletion erased it. admin_delete is audited after the
// deletion.
func (c *Commands) Callback(ctx context.Context, q handlers.CallbackQuery) error {
	cv := c.newConv(ctx, q.ID, q.From)
	if !c.isAdmin(q.From.ID) {
		cv.denied(ctx, cmdKycDelete)
		return c.answer(ctx, q.QueryID, "")
	}
	rest, ok := strings.CutPrefix(q.Data, deleteData)
	if !ok {
		rest, _ = strings.CutPrefix(q.Data, legacyDeleteData)
	}
	cv.Log = handlers.LoggerFromContext(ctx, c.cfg.Log).With(slog.Int64("admin_id", q.From.ID), slog.String("command", cmdKycDelete))
	if err := cv.load(ctx); err != nil {
		return cv.failedCallback(ctx, q.QueryID, "read preferences", err)
	}
	idPart, sentPart, _ := strings.Cut(rest, ":")
	target, ok := parseUserID(idPart)
	if !ok {
		cv.Log.InfoContext(ctx, "admin: malformed deletion confirmation ignored", slog.Int("length", len(q.Data)))
		return c.answer(ctx, q.QueryID, "")
	}
	cv.Log = cv.Log.With(slog.Int64("target_user_id", target))
	user := strconv.FormatInt(target, 10)
	sent, err := strconv.ParseInt(sentPart, 10, 64)
	if age := c.cfg.Now().Sub(time.Unix(sent, 0)); err != nil || age >= DeleteConfirmTTL || age < -time.Minute {
		cv.Log.InfoContext(ctx, "admin: expired deletion confirmation ignored")
		return c.answer(ctx, q.QueryID, cv.Loc().Text(i18n.MsgAdminDeleteExpired, map[string]any{"User": user}))
	}

	// What the notice needs and DeleteUser erases: the user's language
	// and what the transport needs to reach them.
	r, err := handlers.FindRecipient(ctx, c.cfg.Store.Preferences, c.cfg.Telegram, c.cfg.Catalog, target)
	if err != nil {
		return cv.failedCallback(ctx, q.QueryID, "read the user's preferences", err)
	}
	n, err := c.cfg.Store.DeleteUser(ctx, target)
	if err != nil {
		return cv.failedCallback(ctx, q.QueryID, "delete the user", err)
	}
	// About the admin, not the target: an event about the target would
	// give them an audit key again, linking it.
	cv.audit(ctx, "admin_delete", 0, "", map[string]string{"records": strconv.Itoa(n)})
	cv.Log.InfoContext(ctx, "admin: a user deleted", slog.Int("records", n))
	if err := c.answer(ctx, q.QueryID, ""); err != nil {
		cv.Log.WarnContext(ctx, "admin: cannot answer the callback query", slog.String("error", err.Error()))
	}
	// Both answers have one purpose: the same tap handled again finds
	// nothing left to delete, and its "nothing was stored" must not follow
	// the "deleted" the admin saw.
	if n == 0 {
		return cv.Reply.Send(ctx, cmdKycDelete, cv.Loc().Text(i18n.MsgAdminDeleteNothing, map[string]any{"User": user}))
	}
	text := cv.Loc().Text(i18n.MsgAdminDeleteDone, map[string]any{"User": user, "Count": n})
	notice := handlers.Message{Text: r.Loc.Text(i18n.MsgDeletedNotice, nil), Key: q.ID + ":deleted_notice"}
	if err := c.cfg.Telegram.Send(ctx, r.To, notice); err != nil {
		cv.Log.WarnContext(ctx, "admin: cannot send the deletion notice to the user", slog.String("error", err.Error()))
		text += "\n" + cv.Loc().Text(i18n.MsgAdminDeleteNotTold, map[string]any{"User": user})
	}
	return cv.Reply.Send(ctx, cmdKycDelete, text)
}

func (c *Commands) answer(ctx context.Context, queryID int64, text string) error {
	if err := c.cfg.Telegram.AnswerCallback(ctx, queryID, text); err != nil {
		return fmt.Errorf("admin: answer callback query: %w", err)
	}
	return nil
}

// failedCallback reports a failure of the bot's side while answering a
// callback query: the query is answered with MsgErrorTryLater and the
// error returned.
func (cv *conv) failedCallback(ctx context.Context, queryID int64, what string, err error) error {
	cv.Log.ErrorContext(ctx, "admin: "+what+" failed", slog.String("error", err.Error()))
	err = fmt.Errorf("admin: %s for user %d: %w", what, cv.User.ID, err)
	if aerr := cv.c.answer(ctx, queryID, cv.Loc().Text(i18n.MsgErrorTryLater, nil)); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// SetCommands registers, for each admin, the public commands (public, in
// the catalog's default language) and the admin commands in the scope of
// the admin's private chat, where Telegram prefers them to the default
// menu. Other users never see the admin commands. Failures are logged,
// and the next admin is tried.
func (c *Commands) SetCommands(ctx context.Context, public []handlers.BotCommand) {
	if len(c.cfg.Admins) == 0 {
		return
	}
	loc := c.cfg.Catalog.Language(c.cfg.Catalog.DefaultLanguage())
	cmds := slices.Clone(public)
	for _, ac := range commands {
		cmds = append(cmds, handlers.BotCommand{Command: ac.name, Description: loc.Text(ac.desc, nil)})
	}
	for _, admin := range c.cfg.Admins {
		if admin <= 0 {
			continue
		}
		log := handlers.LoggerFromContext(ctx, c.cfg.Log).With(slog.Int64("admin_id", admin))
		user, err := c.cfg.Telegram.Resolve(ctx, handlers.User{ID: admin})
		if err != nil {
			log.WarnContext(ctx, "admin: cannot look up how to reach an admin; registering the admin commands without it", slog.String("error", err.Error()))
			user = handlers.User{ID: admin}
		}
		if err := c.cfg.Telegram.SetUserCommands(ctx, user, "", cmds); err != nil {
			log.WarnContext(ctx, "admin: cannot register the admin commands for an admin", slog.String("error", err.Error()))
			continue
		}
		log.DebugContext(ctx, "admin: admin commands set", slog.String("lang", loc.Lang()))
	}
}

// Names returns the names of the admin commands, in menu order.
func Names() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}
