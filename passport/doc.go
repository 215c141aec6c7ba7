// Package passport implements Telegram Passport for Go programs: the
// cryptography, the data types and the wire forms, with no I/O beyond
// io.Reader and io.Writer and no Telegram calls.
//
// Service side (a bot receiving data):
//
//   - FromMTProto (gotd's *tg.MessageActionSecureValuesSentMe) and ParseBotAPI
//     (Bot API PassportData JSON) convert both wire forms to one
//     EncryptedSubmission;
//   - NewKey prepares the bot's RSA key once: where the system has OpenSSL
//     3 (libcrypto.so.3, loaded at run time, no C headers needed to build)
//     the key is handed to it and RSA runs there, about three times faster
//     than Go's crypto/rsa, which decrypts everywhere else (CGO_ENABLED=0,
//     systems other than Linux, the kycbot_purego build tag, WithGoRSA);
//     both backends give the same results and the same single error for
//     every ciphertext they refuse;
//   - DecryptCredentials decrypts the credentials with the bot's RSA key
//     (RSA-OAEP-SHA1: a Key, an *rsa.PrivateKey or any crypto.Decrypter)
//     and exposes the nonce, so the caller can check it before
//     Credentials.Open decrypts every element (Decrypt does both);
//   - NewFileReader and DecryptFile decrypt files as streams in constant
//     memory, with the hash verdict at the end (use a Stager to publish
//     only verified bytes); AES-256-CBC, of files and data alike, runs on
//     the same OpenSSL where it is there (half again the throughput of
//     crypto/cipher, which decrypts one block after the other on amd64),
//     on crypto/aes elsewhere;
//   - Element.ValueError builds the nine tg.SecureValueError* constructors
//     with the hash Telegram apps expect, refusing combinations the protocol
//     does not allow.
//
// Client side (what a Telegram app does, for simulators and tests):
// NewSecret, SecretID, Pad, EncryptValue, EncryptValueSecret,
// EncryptPassportSecret, EncryptCredentials and EncryptSubmission.
//
// Scopes and deep links: Scope, ParseScope, Link and ParseLink.
//
// Every error wraps one of the sentinels (ErrHashMismatch, ErrBadPadding,
// ErrWrongKey, ErrMalformed, ErrNotAllowed, ErrTooLarge, ErrKey,
// ErrWrongPassword) for errors.Is, says what was being processed, and never
// contains personal data or key material. No function panics on any input.
package passport
