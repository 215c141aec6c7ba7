// Package adapterkit is what the acceptance tests of kycbot's Bot API
// framework adapters (bot/botapi/kyctelego, bot/botapi/kyctgbot, each a
// module of its own) share: a host bot written with the framework embeds
// kycbot through the adapter, receives its updates by long polling from
// the sandbox's Bot API front, and simulated users play kycbot's
// scenarios against it while the host's own handler keeps answering its
// own messages. Only tests import it.
//
// Start brings up the sandbox with the demo bot's account and its Bot API
// front (sandbox/demo.Serve), kycbot on the given Redis (the demo
// configuration, a key prefix of the test's own, a clock the test moves)
// with its request page on loopback and its workers on bot/botapi's own
// client (botapi.Run), and then the host bot (a Host) polling the front
// through a recording proxy: Env.Raw gives the JSON of an update exactly
// as the front sent it, so that a test can check that the framework's
// typed update, marshalled back by the adapter, lost nothing
// (SameUpdate).
//
// Env.Accept runs the acceptance: the host answers /ping with "pong" and
// echoes other text (before and after kycbot's scenarios); the scenarios
// of sandbox/demo.Play (verified; fix and resubmit, the problems read in
// Telegram Passport; final rejection); and the security cases (a
// replayed nonce, another user's nonce, an expired request, tampered
// credentials), each refused with its message and audit event, the
// rightful user verified afterwards.
package adapterkit
