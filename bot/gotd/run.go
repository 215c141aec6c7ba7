package gotd

import (
	"context"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
)

// Run works kycbot's queue with the gotd client api until ctx ends:
// kyc.Run on the client's Transport. Call it once the client is logged in
// as the bot.
func Run(ctx context.Context, kyc *bot.Bot, api *tg.Client) error {
	return kyc.Run(ctx, NewTransport(kyc, api))
}
