// Package chat is kycbot's conversation with its users, every text from
// the i18n catalog in the user's language (the one chosen with /language
// wins over the app's):
//
//   - /start [ref]: a greeting, then what will be asked (the level's scope
//     in words) and why, the cloud password note and a button to the
//     request page of a fresh request. ref, a t.me deep link payload (A-Z
//     a-z 0-9 _ -, at most 64 characters), is the business's reference for
//     the user: it is remembered and carried by every later request.
//   - /verify [level]: the same without the greeting, at the level named
//     or the default one. A user verified at that level is told so, and a
//     final rejection is final (an admin reset lets them start again).
//   - /status: where the user stands at each level, with the date.
//   - /language: one button per language, each in its own language; the
//     tap is answered, remembered and confirmed in the new language.
//   - /help, and /cancel, which voids the live request.
//   - Commands may be written /cmd@bot: those for another bot are
//     ignored. Other text and unknown commands get a hint to /help.
//
// OnOutcome reacts to what the request page learned from the Telegram
// app: a cancelled form gets a fresh button, an error a helpful message,
// and a misconfigured bot or public key alarms the admins. Admin commands
// and buttons go to Config.Admin (package handlers/admin). SetCommands
// registers the command menu in every language.
//
// Every answer is idempotent by the update's ID (handlers.Reply): an
// update handled twice tells the user nothing twice, and the request it
// issues is the same. Parse and Conversation.Handles tell which texts are
// kycbot's, so that a host bot keeps the others; every kycbot button's
// data starts with DataPrefix. Logs hold user IDs and command names,
// never the text of a message; audit events hold codes only.
package chat
