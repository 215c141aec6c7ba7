package kyctgbot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
)

// Middleware returns a go-telegram/bot middleware (for
// bot.WithMiddlewares) that gives kycbot its updates (a Telegram Passport
// submission, a kycbot command addressed to the bot, a tap on a kycbot
// button: botapi.Take) and passes every other update, untouched, to the
// next handler.
//
// go-telegram/bot's handlers return no error: a kycbot update that Redis
// does not take before the handler's context ends is logged on kycbot's
// logger (its update ID and the error only). An update that does not
// marshal back to JSON goes on to the next handler (logged so too).
func Middleware(kyc *bot.Bot) tgbot.Middleware {
	return func(next tgbot.HandlerFunc) tgbot.HandlerFunc {
		return func(ctx context.Context, b *tgbot.Bot, update *models.Update) {
			raw, err := UpdateJSON(update)
			if err != nil {
				kyc.Logger().WarnContext(ctx, "kyctgbot: an update does not marshal back to JSON; passed on", slog.String("error", err.Error()))
				next(ctx, b, update)
				return
			}
			taken, err := botapi.Take(ctx, kyc, raw)
			if !taken {
				next(ctx, b, update)
				return
			}
			if err != nil {
				kyc.Logger().ErrorContext(ctx, "kyctgbot: kycbot's update was not queued",
					slog.Int64("update_id", update.ID), slog.String("error", err.Error()))
			}
		}
	}
}

// UpdateJSON marshals go-telegram/bot's update back to the Bot API's
// JSON, as Middleware hands it to kycbot.
func UpdateJSON(update *models.Update) ([]byte, error) {
	if update == nil {
		return nil, fmt.Errorf("kyctgbot: no update (nil)")
	}
	raw, err := json.Marshal(update)
	if err != nil {
		return nil, fmt.Errorf("kyctgbot: marshal update %d: %w", update.ID, err)
	}
	return raw, nil
}
