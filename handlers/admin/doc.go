// Package admin holds kycbot's admin commands, for the Telegram user IDs
// of Config.Admins only: /kyc_stats (today's transitions and the users in
// each state, per level), /kyc_status <user_id> (a user's status at each
// level: state, times, problem codes, ref; never personal data, which the
// store does not hold), /kyc_reset <user_id> [level] (so that /verify
// offers a request again) and /kyc_delete <user_id> (erases everything
// about the user after a confirmation button, then tells the user).
//
// Anyone else gets exactly the answer to an unknown command, so that the
// commands are not revealed; nothing is read or changed, and the attempt
// is audited as admin_denied. Every answer is in the admin's language
// (the one chosen with /language, else the app's), and every command is
// audited (admin_stats, admin_status, admin_reset, admin_delete) with the
// admin and the target user IDs. The chat conversation (package
// handlers/chat) hands the commands and the confirmation taps here; its
// SetCommands has Commands register the admin menu in each admin's chat.
package admin
