package handlers

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

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Admin command names, as registered with SetBotCommands for the admins.
const (
	cmdKycStats  = "kyc_stats"
	cmdKycStatus = "kyc_status"
	cmdKycReset  = "kyc_reset"
	cmdKycDelete = "kyc_delete"
)

// adminCommands lists the admin commands with their descriptions, in menu
// order (after botCommands).
var adminCommands = []command{
	{cmdKycStats, i18n.MsgCommandKycStats},
	{cmdKycStatus, i18n.MsgCommandKycStatus},
	{cmdKycReset, i18n.MsgCommandKycReset},
	{cmdKycDelete, i18n.MsgCommandKycDelete},
}

// deleteData prefixes the callback data of the /kyc_delete confirmation
// button: "kycdel:<user ID>:<unix seconds when it was sent>".
const deleteData = "kycdel:"

// DeleteConfirmTTL is how long the confirmation button of /kyc_delete
// works: a later tap (or one without the time) is answered with
// MsgAdminDeleteExpired and deletes nothing.
const DeleteConfirmTTL = 10 * time.Minute

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

// isAdmin reports whether userID is one of CommandsConfig.Admins.
func (c *Commands) isAdmin(userID int64) bool {
	return userID > 0 && slices.Contains(c.cfg.Admins, userID)
}

// admin runs an admin command. For anyone but an admin it answers as to
// an unknown command, so that the admin commands are not revealed, and
// audits admin_denied.
func (cv *conv) admin(ctx context.Context, name string, args []string) error {
	if !cv.c.isAdmin(cv.userID) {
		cv.denied(ctx, name)
		return cv.text(ctx, i18n.MsgHelpNotUnderstood, nil)
	}
	cv.log = cv.c.logger(ctx).With(slog.Int64("admin_id", cv.userID), slog.String("command", name))
	switch name {
	case cmdKycStats:
		return cv.adminStats(ctx)
	case cmdKycStatus:
		return cv.adminStatus(ctx, args)
	case cmdKycReset:
		return cv.adminReset(ctx, args)
	default:
		return cv.adminDeleteAsk(ctx, args)
	}
}

// denied audits and logs an admin command attempted by someone else.
func (cv *conv) denied(ctx context.Context, name string) {
	cv.audit(ctx, store.Event{Kind: "admin_denied", Detail: map[string]string{"command": name}})
	cv.log.WarnContext(ctx, "commands: admin command refused to a user who is not an admin")
}

// adminAudit appends an admin event: about target (0 for none), with the
// admin and the target in Detail, plus extra details.
func (cv *conv) adminAudit(ctx context.Context, kind string, target int64, level string, extra map[string]string) {
	detail := map[string]string{"admin": strconv.FormatInt(cv.userID, 10)}
	ev := store.Event{Kind: kind, UserID: cv.userID, Level: level, Detail: detail}
	if target > 0 {
		ev.UserID = target
		detail["target_user"] = strconv.FormatInt(target, 10)
	}
	for k, v := range extra {
		detail[k] = v
	}
	if err := cv.c.cfg.Store.Audit(ctx, ev); err != nil {
		cv.log.ErrorContext(ctx, "commands: audit failed", slog.String("kind", kind), slog.String("error", err.Error()))
	}
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
	}
	return state // a state of a newer store
}

// stateOrder is the order of the states in the admins' answers.
var stateOrder = []string{store.StatePending, store.StateNeedsFixes, store.StateVerified, store.StateRejected}

