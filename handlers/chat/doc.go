// Package chat is kycbot's conversation with its users, every text from
// the i18n catalog in the user's language (the one chosen with /language
// wins over the app's):
//
//   - /start [ref]: a greeting, then the request message: what will be
//     asked (the level's scope in words), the cloud password note, how
//     long the button works, and the button to the request page. ref, a
//     t.me deep link payload (A-Z a-z 0-9 _ -, at most 64 characters), is
//     the business's reference for the user: it is remembered and carried
//     by every later request.
//   - /verify [level]: the same without the greeting, at the level named
//     or the default one. While the user's request at that level is still
//     open, the answer is one line with the same button, and the button
//     the user has keeps working. A user verified at that level is told so
//     and given the next step that works ("For Full check, send /verify
//     full"); a final rejection is final (an admin reset lets them start
//     again) and names the support contact (Config.Support).
//   - /status: where the user stands at each level, by its title (levels
//     are shown by Config.Titles everywhere), with the date, the next
//     step that works and, after a final rejection, the support contact.
//   - /language: one button per language, each in its own language; the
//     tap is answered, remembered and confirmed in the new language.
//   - /help (the commands that are on, under their names, and the support
//     contact), and /cancel, which voids the live request.
//   - /delete_my_data: a confirmation with two buttons; the tap erases
//     what the admin's /kyc_delete erases (Store.DeleteUser), audits
//     "self_delete" about nobody, and confirms.
//   - Config.Commands renames each command or turns it off: parsing,
//     Handles, SetCommands, /help and the commands the texts mention
//     follow. Commands may be written /cmd@bot: those for another bot are
//     ignored. Other text and unknown commands are left to the host bot,
//     or, with Config.CatchAll (the standalone bot), get a hint to /help.
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
