package passport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// ErrTooLarge means an encrypted file is larger than the configured limit.
var ErrTooLarge = errors.New("passport: file too large")

// DefaultMaxFileSize is the default limit on the encrypted size of a file:
// Telegram caps decrypted scans at 10 MB, plus at most 255 bytes of padding.
const DefaultMaxFileSize = 10<<20 + 256

// fileBufSize is the size of the one buffer a FileReader uses; memory use
// does not depend on the file size.
const fileBufSize = 64 << 10

// FileCredentials are the per-file credentials from the credentials JSON.
type FileCredentials struct {
	// FileHash is SHA-256 of the padded plaintext (32 bytes).
	FileHash []byte `json:"file_hash"`
	// Secret is the file secret (32 bytes).
	Secret []byte `json:"secret"`
}

func (c FileCredentials) check() error {
	if err := checkSecret(c.Secret); err != nil {
		return fmt.Errorf("file secret: %w", err)
	}
	if len(c.FileHash) != HashSize {
		return fmt.Errorf("%w: file hash is %d bytes, want %d", ErrMalformed, len(c.FileHash), HashSize)
	}
	return nil
}

// FileOption configures file decryption.
type FileOption func(*fileOptions)

type fileOptions struct {
	maxSize int64
}

// WithMaxFileSize limits the encrypted size of a file (default
// DefaultMaxFileSize); a larger file fails with ErrTooLarge. Zero or a
// negative value removes the limit.
func WithMaxFileSize(n int64) FileOption {
	return func(o *fileOptions) { o.maxSize = n }
}

// FileReader decrypts an encrypted Passport file while it is read, with
// memory bounded by a fixed 64 KiB buffer whatever the file size.
//
// The padding prefix is dropped. The hash verdict comes at the end: the read
// that reaches the end of the file returns io.EOF only when SHA-256 of the
// padded plaintext equals the file hash, and an error wrapping
// ErrHashMismatch (or ErrBadPadding, ErrMalformed, ErrTooLarge) otherwise.
// Bytes returned before that verdict are not yet trustworthy: prefer
// DecryptFile with a Stager destination, which publishes nothing unverified.
type FileReader struct {
	src     io.Reader
	mode    cipher.BlockMode
	sum     hash.Hash
	want    []byte
	maxSize int64

	buf     []byte // fixed buffer; buf[:n] holds data read from src
	n       int    // bytes in buf
	tail    int    // start of a partial block kept for the next fill, or 0
	out     []byte // decrypted bytes waiting to be returned
	total   int64  // ciphertext bytes consumed
	skip    int    // padding bytes still to drop; -1 before the first block
	badPad  error  // padding verdict, reported after the hash verdict
	srcDone bool
	err     error // sticky final result (io.EOF on success)
}

// NewFileReader returns a reader of the decrypted contents of the encrypted
// file src. It fails at once when the credentials are malformed.
func NewFileReader(src io.Reader, fc FileCredentials, opts ...FileOption) (*FileReader, error) {
	if err := fc.check(); err != nil {
		return nil, err
	}
	o := fileOptions{maxSize: DefaultMaxFileSize}
	for _, opt := range opts {
		opt(&o)
	}
	mode, err := newCBC(fc.Secret, fc.FileHash, true)
	if err != nil {
		return nil, err
	}
	return &FileReader{
		src:     src,
		mode:    mode,
		sum:     sha256.New(),
		want:    fc.FileHash,
		maxSize: o.maxSize,
		buf:     make([]byte, fileBufSize),
		skip:    -1,
	}, nil
}

// Verified reports whether the whole file was read and its hash matched.
func (r *FileReader) Verified() bool { return r.err == io.EOF }

// Read implements io.Reader.
func (r *FileReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// WriteTo implements io.WriterTo, avoiding a copy. It returns nil when the
// file was fully read and verified.
func (r *FileReader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if len(r.out) > 0 {
			n, err := w.Write(r.out)
			written += int64(n)
			r.out = r.out[n:]
			if err != nil {
				return written, err
			}
			continue
		}
		if r.err != nil {
			if r.err == io.EOF {
				return written, nil
			}
			return written, r.err
		}
		r.fill()
	}
}

