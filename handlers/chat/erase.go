package chat

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// eraseAsk answers /delete_my_data with what will be erased and two
// buttons: erase, and keep. Nothing is erased before the tap.
func (cv *conv) eraseAsk(ctx context.Context) error {
	cv.Log.InfoContext(ctx, "chat: erasure asked; confirmation sent")
	sent := strconv.FormatInt(cv.c.cfg.Now().Unix(), 10)
	return cv.say(ctx, i18n.MsgEraseConfirm, nil, []handlers.Button{
		{Text: cv.Loc().Text(i18n.MsgButtonEraseYes, nil), Data: eraseData + sent},
		{Text: cv.Loc().Text(i18n.MsgButtonEraseNo, nil), Data: eraseKeep},
	})
}

// eraseTap handles a tap on a button of /delete_my_data. Keep: the user
// is told nothing was erased. Erase, within DeleteConfirmTTL: the store
// erases what the admin's /kyc_delete erases (Store.DeleteUser, which
// audits "deleted" about the user's pseudonym and then unlinks the
// user's events), "self_delete" is audited about nobody (an event about
// the user would link them again) with the number of records, and the
// user is told. A tap handled twice finds nothing left to erase: both
// answers have one purpose, so that its "nothing was stored" does not
// follow the "erased" the user saw. An older tap is answered with
// MsgEraseExpired.
func (cv *conv) eraseTap(ctx context.Context, q handlers.CallbackQuery) error {
	c := cv.c
	cv.Log = cv.Log.With(slog.String("command", CommandDeleteMyData))
	if err := cv.load(ctx); err != nil {
		return cv.failedTap(ctx, q, "read preferences", err)
	}
	rest := strings.TrimPrefix(q.Data, eraseData)
	if q.Data == eraseKeep {
		cv.Log.InfoContext(ctx, "chat: erasure declined")
		cv.answerTap(ctx, q, "")
		return cv.say(ctx, i18n.MsgEraseKept, nil)
	}
	sent, err := strconv.ParseInt(rest, 10, 64)
	if age := c.cfg.Now().Sub(time.Unix(sent, 0)); err != nil || age >= DeleteConfirmTTL || age < -time.Minute {
		cv.Log.InfoContext(ctx, "chat: expired or malformed erasure confirmation ignored")
		return c.answer(ctx, q.QueryID, cv.text(i18n.MsgEraseExpired, nil))
	}
	n, err := c.cfg.Store.DeleteUser(ctx, cv.User.ID)
	if err != nil {
		return cv.failedTap(ctx, q, "erase the user's data", err)
	}
	cv.auditAs(ctx, store.Event{Kind: "self_delete", Detail: map[string]string{"records": strconv.Itoa(n)}})
	cv.Log.InfoContext(ctx, "chat: the user erased their data", slog.Int("records", n))
	cv.answerTap(ctx, q, "")
	id := i18n.MsgEraseDone
	if n == 0 {
		id = i18n.MsgEraseNothing
	}
	return cv.Reply.Send(ctx, CommandDeleteMyData, cv.text(id, nil))
}

// answerTap answers a callback query; a failure is only logged (the
// answer the user needs is the message that follows).
func (cv *conv) answerTap(ctx context.Context, q handlers.CallbackQuery, text string) {
	if err := cv.c.answer(ctx, q.QueryID, text); err != nil {
		cv.Log.WarnContext(ctx, "chat: cannot answer the callback query", slog.String("error", err.Error()))
	}
}

// failedTap answers the callback query and reports the failure as Failed
// does.
func (cv *conv) failedTap(ctx context.Context, q handlers.CallbackQuery, what string, err error) error {
	cv.answerTap(ctx, q, "")
	return cv.Failed(ctx, what, err)
}
