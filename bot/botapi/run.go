package botapi

import (
	"context"

	"github.com/kycbot/kycbot/bot"
)

// Run works kycbot's queue with the Bot API client c until ctx ends:
// kyc.Run on the client's Transport. Run it beside the receiving (Webhook
// or Poll), in one instance or several.
func Run(ctx context.Context, kyc *bot.Bot, c *Client) error {
	return kyc.Run(ctx, NewTransport(kyc, c))
}
