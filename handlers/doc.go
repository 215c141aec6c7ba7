// Package handlers holds kycbot's Telegram update handlers: the passport
// handler (steps 5 to 8 of the design) and, later, the conversation and
// admin commands.
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
//     replays, foreign, unknown, expired and superseded nonces are refused
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
// The Telegram client side the handler needs is the small Telegram
// interface; NewTelegram implements it with gotd.
package handlers