// formatTime writes a time for the admins: UTC, to the minute, the same
// in every language.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// adminStats answers /kyc_stats: the counters of today (the UTC day of
// the clock) and the totals, per level and state.
func (cv *conv) adminStats(ctx context.Context) error {
	st, err := cv.c.cfg.Store.Stats(ctx, cv.c.now())
	if err != nil {
		return cv.failed(ctx, "read the stats", err)
	}
	cv.adminAudit(ctx, "admin_stats", 0, "", nil)
	cv.log.InfoContext(ctx, "commands: admin read the stats")
	return cv.text(ctx, i18n.MsgAdminStats, map[string]any{
		"Day": st.Day, "Today": cv.counters(st.Today), "Total": cv.counters(st.Total),
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
				lines = append(lines, cv.loc.Text(i18n.MsgAdminStatsLine, map[string]any{
					"Level": l, "State": stateName(cv.loc, s), "Count": n,
				}))
			}
		}
	}
	if len(lines) == 0 {
		return cv.loc.Text(i18n.MsgAdminStatsNothing, nil)
	}
	return strings.Join(lines, "\n")
}

// target reads the user ID argument of an admin command: false (and the
// usage line sent) when it is missing or not a positive integer.
func (cv *conv) target(ctx context.Context, args []string, usage string) (int64, bool, error) {
	if len(args) > 0 {
		if id, ok := parseUserID(args[0]); ok {
			cv.log = cv.log.With(slog.Int64("target_user_id", id))
			return id, true, nil
		}
	}
	cv.log.InfoContext(ctx, "commands: admin command without a valid user ID")
	return 0, false, cv.text(ctx, usage, nil)
}

// adminStatus answers /kyc_status <user_id>: the user's status at each
// level (state, times, problem codes, ref).
func (cv *conv) adminStatus(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageStatus)
	if !ok {
		return err
	}
	statuses, err := cv.c.cfg.Store.ListStatuses(ctx, target)
	if err != nil {
		return cv.failed(ctx, "list the statuses", err)
	}
	cv.adminAudit(ctx, "admin_status", target, "", nil)
	cv.log.InfoContext(ctx, "commands: admin read a user's status", slog.Int("statuses", len(statuses)))
	user := strconv.FormatInt(target, 10)
	if len(statuses) == 0 {
		return cv.text(ctx, i18n.MsgAdminStatusUnknown, map[string]any{"User": user})
	}
	lines := make([]string, len(statuses))
	for i, st := range statuses {
		lines[i] = cv.loc.Text(i18n.MsgAdminStatusLine, map[string]any{
			"Level": st.Level, "State": stateName(cv.loc, st.State),
			"Updated": formatTime(st.UpdatedAt), "Created": formatTime(st.CreatedAt),
			"Codes": strings.Join(st.Codes, ", "), "Ref": st.Ref,
		})
	}
	return cv.text(ctx, i18n.MsgAdminStatus, map[string]any{"User": user, "Levels": strings.Join(lines, "\n")})
}

// adminReset answers /kyc_reset <user_id> [level]: the status at the
// level, or at every level the user has, is removed, so that the user can
// verify again.
func (cv *conv) adminReset(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageReset)
	if !ok {
		return err
	}
	level := ""
	if len(args) > 1 {
		if level = args[1]; !levelRE.MatchString(level) {
			cv.log.InfoContext(ctx, "commands: admin named a level outside the level alphabet")
			return cv.text(ctx, i18n.MsgAdminUsageReset, nil)
		}
	}
	statuses, err := cv.c.cfg.Store.ListStatuses(ctx, target)
	if err != nil {
		return cv.failed(ctx, "list the statuses", err)
	}
	todo := statuses
	if level != "" {
		todo = slices.DeleteFunc(slices.Clone(statuses), func(st store.Status) bool { return !strings.EqualFold(st.Level, level) })
	}
	user := strconv.FormatInt(target, 10)
	if len(todo) == 0 {
		cv.adminAudit(ctx, "admin_reset", target, "", map[string]string{"reset": "none"})
		cv.log.InfoContext(ctx, "commands: admin reset: nothing to reset")
		return cv.text(ctx, i18n.MsgAdminResetNothing, map[string]any{"User": user, "Level": level})
	}
	items := make([]string, 0, len(todo))
	for _, st := range todo {
		if err := cv.c.cfg.Store.ResetStatus(ctx, target, st.Level); err != nil {
			return cv.failed(ctx, "reset a status", err)
		}
		cv.adminAudit(ctx, "admin_reset", target, st.Level, map[string]string{"was": st.State})
		cv.log.InfoContext(ctx, "commands: admin reset a status", slog.String("level", st.Level), slog.String("was", st.State))
		items = append(items, cv.loc.Text(i18n.MsgAdminResetItem, map[string]any{"Level": st.Level, "State": stateName(cv.loc, st.State)}))
	}
	return cv.text(ctx, i18n.MsgAdminResetDone, map[string]any{
		"User": user, "Levels": strings.Join(items, cv.loc.Text(i18n.MsgListSeparator, nil)),
	})
}

