package sandbox

import (
	"context"
	"unicode/utf8"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// BadgeDescriptionLimit is the longest description of a verification
// badge, in characters: Telegram's bot_verification_description_length_limit.
const BadgeDescriptionLimit = 70

// badgeIcon is the custom emoji ID of the verification icon the sandbox
// shows for every verifier bot (on Telegram, each approved organisation
// has its own).
const badgeIcon int64 = 5_368_324_170_671_202_286

// registerBadges installs bots.setCustomVerification: a bot Telegram
// approved as a verifier (BotSpec.Verifier) marks a user, or takes its
// mark off; any other bot is answered 403 BOT_VERIFIER_FORBIDDEN, a user
// (who would name one of their bots) 400 BOT_INVALID, a description over
// the limit 400 BOT_VERIFICATION_DESCRIPTION_INVALID.
func (sb *Sandbox) registerBadges(d *tg.ServerDispatcher) {
	d.OnBotsSetCustomVerification(func(ctx context.Context, req *tg.BotsSetCustomVerificationRequest) (bool, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return false, err
		}
		if self.bot == nil {
			return false, tgerr.New(400, "BOT_INVALID")
		}
		if !self.bot.verifier {
			return false, tgerr.New(403, "BOT_VERIFIER_FORBIDDEN")
		}
		id, err := sb.resolvePeerLocked(self, req.Peer)
		if err != nil {
			return false, err
		}
		target := sb.w.accounts[id]
		if target == nil || id == self.user.ID {
			return false, tgerr.New(400, "PEER_ID_INVALID")
		}
		if !req.Enabled {
			if target.badge != nil && target.badge.BotID == self.user.ID {
				target.badge = nil
				sb.log.Info(ctx, "Badge removed", log.Int64("bot_id", self.user.ID), log.Int64("user_id", id))
			}
			return true, nil
		}
		desc, _ := req.GetCustomDescription()
		if utf8.RuneCountInString(desc) > BadgeDescriptionLimit || !utf8.ValidString(desc) {
			return false, tgerr.New(400, "BOT_VERIFICATION_DESCRIPTION_INVALID")
		}
		if desc == "" {
			desc = "Verified by " + self.user.FirstName
		}
		target.badge = &tg.BotVerification{BotID: self.user.ID, Icon: badgeIcon, Description: desc}
		sb.log.Info(ctx, "Badge set", log.Int64("bot_id", self.user.ID), log.Int64("user_id", id))
		return true, nil
	})
}