// fill reads and decrypts the next chunk into r.out, or sets r.err. It is
// called only when r.out is empty, so the buffer may be reused.
func (r *FileReader) fill() {
	if r.tail > 0 { // move the partial block left over by the last fill to the front
		r.n = copy(r.buf, r.buf[r.tail:r.n])
		r.tail = 0
	}
	for empty := 0; !r.srcDone && r.n < aes.BlockSize; {
		m, err := r.src.Read(r.buf[r.n:])
		r.n += m
		if m == 0 && err == nil {
			if empty++; empty >= 100 {
				r.err = fmt.Errorf("passport: read encrypted file: %w", io.ErrNoProgress)
				return
			}
		}
		if errors.Is(err, io.EOF) {
			r.srcDone = true
		} else if err != nil {
			r.err = fmt.Errorf("passport: read encrypted file: %w", err)
			return
		}
	}
	if r.maxSize > 0 && r.total+int64(r.n) > r.maxSize {
		r.err = fmt.Errorf("%w: encrypted file exceeds the limit of %d bytes", ErrTooLarge, r.maxSize)
		return
	}
	whole := r.n - r.n%aes.BlockSize
	if whole == 0 { // only reached at the end of src
		r.finish()
		return
	}
	chunk := r.buf[:whole]
	r.mode.CryptBlocks(chunk, chunk)
	r.sum.Write(chunk)
	r.total += int64(whole)
	r.tail = whole
	if r.skip < 0 {
		r.skip = int(chunk[0])
		if r.skip < MinPadding {
			r.badPad = fmt.Errorf("%w: padding length %d is below %d", ErrBadPadding, r.skip, MinPadding)
		}
	}
	if r.badPad != nil {
		return // nothing trustworthy can be returned; keep hashing for the verdict
	}
	drop := min(r.skip, len(chunk))
	r.skip -= drop
	r.out = chunk[drop:]
}

// finish gives the verdict once src is exhausted.
func (r *FileReader) finish() {
	switch {
	case r.n != 0:
		r.err = fmt.Errorf("%w: encrypted file length %d is not a multiple of %d",
			ErrMalformed, r.total+int64(r.n), aes.BlockSize)
	case r.total == 0:
		r.err = fmt.Errorf("%w: encrypted file is empty", ErrMalformed)
	default:
		var sum [HashSize]byte
		r.sum.Sum(sum[:0])
		if err := checkHash(sum, r.want); err != nil {
			r.err = err
		} else if r.badPad != nil {
			r.err = r.badPad
		} else if r.skip > 0 {
			r.err = fmt.Errorf("%w: padding length exceeds the %d decrypted bytes", ErrBadPadding, r.total)
		} else {
			r.err = io.EOF
		}
	}
}

// A Stager is a destination that keeps what is written to it out of use
// until Commit; Discard throws it away. A temporary file renamed into place
// on Commit is the typical implementation.
type Stager interface {
	io.Writer
	// Commit publishes the bytes written so far. It is called once, only
	// after the file's hash has been verified.
	Commit() error
	// Discard drops the bytes written so far. It is called once, on any
	// failure, including a failed Commit.
	Discard() error
}

// DecryptFile decrypts the encrypted file src into dst and returns the
// number of decrypted bytes written. It calls dst.Commit only after the
// whole file was read and its hash verified, and dst.Discard on any failure,
// so unverified bytes are never published. Memory use is constant.
//
// To consume the plaintext as a stream instead (hashing it, scanning it),
// read from NewFileReader and treat nothing as valid before it returns
// io.EOF.
func DecryptFile(dst Stager, src io.Reader, fc FileCredentials, opts ...FileOption) (int64, error) {
	if dst == nil {
		return 0, fmt.Errorf("%w: no destination", ErrMalformed)
	}
	fail := func(n int64, err error) (int64, error) {
		if derr := dst.Discard(); derr != nil {
			err = errors.Join(err, fmt.Errorf("passport: discard unverified file: %w", derr))
		}
		return n, err
	}
	r, err := NewFileReader(src, fc, opts...)
	if err != nil {
		return fail(0, err)
	}
	n, err := r.WriteTo(dst)
	if err != nil {
		return fail(n, err)
	}
	if err := dst.Commit(); err != nil {
		return fail(n, fmt.Errorf("passport: commit verified file: %w", err))
	}
	return n, nil
}