// adminDeleteAsk answers /kyc_delete <user_id> with what will be erased
// and the confirmation button; nothing is deleted before the tap.
func (cv *conv) adminDeleteAsk(ctx context.Context, args []string) error {
	target, ok, err := cv.target(ctx, args, i18n.MsgAdminUsageDelete)
	if !ok {
		return err
	}
	user := strconv.FormatInt(target, 10)
	cv.log.InfoContext(ctx, "commands: admin asked to delete a user; confirmation sent")
	return cv.send(ctx, cv.loc.Text(i18n.MsgAdminDeleteConfirm, map[string]any{"User": user}), Button{
		Text: cv.loc.Text(i18n.MsgButtonDeleteUser, map[string]any{"User": user}),
		Data: deleteData + user + ":" + strconv.FormatInt(cv.c.now().Unix(), 10),
	})
}

// onDeleteConfirm handles a tap on the confirmation button of /kyc_delete
// (rest is the callback data after deleteData). The tapper must be an
// admin, checked again here: for anyone else the tap is answered as
// unknown data, audited (admin_denied) and nothing else happens. An
// admin's tap older than DeleteConfirmTTL is answered with
// MsgAdminDeleteExpired. Otherwise store.Store.DeleteUser erases the
// user; the admin gets the number of records removed, and the user, when
// there was something to remove, the deletion notice in the language of
// their stored preference (else the default one), sent with the access
// hash read before the deletion erased it. admin_delete is audited after
// the deletion.
func (c *Commands) onDeleteConfirm(ctx context.Context, e tg.Entities, u *tg.UpdateBotCallbackQuery, rest string) error {
	cv := c.newConv(ctx, e, u.UserID)
	if !c.isAdmin(u.UserID) {
		cv.log = cv.log.With(slog.String("command", cmdKycDelete))
		cv.denied(ctx, cmdKycDelete)
		return c.answer(ctx, u.QueryID, "")
	}
	cv.log = c.logger(ctx).With(slog.Int64("admin_id", u.UserID), slog.String("command", cmdKycDelete))
	if err := cv.load(ctx); err != nil {
		return cv.failedCallback(ctx, u.QueryID, "read preferences", err)
	}
	idPart, sentPart, _ := strings.Cut(rest, ":")
	target, ok := parseUserID(idPart)
	if !ok {
		cv.log.InfoContext(ctx, "commands: malformed deletion confirmation ignored", slog.Int("length", len(u.Data)))
		return c.answer(ctx, u.QueryID, "")
	}
	cv.log = cv.log.With(slog.Int64("target_user_id", target))
	user := strconv.FormatInt(target, 10)
	sent, err := strconv.ParseInt(sentPart, 10, 64)
	if age := c.now().Sub(time.Unix(sent, 0)); err != nil || age >= DeleteConfirmTTL || age < -time.Minute {
		cv.log.InfoContext(ctx, "commands: expired deletion confirmation ignored")
		return c.answer(ctx, u.QueryID, cv.loc.Text(i18n.MsgAdminDeleteExpired, map[string]any{"User": user}))
	}

	// What the notice needs and DeleteUser erases: the user's language
	// and access hash.
	prefs, err := c.cfg.Store.Preferences(ctx, target)
	if err != nil {
		return cv.failedCallback(ctx, u.QueryID, "read the user's preferences", err)
	}
	peer, err := c.cfg.Telegram.ResolveUser(ctx, &tg.InputUser{UserID: target})
	if err != nil {
		cv.log.WarnContext(ctx, "commands: cannot look up the user's access hash", slog.String("error", err.Error()))
		peer = &tg.InputUser{UserID: target}
	}
	n, err := c.cfg.Store.DeleteUser(ctx, target)
	if err != nil {
		return cv.failedCallback(ctx, u.QueryID, "delete the user", err)
	}
	cv.adminAudit(ctx, "admin_delete", target, "", map[string]string{"records": strconv.Itoa(n)})
	cv.log.InfoContext(ctx, "commands: admin deleted a user", slog.Int("records", n))
	if err := c.answer(ctx, u.QueryID, ""); err != nil {
		cv.log.WarnContext(ctx, "commands: cannot answer the callback query", slog.String("error", err.Error()))
	}
	if n == 0 {
		return cv.text(ctx, i18n.MsgAdminDeleteNothing, map[string]any{"User": user})
	}
	lang := prefs.Lang
	if lang == "" {
		lang = c.cfg.Catalog.DefaultLanguage()
	}
	text := cv.loc.Text(i18n.MsgAdminDeleteDone, map[string]any{"User": user, "Count": n})
	if err := c.cfg.Telegram.SendText(ctx, peer, c.cfg.Catalog.Language(lang).Text(i18n.MsgDeletedNotice, nil)); err != nil {
		cv.log.WarnContext(ctx, "commands: cannot send the deletion notice to the user", slog.String("error", err.Error()))
		text += "\n" + cv.loc.Text(i18n.MsgAdminDeleteNotTold, map[string]any{"User": user})
	}
	return cv.send(ctx, text)
}

