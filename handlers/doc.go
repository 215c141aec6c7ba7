// Package handlers holds kycbot's Telegram update handlers: the passport
// handler (steps 5 to 8 of the design), the conversation (steps 1 and 2)
// and, later, the admin commands.
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
// SetBotCommands registers the commands with Telegram in every language.
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
// # Telegram
//
// The Telegram client side the handlers need is the small Telegram
// interface; NewTelegram implements it with gotd. Messages sent outside
// an update (outcomes, admin alarms) have no access hash at hand:
// WithAccessHashes gives NewTelegram where to look them up.
//
// NewPassport and NewCommands take the same Options; WithClock and
// WithLogger concern both.
package handlers
