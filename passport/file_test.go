package passport

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func encryptFile(t testing.TB, plain []byte, opts ...EncryptOption) EncryptedValue {
	t.Helper()
	v, err := EncryptValue(rand.Reader, plain, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFileReaderChunking(t *testing.T) {
	plain := scan(99, 3*fileBufSize+77)
	v := encryptFile(t, plain)
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
		"17 bytes": func(r io.Reader) io.Reader { return &chunkReader{r: r, n: 17} },
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			r, err := NewFileReader(wrap(bytes.NewReader(v.Ciphertext)), v.FileCredentials())
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("ReadAll: %d bytes, %v", len(got), err)
			}
			if !r.Verified() {
				t.Error("not verified after a clean read")
			}
			// The reader stays at EOF.
			if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Errorf("read after EOF = %d, %v", n, err)
			}
		})
	}
}

type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

func TestFileReaderFailures(t *testing.T) {
	plain := scan(7, 100000)
	v := encryptFile(t, plain)
	badPad := make([]byte, 4096)
	badPad[0] = 3
	bpHash, bpCT, _ := encryptRaw(v.Secret, badPad)
	longPad := make([]byte, 64)
	longPad[0] = 255
	lpHash, lpCT, _ := encryptRaw(v.Secret, longPad)
	otherSecret, _ := NewSecret(rand.Reader)
	tests := []struct {
		name string
		src  io.Reader
		fc   FileCredentials
		opts []FileOption
		err  error
	}{
		{"flipped first byte", bytes.NewReader(flip(v.Ciphertext, 0)), v.FileCredentials(), nil, ErrHashMismatch},
		{"flipped last byte", bytes.NewReader(flip(v.Ciphertext, len(v.Ciphertext)-1)), v.FileCredentials(), nil, ErrHashMismatch},
		{"truncated by a block", bytes.NewReader(v.Ciphertext[:len(v.Ciphertext)-16]), v.FileCredentials(), nil, ErrHashMismatch},
		{"truncated mid block", bytes.NewReader(v.Ciphertext[:len(v.Ciphertext)-5]), v.FileCredentials(), nil, ErrMalformed},
		{"empty", bytes.NewReader(nil), v.FileCredentials(), nil, ErrMalformed},
		{"wrong secret", bytes.NewReader(v.Ciphertext), FileCredentials{FileHash: v.Hash, Secret: otherSecret}, nil, ErrHashMismatch},
		{"padding below 32", bytes.NewReader(bpCT), FileCredentials{FileHash: bpHash, Secret: v.Secret}, nil, ErrBadPadding},
		{"padding longer than file", bytes.NewReader(lpCT), FileCredentials{FileHash: lpHash, Secret: v.Secret}, nil, ErrBadPadding},
		{"too large", bytes.NewReader(v.Ciphertext), v.FileCredentials(), []FileOption{WithMaxFileSize(50000)}, ErrTooLarge},
		{"source error", io.MultiReader(bytes.NewReader(v.Ciphertext[:1000]), iotest.ErrReader(io.ErrClosedPipe)), v.FileCredentials(), nil, io.ErrClosedPipe},
		{"no progress", zeroReader{}, v.FileCredentials(), nil, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewFileReader(tt.src, tt.fc, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(r)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if r.Verified() {
				t.Error("Verified after a failure")
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestFileReaderBadCredentials(t *testing.T) {
	s, _ := NewSecret(rand.Reader)
	for _, fc := range []FileCredentials{{FileHash: s, Secret: s[:5]}, {FileHash: s[:31], Secret: s}, {}} {
		if _, err := NewFileReader(bytes.NewReader(nil), fc); !errors.Is(err, ErrMalformed) {
			t.Errorf("%d/%d-byte credentials: %v, want ErrMalformed", len(fc.FileHash), len(fc.Secret), err)
		}
	}
}

// stage records what DecryptFile does with a Stager.
type stage struct {
	bytes.Buffer
	committed, discarded int
	commitErr            error
}

func (s *stage) Commit() error {
	s.committed++
	return s.commitErr
}
func (s *stage) Discard() error { s.discarded++; s.Reset(); return nil }

func TestDecryptFileStager(t *testing.T) {
	plain := scan(5, 200000)
	v := encryptFile(t, plain)

	var ok stage
	n, err := DecryptFile(&ok, bytes.NewReader(v.Ciphertext), v.FileCredentials())
	if err != nil || n != int64(len(plain)) || !bytes.Equal(ok.Bytes(), plain) {
		t.Fatalf("DecryptFile = %d, %v", n, err)
	}
	if ok.committed != 1 || ok.discarded != 0 {
		t.Errorf("good file: committed %d discarded %d, want 1 0", ok.committed, ok.discarded)
	}

	var bad stage
	_, err = DecryptFile(&bad, bytes.NewReader(flip(v.Ciphertext, len(v.Ciphertext)-1)), v.FileCredentials())
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("tampered: %v", err)
	}
	if bad.committed != 0 || bad.discarded != 1 || bad.Len() != 0 {
		t.Errorf("tampered file: committed %d discarded %d len %d, want 0 1 0", bad.committed, bad.discarded, bad.Len())
	}

	failing := stage{commitErr: io.ErrShortWrite}
	if _, err := DecryptFile(&failing, bytes.NewReader(v.Ciphertext), v.FileCredentials()); !errors.Is(err, io.ErrShortWrite) ||
		failing.discarded != 1 {
		t.Errorf("failed commit: %v, discarded %d, want the commit error and one Discard", err, failing.discarded)
	}

	var badCreds stage
	if _, err := DecryptFile(&badCreds, bytes.NewReader(v.Ciphertext), FileCredentials{}); !errors.Is(err, ErrMalformed) || badCreds.discarded != 1 {
		t.Errorf("bad credentials: %v, discarded %d", err, badCreds.discarded)
	}
}

// TestFileReaderMemoryBounded checks that decrypting a large file allocates
// a fixed amount, independent of its size.
func TestFileReaderMemoryBounded(t *testing.T) {
	plain := scan(1, 8<<20)
	v := encryptFile(t, plain)
	fc := v.FileCredentials()
	allocs := testing.AllocsPerRun(3, func() {
		r, err := NewFileReader(bytes.NewReader(v.Ciphertext), fc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.WriteTo(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 40 {
		t.Errorf("%.0f allocations to decrypt 8 MiB, want a small constant", allocs)
	}
}
