//go:build !cgo || !linux || kycbot_purego

package passport

// nativeBackend says whether NewKey must hand keys to OpenSSL in this
// build: this one has no OpenSSL backend.
const nativeBackend = false
