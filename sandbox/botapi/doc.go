// Package botapi is a Bot API server (the HTTP and JSON API of
// https://core.telegram.org/bots/api) over the sandbox's Telegram, so
// that bots written on the Bot API (telego, go-telegram/bot, plain
// net/http) and kycbot's Bot API transport run against the same world as
// MTProto bots and simulated users.
//
// It is built the way Telegram's own telegram-bot-api server is: a client
// of the MTProto side. For each bot token it is asked about, it logs a
// gotd client in as that bot (auth.importBotAuthorization against the
// servers a sandbox.Remote describes: Sandbox.Remote in the sandbox's
// process, RemoteConfig.Remote in another), receives the bot's MTProto
// updates (with gotd's updates manager, so that a gap is fetched with
// updates.getDifference; a client that stops for good is started again
// and goes on from its saved state), and turns each Bot API call into
// MTProto calls.
// What a bot sees over the Bot API is what the MTProto side did; package
// sandbox knows nothing of it.
//
// New returns the Server, an http.Handler (or run it with Serve). It
// answers /bot<token>/<method> with GET or POST, parameters in the query
// string, a urlencoded or multipart form (objects as JSON text) or a JSON
// body, method names in any case, and /file/bot<token>/<file_path>.
//
// # Methods
//
//   - getMe;
//   - getUpdates (offset, limit, timeout: a long poll; allowed_updates is
//     accepted and ignored): updates are message (text, with
//     bot_command entities; or passport_data) and callback_query, with
//     increasing update_ids from 1; a second call while one waits ends
//     the first with 409, as on Telegram;
//   - setWebhook (url, secret_token, max_connections,
//     drop_pending_updates), deleteWebhook, getWebhookInfo: updates are
//     POSTed as JSON with X-Telegram-Bot-Api-Secret-Token, one at a time
//     in order, and one answered other than 2xx is retried (100 ms,
//     doubling up to 5 s: WithWebhookRetry) until it succeeds or the
//     webhook is removed; getUpdates answers 409 meanwhile;
//   - sendMessage and editMessageText (chat_id, message_id, text,
//     reply_markup with an inline keyboard of url and callback_data
//     buttons), answering the Message; an edit without reply_markup
//     removes the keyboard, as on Telegram;
//   - answerCallbackQuery (callback_query_id, text, show_alert, url,
//     cache_time);
//   - setMyCommands and getMyCommands (commands, language_code, scope
//     default, all_private_chats or chat);
//   - setPassportDataErrors (user_id, errors of every source, base64
//     hashes): users.setSecureValueErrors;
//   - getFile and the file download, which streams upload.getFile 1 MiB a
//     call (so no request crosses a 1 MiB boundary), following
//     FILE_MIGRATE_X to the DC holding the file.
//
// passport_data is built from the MessageActionSecureValuesSentMe the bot
// receives after a user's account.acceptAuthorization: the elements with
// base64 data and hashes, plain phone numbers and emails, PassportFile
// objects, and the encrypted credentials; passport.ParseBotAPI reads it.
// A file_id is minted by the server: an opaque URL-safe string holding the
// file's DC, ID, access hash and size, the same for the same file; its
// file_path is "passport/<file_id>".
//
// # Errors
//
// Failures answer {"ok":false,"error_code":N,"description":"..."} with the
// Bot API's descriptions where the server knows them: 401 Unauthorized
// for an unknown token, 404 Not Found for an unknown method, 400 "Bad
// Request: chat not found", "message is not modified: ...", "message to
// edit not found", "query is too old ...", 409 for getUpdates beside
// another getUpdates or a webhook, 403 "Forbidden: bot was blocked by the
// user" for USER_IS_BLOCKED; other MTProto errors are "Bad Request: " and
// the MTProto error type, as Telegram's server words those. FLOOD_WAIT_X
// from the sandbox (sandbox.Sandbox.FloodWait) is 429 "Too Many Requests:
// retry after X" with parameters.retry_after X; Server.FloodWait makes a
// Bot API method answer so a number of times, for tests of a bot's
// patience, and Server.Calls counts the calls of a method.
//
// # Simplified compared to Telegram
//
//   - Only private chats, text messages, inline keyboards and Passport:
//     no media, groups, inline mode or payments; other methods are 404.
//   - parse_mode is refused (400): send plain text. entities, link
//     previews and reply parameters are ignored.
//   - chat_id must be a user who wrote to the bot (or shared with it)
//     since the server started: the server learns access hashes from the
//     updates, as Telegram's server learns them from the MTProto side;
//     "@username" is not found, as for any private chat.
//   - A bot's updates are kept from its first MTProto login on (its
//     account's whole update log is fetched then), in memory, for the
//     life of the Server; Telegram keeps them for 24 hours.
//   - Webhook URLs may be http on any port (Telegram wants https on 443,
//     80, 88 or 8443); deliveries go one at a time, whatever
//     max_connections says; a method call in a webhook's answer is not
//     run.
//   - getFile does not check that the file exists (the download does).
//   - Scope and language_code of commands are passed to MTProto as is;
//     the sandbox keeps one command list per bot.
//
// Nothing personal is logged (bot IDs, methods, update IDs and error
// codes only), and no token: the server's errors never carry a URL.
package botapi
