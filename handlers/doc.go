// Package handlers holds the steps of kycbot's pipeline, each in a
// subpackage behind interfaces of exactly the calls it makes:
//
//   - verification: a Telegram Passport submission, from the encrypted
//     data to the verdict (Flow.Process);
//   - chat: the conversation with users (/start, /verify, /status,
//     /language, /help, /cancel, the request page's outcomes);
//   - admin: the admin commands (/kyc_stats, /kyc_status, /kyc_reset,
//     /kyc_delete).
//
// This package has what they share: the updates they get (TextMessage,
// CallbackQuery; the submission is the verification's own), the users
// (User) and messages (Message, Button, Reply), the Sender and Editor that the
// transports implement, the admins' notices (Admins), users written to
// outside a conversation with them (FindRecipient), the Observer of
// outcomes and commands (for metrics), the logger an update is handled
// with (ContextWithLogger), and ErrRetryLater.
//
// The handlers neither receive updates nor retry them: package bot takes
// every kycbot update from the queue, hands it to its step, and keeps it
// in the queue while the step fails with ErrRetryLater. Every effect of a
// step is idempotent by the update's ID (which names the update, not its
// queue entry), so an update handled again, by
// any instance, tells the user nothing twice (docs/architecture.md).
package handlers