// failedCallback reports a failure of the bot's side while answering a
// callback query: the query is answered with MsgErrorTryLater and the
// error returned.
func (cv *conv) failedCallback(ctx context.Context, queryID int64, what string, err error) error {
	cv.log.ErrorContext(ctx, "commands: "+what+" failed", slog.String("error", err.Error()))
	err = fmt.Errorf("handlers: %s for user %d: %w", what, cv.userID, err)
	if aerr := cv.c.answer(ctx, queryID, cv.loc.Text(i18n.MsgErrorTryLater, nil)); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// setAdminCommands registers, for each admin, the public and the admin
// commands in the catalog's default language in the scope of the admin's
// private chat. Failures are logged, and the next admin is tried.
func (c *Commands) setAdminCommands(ctx context.Context) {
	if len(c.cfg.Admins) == 0 {
		return
	}
	loc := c.cfg.Catalog.Language(c.cfg.Catalog.DefaultLanguage())
	cmds := make([]tg.BotCommand, 0, len(botCommands)+len(adminCommands))
	for _, bc := range botCommands {
		cmds = append(cmds, tg.BotCommand{Command: bc.name, Description: loc.Text(bc.desc, nil)})
	}
	for _, ac := range adminCommands {
		cmds = append(cmds, tg.BotCommand{Command: ac.name, Description: loc.Text(ac.desc, nil)})
	}
	for _, admin := range c.cfg.Admins {
		if admin <= 0 {
			continue
		}
		log := c.logger(ctx).With(slog.Int64("admin_id", admin))
		user, err := c.cfg.Telegram.ResolveUser(ctx, &tg.InputUser{UserID: admin})
		if err != nil {
			log.WarnContext(ctx, "commands: cannot look up an admin's access hash; registering the admin commands without it", slog.String("error", err.Error()))
			user = &tg.InputUser{UserID: admin}
		}
		if err := c.cfg.Telegram.SetUserBotCommands(ctx, user, "", cmds); err != nil {
			log.WarnContext(ctx, "commands: cannot register the admin commands for an admin", slog.String("error", err.Error()))
			continue
		}
		log.DebugContext(ctx, "commands: admin commands set", slog.String("lang", loc.Lang()))
	}
}
