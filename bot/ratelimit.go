package bot

import (
	"context"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// sendLimit applies a rate limit (gotd/contrib's ratelimit middleware) to
// the calls that act on chats and users: messages, callback answers,
// Passport errors, commands. Telegram's limits for bots are about those.
// Downloads of scans and the fetching of updates go through unlimited:
// held behind the messages they would only slow every verification down
// under load (a submission's three scans took three tokens from the
// messages), and Telegram answers them with FLOOD_WAIT, which the bot
// waits out, if it ever minds.
type sendLimit struct {
	limit telegram.Middleware
}

// Handle implements telegram.Middleware.
func (s sendLimit) Handle(next tg.Invoker) telegram.InvokeFunc {
	limited := s.limit.Handle(next)
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if unlimited(input) {
			return next.Invoke(ctx, input, output)
		}
		return limited(ctx, input, output)
	}
}

// unlimited reports whether a call goes around the rate limit.
func unlimited(input bin.Encoder) bool {
	switch input.(type) {
	case *tg.UploadGetFileRequest, *tg.UploadGetFileHashesRequest,
		*tg.UploadGetCDNFileRequest, *tg.UploadGetCDNFileHashesRequest, *tg.UploadReuploadCDNFileRequest,
		*tg.UpdatesGetDifferenceRequest, *tg.UpdatesGetChannelDifferenceRequest, *tg.UpdatesGetStateRequest:
		return true
	}
	return false
}
