//go:build cgo && linux && !kycbot_purego

package passport

// nativeBackend says whether NewKey must hand keys to OpenSSL in this
// build: a Linux build with cgo finds libcrypto.so.3 (Debian and most Linux
// systems have it), and a test fails when it does not.
const nativeBackend = true
