// Package handlers holds kycbot's Telegram update handlers: the passport
// handler (steps 5 to 8 of the design), the conversation (steps 1 and 2)
// and the admin commands.
//
// # Passport handler
//
// PassportHandler receives the service message a Telegram app sends when a
// user shares Telegram Passport data (tg.MessageService with
// *tg.MessageActionSecureValuesSentMe) and takes it through the whole
// verification:
//
//  1. duplicate suppression (Store.MarkUpdate, so several instances
//     sharing Redis process each submission once);
//  2. decryption of the credentials with the bot's RSA key
//     (passport.DecryptCredentials); failures are told to the user, audited,
//     and a wrong key alarms the admins;
//  3. the nonce is consumed exactly once for this user (Store.ConsumeNonce);
//     replays, foreign, unknown, expired, superseded and cancelled nonces
//     are refused
//     with a clear message;
//  4. every value is decrypted (Credentials.Open) and every file is
//     downloaded and decrypted with bounded concurrency into temporary
//     files, while a verify.ScanInspector learns each scan's format and
//     size; memory use does not depend on file sizes;
//  5. the level's verify.Checker decides: verified (hook, status, audit,
//     chat and admin notification), rejected (final problem), or fixable
//     (users.setSecureValueErrors pinned to the exact fields and files in
//     the user's language, a fresh request and a chat message listing the
//     problems with a button to try again).
//
// The status and the audit event of the outcome are recorded before the
// user is told. When Redis is unreachable (before the nonce is consumed,
// or while the outcome is recorded) OnNewMessage fails with ErrRetryLater
// and the user is told once that it takes longer: the caller processes
// the same update again later, as the same delivery (ContextWithUpdateID,
// whose dedupe mark it holds), and calls GiveUp when it stops trying.
// When the context ends first (the bot is stopping), the processing stops
// before the user is told anything more and also fails with ErrRetryLater
// (wrapping the context's error): another delivery of the update, once
// the first one's mark is forgotten, processes it in full.
//
// Nothing personal is logged or audited: user IDs, element types, problem
// codes and the SHA-256 of the nonce only.
//
// # Conversation
//
// Commands answers the users' messages in private chats, every text from
// the i18n catalog in the user's language: the one chosen with /language
// (Store.SetLanguage) wins over the Telegram app's lang_code.
//
//   - /start [ref]: a greeting, then what will be asked (the level's
//     scope in words) and why, the cloud password note and a button to
//     the request page of a fresh request (Store.IssueRequest). ref, a
//     t.me deep link payload (A-Z a-z 0-9 _ -, at most 64 characters), is
//     the business's reference for the user: it is remembered
//     (Store.SetRef) and carried by every later request; anything else is
//     ignored.
//   - /verify [level]: the same without the greeting, at the level named
//     (one of CommandsConfig.Levels) or the default one. A user verified
//     at that level is told so, and a final rejection is final; an admin
//     reset (Store.ResetStatus) lets them start again.
//   - /status: where the user stands at each level: nothing yet, a
//     request waiting for their documents, pending, needs fixes,
//     verified or rejected, with the date. No personal data.
//   - /language: one button per language of the catalog, labelled in
//     that language; the tap (OnBotCallbackQuery, data "lang:<tag>") is
//     answered, remembered and confirmed in the new language.
//   - /help, and /cancel, which voids the live request
//     (Store.CancelRequest) so that its nonce is refused afterwards.
//   - Commands may be written /cmd@bot: those for another bot are
//     ignored. Other text and unknown commands get a hint to /help.
//
// SetBotCommands registers the commands with Telegram in every language
// (and the admin commands for the admins: see below).
// OnOutcome reacts to what the request page learned from the Telegram app:
// a cancelled form gets a fresh button, an error a helpful message, and a
// misconfigured bot or public key alarms the admins (at most once per
// CommandsConfig.AlertInterval and error code, per instance).
//
// When Redis is unreachable the user is asked to try again in a few
// minutes and the error is returned. Logs hold user IDs and command names,
// never the text of a message; audit events (request_issued,
// request_cancelled, language_set, outcome_cancel, outcome_error) hold
// codes only.
//
// # Admin commands
//
// Commands answers four more commands, for the Telegram user IDs of
// CommandsConfig.Admins only. Anyone else gets exactly the answer to an
// unknown command (MsgHelpNotUnderstood), so that the commands are not
// revealed, nothing is read or changed, and the attempt is audited as
// admin_denied (the user ID, and the command name in Detail "command").
// Every answer is in the admin's language (the one chosen with /language,
// else the app's); bad arguments (a missing user ID, or one that is not a
// positive integer) get a usage line and are not audited.
//
//   - /kyc_stats: per level and state, the transitions of today (the UTC
//     day of the clock, which should be the store's) and the users now in
//     each state (Store.Stats). Audited as admin_stats.
//   - /kyc_status <user_id>: the user's status at each level: state,
//     updated and created times (UTC), problem codes and ref; the store
//     holds no personal data to show. A user without any status is said
//     to be unknown. Audited as admin_status.
//   - /kyc_reset <user_id> [level]: Store.ResetStatus at the level named
//     (in any case) or at every level the user has a status at, so that
//     /verify offers a request again; the answer lists what was reset,
//     with the state before. One admin_reset event per level reset
//     (Level set, Detail "was" the state), or one with Detail
//     "reset": "none" when there was nothing to reset.
//   - /kyc_delete <user_id>: asks for confirmation with a callback
//     button "Delete user <id>" (data "kycdel:<id>:<unix time>"); nothing
//     is deleted yet. A tap is checked again: from anyone but an admin
//     it is answered as unknown data and audited as admin_denied; older
//     than DeleteConfirmTTL (or without a time) it is answered with
//     MsgAdminDeleteExpired. Otherwise the user's language preference and
//     access hash (Telegram.ResolveUser) are read, Store.DeleteUser
//     erases everything about the user (statuses, requests, nonces,
//     outbox entries, document claims, preferences, access hash), then
//     admin_delete is audited (after DeleteUser, which appends its own
//     "deleted" event), the admin is told how many records went, and the
//     user gets MsgDeletedNotice in their chosen language, else the
//     default one. A tap that finds nothing left (a duplicate) tells the
//     admin so and the user nothing; a notice that cannot be sent is
//     reported to the admin.
//
// The admin events are about the target user (Event.UserID; the admin's
// own ID for admin_stats) with Detail "admin" and "target_user" (IDs).
// Logs hold the admin ID, the command and the target user ID, never the
// text of a message.
//
// SetBotCommands registers, for each admin, the public and the admin
// commands in the catalog's default language in the scope of the
// admin's private chat (bots.setBotCommands, BotCommandScopePeer, with
// the access hash Telegram.ResolveUser finds); a failure is logged and
// the next admin tried. Other users never see the admin commands.
//
// # Telegram
//
// The Telegram client side the handlers need is the small Telegram
// interface; NewTelegram implements it with gotd. Messages sent outside
// an update (outcomes, admin alarms, the deletion notice) have no access
// hash at hand: WithAccessHashes gives NewTelegram where to look them up
// (Telegram.ResolveUser does it on demand).
//
// NewPassport and NewCommands take the same Options; WithClock,
// WithLogger and WithObserver concern both.
//
// # Observing
//
// WithObserver gives the handlers an Observer, told of every submission
// processed to an end (outcome, reason and level: the Submission* and
// Reason* constants), the problem codes of checked submissions, the time
// from the update to the verdict sent, and every command by a bounded
// name (Command* constants for the others). Package bot/metrics turns it
// into Prometheus series; the handlers themselves know nothing of
// Prometheus. Without one, nothing is observed.
//
// # Logs of one update
//
// A logger put in the context with ContextWithLogger is the one the
// handlers log the update with (adding their attributes: user_id,
// msg_id, command, nonce_hash, level, ...), instead of the WithLogger
// one: package bot gives each update a child logger with an update_id,
// so that every record of one update's processing can be found
// together.
package handlers
