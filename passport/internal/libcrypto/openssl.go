//go:build cgo && linux && !kycbot_purego

package libcrypto

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// The OpenSSL 3 functions called, declared here with opaque pointers
// instead of OpenSSL's headers (building needs none). Signatures as in
// OpenSSL 3.0's manual pages; every symbol exists since 3.0.0.
typedef struct {
	void *(*d2i_PrivateKey)(int type, void **a, const unsigned char **pp, long length);
	void (*EVP_PKEY_free)(void *pkey);
	int (*EVP_PKEY_get_size)(const void *pkey);
	void *(*EVP_PKEY_CTX_new)(void *pkey, void *engine);
	void (*EVP_PKEY_CTX_free)(void *ctx);
	int (*EVP_PKEY_decrypt_init)(void *ctx);
	int (*EVP_PKEY_CTX_set_rsa_padding)(void *ctx, int pad);
	int (*EVP_PKEY_CTX_set_rsa_oaep_md)(void *ctx, const void *md);
	int (*EVP_PKEY_CTX_set_rsa_mgf1_md)(void *ctx, const void *md);
	int (*EVP_PKEY_decrypt)(void *ctx, unsigned char *out, size_t *outlen, const unsigned char *in, size_t inlen);
	const void *(*EVP_sha1)(void);
	void (*ERR_clear_error)(void);
	const char *(*OpenSSL_version)(int type);
	unsigned long (*OpenSSL_version_num)(void);
	void *(*EVP_CIPHER_fetch)(void *libctx, const char *algorithm, const char *properties);
	void *(*EVP_CIPHER_CTX_new)(void);
	void (*EVP_CIPHER_CTX_free)(void *ctx);
	int (*EVP_DecryptInit_ex)(void *ctx, const void *cipher, void *engine, const unsigned char *key, const unsigned char *iv);
	int (*EVP_CIPHER_CTX_set_padding)(void *ctx, int padding);
	int (*EVP_DecryptUpdate)(void *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);
	void *aes256cbc; // EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL), once; NULL when absent
} kyc_lib;

enum {
	KYC_EVP_PKEY_RSA = 6,          // NID_rsaEncryption
	KYC_RSA_PKCS1_OAEP_PADDING = 4,
	KYC_OPENSSL_VERSION = 0,
};

