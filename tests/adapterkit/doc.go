// Package adapterkit is what the tests of kycbot's Bot API framework
// adapters (bot/botapi/kyctelego, bot/botapi/kyctgbot, each a module of
// its own) share: a host bot written with the framework embeds kycbot
// through the adapter, receives its updates by long polling from the
// sandbox's Bot API front, and simulated users play kycbot's scenarios
// against it while the host's own handler keeps answering its own
// messages. Only tests import it.
//
// New brings up the sandbox with the demo bot's account and its Bot API
// front (sandbox/demo.Serve), and kycbot on the given Redis (the demo
// configuration, a key prefix of its own, a clock the cases move) with
// its request page on loopback; Host runs a host bot (a Host: it runs
// kycbot's workers, botapi.Run, and the framework) against the front
// through a recording proxy (APIURL); Close stops everything and deletes
// the keys. Start does the three for a test. Say plays a user who writes
// to the bot and prints the answers, for Examples.
//
// Accept runs the acceptance: the host answers /ping with "pong" and
// echoes other text (before and after kycbot's cases); the scenarios of
// sandbox/demo.Play (verified; fix and resubmit, the problems read in
// Telegram Passport; final rejection); and the security cases (a
// replayed nonce, another user's nonce, an expired request, tampered
// credentials), each refused with its message and audit event, the
// rightful user verified afterwards.
//
// CheckRoundTrip then takes every Telegram Passport update the front
// sent, exactly as sent, through the framework's decoding and the
// adapter's marshalling, and checks with SameUpdate that nothing kycbot
// reads was lost (the whole passport_data: elements, data, hashes,
// files, credentials). SameAsReadme checks that the README shows the
// adapter's Example code.
package adapterkit
