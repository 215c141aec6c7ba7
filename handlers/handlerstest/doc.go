// Package handlerstest holds the fakes the tests of the handlers' steps
// (handlers/verification, handlers/chat and handlers/admin) share, and
// the throwaway Passport key the transport's tests (bot/gotd) use too.
// Only tests import it (TestOnlyTestsImport checks).
//
// Telegram is a fake Telegram that records what the steps ask of it
// (messages, callback answers, command menus, Passport errors), serves
// the encrypted files of the submissions shared and fails on demand; it
// is the Telegram of every step (verification.Telegram, chat.Telegram,
// admin.Telegram), and its Shown gives the messages a user sees, one per
// Message.Key as Telegram shows them. Store runs the steps on a real
// store (handlers.Store) and records the srcs of IssueRequest and the
// AuditOnce IDs. Observer records what a handlers.Observer is told.
// PrintTelegram prints what the bot sends, for examples. Key and
// OtherKey are RSA keys made once per test binary.
//
// It implements the steps' interfaces structurally and imports none of
// the steps, so that their internal tests can import it.
package handlerstest
