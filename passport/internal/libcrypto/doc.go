// Package libcrypto decrypts RSA-OAEP (SHA-1, MGF1-SHA-1, empty label: what
// Telegram Passport uses) and AES-256-CBC (its data and files) with the
// system's OpenSSL 3, libcrypto.so.3, loaded at run time.
//
// Nothing of OpenSSL is needed to build: the package declares the few
// OpenSSL 3 functions it calls itself (no OpenSSL headers), opens the
// library with dlopen when Load is called and looks the functions up with
// dlsym. It is compiled with cgo on Linux unless the kycbot_purego build
// tag is set; elsewhere (CGO_ENABLED=0, other systems, the tag) Load
// reports ErrUnavailable and the caller uses Go's crypto/rsa instead.
//
// A Key is an OpenSSL EVP_PKEY made once from the private key's PKCS#1
// DER; it is safe for concurrent use (OpenSSL only reads a key while it
// decrypts; each decryption runs in a context of its own, taken from a
// small pool of prepared contexts). Close frees the key and the pooled
// contexts; a Key that is dropped without Close is freed by a cleanup once
// it is garbage.
//
// Load opens the library once a process (it stays mapped: OpenSSL
// registers exit handlers) and fetches AES-256-CBC once; DecryptCBC is then
// one call into OpenSSL that allocates its context, decrypts and frees the
// context (which cleanses the key schedule), so nothing of a file secret
// stays in OpenSSL's memory. It is used only when it decrypts a fixed
// ciphertext as crypto/aes does (Lib.CBC).
//
// Every failed decryption returns one error and nothing else (ErrDecrypt,
// ErrCBC for AES; OpenSSL's error queue is cleared in the same call, never
// read): a caller cannot learn from the error why a ciphertext was
// refused, so the backend is no padding oracle.
package libcrypto
