package handlers

import "github.com/gotd/td/tg"

// IsSubmission reports whether u is a Telegram Passport submission (the
// service message PassportHandler processes).
func IsSubmission(u *tg.UpdateNewMessage) bool {
	_, _, ok := submission(u)
	return ok
}