// kyc_load opens libcrypto.so.3 and fills l. It returns the handle, or NULL
// (and *missing names the first absent function) when the library or a
// function is missing. The handle is never closed: OpenSSL registers exit
// handlers and must stay mapped.
static void *kyc_load(kyc_lib *l, const char **missing) {
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	*missing = NULL;
	if (h == NULL) {
		*missing = "libcrypto.so.3";
		return NULL;
	}
#define KYC_SYM(name) \
	if ((*(void **)(&l->name) = dlsym(h, #name)) == NULL) { *missing = #name; return NULL; }
	KYC_SYM(d2i_PrivateKey)
	KYC_SYM(EVP_PKEY_free)
	KYC_SYM(EVP_PKEY_get_size)
	KYC_SYM(EVP_PKEY_CTX_new)
	KYC_SYM(EVP_PKEY_CTX_free)
	KYC_SYM(EVP_PKEY_decrypt_init)
	KYC_SYM(EVP_PKEY_CTX_set_rsa_padding)
	KYC_SYM(EVP_PKEY_CTX_set_rsa_oaep_md)
	KYC_SYM(EVP_PKEY_CTX_set_rsa_mgf1_md)
	KYC_SYM(EVP_PKEY_decrypt)
	KYC_SYM(EVP_sha1)
	KYC_SYM(ERR_clear_error)
	KYC_SYM(OpenSSL_version)
	KYC_SYM(OpenSSL_version_num)
	KYC_SYM(EVP_CIPHER_fetch)
	KYC_SYM(EVP_CIPHER_CTX_new)
	KYC_SYM(EVP_CIPHER_CTX_free)
	KYC_SYM(EVP_DecryptInit_ex)
	KYC_SYM(EVP_CIPHER_CTX_set_padding)
	KYC_SYM(EVP_DecryptUpdate)
#undef KYC_SYM
	// Fetched once: an implicit fetch at every EVP_DecryptInit_ex would
	// look the algorithm up again each time. Never freed (the library
	// stays loaded).
	l->aes256cbc = l->EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (l->aes256cbc == NULL) {
		l->ERR_clear_error();
	}
	return h;
}

static unsigned long kyc_version_num(const kyc_lib *l) { return l->OpenSSL_version_num(); }
static const char *kyc_version(const kyc_lib *l) { return l->OpenSSL_version(KYC_OPENSSL_VERSION); }

// kyc_cbc_decrypt decrypts n bytes of in (a multiple of 16) into out with
// AES-256-CBC under key (32 bytes) and iv (16 bytes), without padding; in
// and out may be the same buffer. 1 on success, 0 on any failure, with the
// error queue cleared.
static int kyc_cbc_decrypt(const kyc_lib *l, const unsigned char *key, const unsigned char *iv,
                           const unsigned char *in, unsigned char *out, int n) {
	void *ctx = l->EVP_CIPHER_CTX_new();
	if (ctx == NULL) {
		l->ERR_clear_error();
		return 0;
	}
	int outl = 0;
	int ok = l->EVP_DecryptInit_ex(ctx, l->aes256cbc, NULL, key, iv) == 1 &&
	         l->EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	         l->EVP_DecryptUpdate(ctx, out, &outl, in, n) == 1 && outl == n;
	l->EVP_CIPHER_CTX_free(ctx); // cleanses the key schedule
	if (!ok) {
		l->ERR_clear_error();
	}
	return ok;
}

// kyc_key decodes a PKCS#1 RSAPrivateKey; NULL when OpenSSL refuses it.
static void *kyc_key(const kyc_lib *l, const unsigned char *der, long len, int *size) {
	const unsigned char *p = der;
	void *pkey = l->d2i_PrivateKey(KYC_EVP_PKEY_RSA, NULL, &p, len);
	if (pkey == NULL) {
		l->ERR_clear_error();
		return NULL;
	}
	*size = l->EVP_PKEY_get_size(pkey);
	return pkey;
}

static void kyc_key_free(const kyc_lib *l, void *pkey) { l->EVP_PKEY_free(pkey); }

// kyc_ctx prepares a decryption context for RSA-OAEP with SHA-1 and
// MGF1-SHA-1; NULL on failure.
static void *kyc_ctx(const kyc_lib *l, void *pkey) {
	void *ctx = l->EVP_PKEY_CTX_new(pkey, NULL);
	if (ctx == NULL) {
		l->ERR_clear_error();
		return NULL;
	}
	if (l->EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    l->EVP_PKEY_CTX_set_rsa_padding(ctx, KYC_RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    l->EVP_PKEY_CTX_set_rsa_oaep_md(ctx, l->EVP_sha1()) <= 0 ||
	    l->EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, l->EVP_sha1()) <= 0) {
		l->EVP_PKEY_CTX_free(ctx);
		l->ERR_clear_error();
		return NULL;
	}
	return ctx;
}

static void kyc_ctx_free(const kyc_lib *l, void *ctx) { l->EVP_PKEY_CTX_free(ctx); }

// kyc_decrypt decrypts in into out (outlen: its size, then the plaintext's
// length). 1 on success, 0 on any failure, with OpenSSL's error queue of
// this thread cleared in the same call.
static int kyc_decrypt(const kyc_lib *l, void *ctx, const unsigned char *in, size_t inlen,
                       unsigned char *out, size_t *outlen) {
	if (l->EVP_PKEY_decrypt(ctx, out, outlen, in, inlen) <= 0) {
		l->ERR_clear_error();
		return 0;
	}
	return 1;
}
*/
import "C"

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// minVersion is OpenSSL 3.0.0 in OpenSSL_version_num's form (0xMNN00PP0L).
const minVersion = 0x30000000

// Lib is libcrypto.so.3, opened.
type Lib struct {
	fns     C.kyc_lib
	version string
	cbc     bool // DecryptCBC works: AES-256-CBC fetched and checked
}

// loaded is the library as the first Load found it: the process has one
// libcrypto.so.3, opened once and never closed.
var loaded = sync.OnceValues(load)

// Load opens libcrypto.so.3 (once a process; later calls return the same
// Lib) and looks up the functions this package calls. It fails with
// ErrUnavailable when the library or one of the functions is missing, or
// the library is older than OpenSSL 3.0.
func Load() (*Lib, error) { return loaded() }

func load() (*Lib, error) {
	l := new(Lib)
	var missing *C.char
	if C.kyc_load(&l.fns, &missing) == nil {
		return nil, fmt.Errorf("%w: %s not found", ErrUnavailable, C.GoString(missing))
	}
	if v := C.kyc_version_num(&l.fns); v < minVersion {
		return nil, fmt.Errorf("%w: libcrypto.so.3 reports version %#x, want 3.0 or later", ErrUnavailable, uint64(v))
	}
	l.version = C.GoString(C.kyc_version(&l.fns))
	l.cbc = l.fns.aes256cbc != nil && l.cbcAgrees()
	return l, nil
}

// cbcAgrees decrypts a fixed ciphertext with OpenSSL and with crypto/aes:
// OpenSSL's AES is used only when the two agree.
func (l *Lib) cbcAgrees() bool {
	key := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	ct := make([]byte, 4*aes.BlockSize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for i := range ct {
		ct[i] = byte(i*13 + 5)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false
	}
	want := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(want, ct)
	got := make([]byte, len(ct))
	return l.decryptCBC(key, iv, got, ct) && bytes.Equal(got, want)
}

// CBC reports whether DecryptCBC is available.
func (l *Lib) CBC() bool { return l != nil && l.cbc }

// DecryptCBC decrypts src into dst with AES-256-CBC under key (32 bytes)
// and iv (one block), without padding: src is a whole number of blocks,
// dst at least as long; dst and src may be the same slice (not otherwise
// overlapping). Any failure, wrong sizes included, is ErrCBC.
func (l *Lib) DecryptCBC(key, iv, dst, src []byte) error {
	switch {
	case !l.CBC():
		return ErrUnavailable
	case len(key) != 32 || len(iv) != aes.BlockSize || len(src)%aes.BlockSize != 0 ||
		len(dst) < len(src) || len(src) > math.MaxInt32:
		return ErrCBC
	case len(src) == 0:
		return nil
	case !l.decryptCBC(key, iv, dst, src):
		return ErrCBC
	}
	return nil
}

func (l *Lib) decryptCBC(key, iv, dst, src []byte) bool {
	return C.kyc_cbc_decrypt(&l.fns, (*C.uchar)(unsafe.Pointer(&key[0])), (*C.uchar)(unsafe.Pointer(&iv[0])),
		(*C.uchar)(unsafe.Pointer(&src[0])), (*C.uchar)(unsafe.Pointer(&dst[0])), C.int(len(src))) == 1
}

// Version is the library's version text, for example "OpenSSL 3.0.19 27
// Jan 2026".
func (l *Lib) Version() string { return l.version }

// handles are what a Key frees: kept apart from the Key so that the
// cleanup that frees them does not keep the Key alive.
type handles struct {
	lib  *Lib
	pkey unsafe.Pointer
	pool chan unsafe.Pointer // prepared EVP_PKEY_CTX, ready for the next decryption
}

func (h *handles) free() {
	for {
		select {
		case ctx := <-h.pool:
			C.kyc_ctx_free(&h.lib.fns, ctx)
		default:
			C.kyc_key_free(&h.lib.fns, h.pkey)
			return
		}
	}
}

// Key is an RSA private key held by OpenSSL, safe for concurrent use.
type Key struct {
	mu      sync.RWMutex // held for reading by each decryption, for writing by Close
	h       *handles     // nil once closed
	size    int
	cleanup runtime.Cleanup
}

// NewKey hands an RSA private key, in PKCS#1 DER (x509.MarshalPKCS1PrivateKey),
// to OpenSSL. The DER is not kept.
func (l *Lib) NewKey(pkcs1 []byte) (*Key, error) {
	if len(pkcs1) == 0 {
		return nil, fmt.Errorf("%w: empty DER", ErrKey)
	}
	var size C.int
	pkey := C.kyc_key(&l.fns, (*C.uchar)(unsafe.Pointer(&pkcs1[0])), C.long(len(pkcs1)), &size)
	if pkey == nil {
		return nil, ErrKey
	}
	h := &handles{lib: l, pkey: pkey, pool: make(chan unsafe.Pointer, max(2, runtime.GOMAXPROCS(0)))}
	k := &Key{h: h, size: int(size)}
	k.cleanup = runtime.AddCleanup(k, func(h *handles) { h.free() }, h)
	return k, nil
}

// Size is the key's modulus length in bytes: the length of every
// ciphertext it decrypts.
func (k *Key) Size() int { return k.size }

// DecryptOAEPSHA1 decrypts an RSA-OAEP ciphertext (SHA-1, MGF1-SHA-1, empty
// label). Any failure is ErrDecrypt (ErrClosed after Close).
func (k *Key) DecryptOAEPSHA1(ciphertext []byte) ([]byte, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	h := k.h
	if h == nil {
		return nil, ErrClosed
	}
	if len(ciphertext) != k.size {
		return nil, ErrDecrypt
	}
	var ctx unsafe.Pointer
	select {
	case ctx = <-h.pool:
	default:
		if ctx = C.kyc_ctx(&h.lib.fns, h.pkey); ctx == nil {
			return nil, ErrDecrypt
		}
	}
	out := make([]byte, k.size)
	outLen := C.size_t(len(out))
	ok := C.kyc_decrypt(&h.lib.fns, ctx, (*C.uchar)(unsafe.Pointer(&ciphertext[0])), C.size_t(len(ciphertext)),
		(*C.uchar)(unsafe.Pointer(&out[0])), &outLen)
	if ok != 1 || int(outLen) > len(out) {
		// A context that failed is not reused.
		C.kyc_ctx_free(&h.lib.fns, ctx)
		return nil, ErrDecrypt
	}
	select {
	case h.pool <- ctx:
	default:
		C.kyc_ctx_free(&h.lib.fns, ctx)
	}
	return out[:outLen:outLen], nil
}

// Close frees the key in OpenSSL. Decryptions after it fail with
// ErrClosed; Close waits for those under way. Closing twice is harmless.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h != nil {
		k.cleanup.Stop()
		k.h.free()
		k.h = nil
	}
	return nil
}
