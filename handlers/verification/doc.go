// Package verification is the Telegram Passport step of kycbot's
// pipeline: Flow.Process takes one submission (the encrypted data a user
// shared) to its outcome.
//
// It decrypts the credentials with the bot's RSA key (handed once, in New,
// to passport.NewKey: the system's OpenSSL where present), consumes the nonce
// (exactly once, for this user, not expired: replays, foreign, unknown,
// superseded and cancelled nonces are refused with a clear message),
// decrypts every value, downloads every scan with bounded concurrency
// (memory does not depend on file sizes) and checks it decrypts, and has
// the level's verify.Checker decide: verified (hook, status, audit
// event, chat and admin notices), rejected for good, or what to fix
// (users.setSecureValueErrors pinned to the exact fields and files, in the
// user's language, and a chat message with a fresh request to try again).
//
// As soon as the nonce is consumed the user is told that the documents
// arrived and are being checked; the verdict (or a delay notice, or a
// failure) is then edited into that message (handlers.Editor:
// messages.editMessage), and sent as a new message only when the edit
// fails (the message was deleted or is too old). Processed again, the
// "received" message is not sent again (its key gives its random_id, and
// Telegram answers with the message it sent) and the same edit changes
// nothing.
//
// The outcome is recorded before the user is told. When Redis cannot be
// reached before that, or the context ends, Process fails with an error
// wrapping handlers.ErrRetryLater and the caller processes the submission
// again later; that is safe, by any instance, because every effect is
// idempotent by the submission's ID or nonce: the nonce is consumed by
// message, the status and audit events are recorded once, the request for
// a new attempt is issued once, and every message the user or the admins
// get carries a key from which the transport derives Telegram's random_id
// (Telegram sends a message once per random_id). GiveUp ends a submission
// the caller stopped retrying.
//
// # Scans at rest
//
// No scan rests in clear, in memory or on disk. Each scan is staged
// exactly as Telegram sends it, encrypted (AES-256-CBC) under its file
// secret; the secret and the file hash come from the credentials, which
// only the bot's private key decrypts, and live only in the process's
// memory. A scan of at most MaxMemoryScan bytes is staged in memory while
// Config.ScanMemory, shared by the flow's submissions, has room for it;
// the others go to Config.TempDir. While a scan downloads, the same
// stream is decrypted to learn its format and pixel size, its hash
// checked (a bad file fails the submission before anything accepts it),
// and the plaintext dropped. Verified.Open decrypts the staged scan again
// while it is read; a file on disk is checked whole against the hash
// first, so a file changed on disk fails instead of giving other bytes.
//
// The staged scans last one submission: the flow drops them when the
// submission ends, however it ends (after the OnVerified hook for an
// accepted one). Those on disk are in a directory of their own,
// <TempDir>/kycbot-scans-<random>/, made on the submission's first such
// scan, that the process holds an flock on. A process killed
// mid-submission (SIGKILL, out of memory) leaves its directory, still
// encrypted; the kernel drops its lock, and the next Flow to start (New)
// removes it, leaving alone the directories of live processes. Without
// flock (builds other than Linux, macOS and the BSDs) nothing is locked or
// removed at start: remove leftovers by hand.
//
// # Duplicates and manual review
//
// A submission that passes the level's rules claims its identity
// documents and its person (Fingerprints) for the user, all or none; when
// another account holds one, rules.duplicates refuses it for good (code
// duplicate; the user is not told which account), sends it to review, or
// is off. Then the review triggers (rules.review always,
// rules.review_sample, a duplicate under review, Config.ReviewChecks such
// as screening) may send it to an admin: the submission, as Telegram sent
// it, is kept sealed in the store (PutReview), the status is review, the
// user is told, OnReview runs and each admin gets a link of their own
// (Config.ReviewLink). OpenReview decrypts it again for the review page;
// Decide applies the admin's decision (approve: scans downloaded again
// and OnVerified as for any verification; reject with a reason, releasing
// the claims; ask to fix chosen items), audits it with the admin as actor
// and erases the kept submission.
//
// The flow talks to Redis and Telegram through the Store and Telegram
// interfaces, which hold exactly the calls it makes. Nothing personal is
// logged or audited: user IDs, element types, problem codes and the
// SHA-256 of the nonce only.
package verification
