package passport

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (test with errors.Is) together with a description of what was being
// processed; none of them carries personal data.
var (
	// ErrHashMismatch means the decrypted bytes do not hash to the value the
	// sender declared: the data was tampered with, truncated, or decrypted
	// with the wrong secret.
	ErrHashMismatch = errors.New("passport: hash mismatch")
	// ErrBadPadding means the hash matched but the padding prefix is not
	// valid (its length byte is outside 32..255 or longer than the data).
	ErrBadPadding = errors.New("passport: bad padding")
	// ErrWrongKey means the credentials secret could not be decrypted with
	// the bot's private key: the public key given to @BotFather is not the
	// one matching this private key, or the ciphertext was altered.
	ErrWrongKey = errors.New("passport: wrong private key")
	// ErrMalformed means the input does not have the shape the protocol
	// requires (bad JSON, wrong lengths, missing fields, unknown types).
	ErrMalformed = errors.New("passport: malformed input")
	// ErrNotAllowed means a request combines things the protocol does not
	// allow, for example a reverse side error on a passport.
	ErrNotAllowed = errors.New("passport: not allowed by the protocol")
)
