// Package runner is the standalone kycbot: one instance of `kycbot run`.
// New prepares the bot of a config (package bot, with WithEverything: the
// whole bot is kycbot's), Run runs it against Telegram until its context
// ends.
//
// Any number of instances share one Redis. Each holds its instance name
// (a lease), logs in once with its own Telegram authorization, kept
// sealed in Redis under that name, and works the queue of updates with
// the gotd transport (package bot/gotd). One of them at a time holds the
// receiver's lease and runs gotd's updates manager on the bot's shared
// updates state, putting kycbot's updates in the queue; when it stops,
// another takes the lease within ReceiverLease and catches up. The gotd
// client has gotd/contrib's flood waiter (FLOOD_WAIT waited out in the
// calling goroutine, up to MaxFloodWait), a rate limit on the calls that
// act on chats, the bot's metrics middleware, and a hook that hands the
// updates of its own calls to the updates manager.
//
// With telegram.transport botapi there is no MTProto client and no
// authorization of the instance's own: the workers run on the Bot API
// transport (package bot/botapi) with the bot token alone. With
// telegram.bot_api.receive polling the holder of the same receiver's
// lease runs botapi.Poll (it deletes a webhook set before); with webhook
// every instance serves botapi.Webhook on web.listen at
// <web.public_url>/telegram/<path>, and sets the webhook when it starts
// (never deleting it), with a secret token: path and secret are derived
// from the bot token, never logged. A 429 is waited out up to
// MaxFloodWait, as FLOOD_WAIT is on MTProto, and the chat calls have the
// same rate limit.
//
// Run also serves the request page (web.listen, or Options.Listen) and
// the health checks and metrics on web.ops_listen (127.0.0.1:9090 by
// default; with ops_listen public, on web.listen). On
// shutdown the receiver hands its lease over, the work in progress
// drains, and what the shutdown timeout cuts short is handed over to the
// other instances. docs/operations.md tells how to run instances;
// docs/architecture.md how an update flows.
package runner
