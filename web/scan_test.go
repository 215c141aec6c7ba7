package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// fakeScans is an in-memory Scans: links by token, used once; encrypted
// files by file ID.
type fakeScans struct {
	mu         sync.Mutex
	links      map[string]Scan
	files      map[string][]byte
	readyErr   error
	takeErr    error
	dlErr      error
	restoreErr error
	takes      int
}

func (f *fakeScans) Ready(context.Context) error { return f.readyErr }

func (f *fakeScans) Take(ctx context.Context, token string) (Scan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.takes++
	if f.takeErr != nil {
		return Scan{}, f.takeErr
	}
	sc, ok := f.links[token]
	if !ok {
		return Scan{}, ErrNotFound
	}
	delete(f.links, token)
	return sc, nil
}

func (f *fakeScans) Restore(_ context.Context, token string, sc Scan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.restoreErr != nil {
		return f.restoreErr
	}
	f.links[token] = sc
	return nil
}

func (f *fakeScans) Download(ctx context.Context, file *passport.File, w io.Writer) error {
	if f.dlErr != nil {
		return f.dlErr
	}
	f.mu.Lock()
	b := f.files[file.FileID]
	f.mu.Unlock()
	_, err := w.Write(b)
	return err
}

const (
	goodToken  = "good-token-0123456789abcdef0123456789abcdef"
	otherToken = "othr-token-0123456789abcdef0123456789abcdef"
)

// scanFixture returns a fakeScans with goodToken leading to an encrypted
// scan, and the scan's plaintext; describe can change what the link says.
func scanFixture(t *testing.T, describe func(*Scan)) (*fakeScans, []byte) {
	t.Helper()
	plain := make([]byte, 300<<10)
	copy(plain, "\xff\xd8\xff\xe0 a JPEG scan")
	if _, err := rand.Read(plain[64:]); err != nil {
		t.Fatal(err)
	}
	ev, err := passport.EncryptValue(rand.Reader, plain)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(plain)
	sc := Scan{MIME: "image/jpeg", Size: int64(len(plain)), SHA256: hex.EncodeToString(sum[:]),
		File: passport.File{FileRef: passport.FileRef{FileID: "front"}, Credentials: passport.FileCredentials{FileHash: ev.Hash, Secret: ev.Secret}}}
	if describe != nil {
		describe(&sc)
	}
	return &fakeScans{links: map[string]Scan{goodToken: sc}, files: map[string][]byte{"front": ev.Ciphertext}}, plain
}

func TestScanLink(t *testing.T) {
	down := errors.New("telegram: not connected")
	tests := []struct {
		name     string
		describe func(*Scan)
		setup    func(*fakeScans)
		method   string
		path     string
		status   int
		body     string // a part of the body; "" for the scan
		unused   bool   // the link still works afterwards
		cut      bool   // the connection is cut mid-body
		broken   bool   // the scan does not decrypt: a cut or a 502, whichever comes first
	}{
		{name: "good", path: goodToken, status: http.StatusOK},
		{name: "unknown token", path: otherToken, status: http.StatusNotFound, body: "expired or was already used", unused: true},
		{name: "tampered token", path: "g00d" + goodToken[4:], status: http.StatusNotFound, body: "expired or was already used", unused: true},
		{name: "not a token", path: "x", status: http.StatusNotFound, body: "expired or was already used", unused: true},
		{name: "transport down", setup: func(f *fakeScans) { f.readyErr = down }, path: goodToken,
			status: http.StatusServiceUnavailable, body: "try again", unused: true},
		{name: "storage down", setup: func(f *fakeScans) { f.takeErr = errors.New("redis: connection refused") }, path: goodToken,
			status: http.StatusServiceUnavailable, body: "try again", unused: true},
		{name: "HEAD", method: http.MethodHead, path: goodToken, status: http.StatusMethodNotAllowed, unused: true},
		{name: "download fails", setup: func(f *fakeScans) { f.dlErr = errors.New("FLOOD_WAIT") }, path: goodToken,
			status: http.StatusServiceUnavailable, body: "still works", unused: true},
		{name: "download fails, link not put back", setup: func(f *fakeScans) {
			f.dlErr, f.restoreErr = errors.New("FLOOD_WAIT"), errors.New("redis: connection refused")
		}, path: goodToken, status: http.StatusBadGateway, body: "could not be fetched"},
		{name: "not the scan the event described", describe: func(sc *Scan) { sc.SHA256 = strings.Repeat("0", 64) }, path: goodToken,
			status: http.StatusOK, cut: true},
		{name: "wrong file secret", describe: func(sc *Scan) { sc.File.Credentials.Secret = bytes.Repeat([]byte{7}, 32) }, path: goodToken,
			broken: true},
		{name: "tampered file", setup: func(f *fakeScans) { f.files["front"][len(f.files["front"])-1] ^= 1 }, path: goodToken,
			status: http.StatusOK, cut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, plain := scanFixture(t, tt.describe)
			if tt.setup != nil {
				tt.setup(fs)
			}
			s, _ := newTestServer(t, func(o *Options) { o.Scans = fs })
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, srv.URL+scanPrefix+tt.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, rerr := io.ReadAll(res.Body)
			res.Body.Close()
			if tt.broken {
				// Bytes that decrypt to a padding length below 32 fail
				// before the first byte (502); others at the end (a cut).
				if res.StatusCode == http.StatusBadGateway {
					tt.status, tt.body = http.StatusBadGateway, "could not be fetched"
				} else {
					tt.status, tt.cut = http.StatusOK, true
				}
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%.200q)", res.StatusCode, tt.status, body)
			}
			switch {
			case tt.cut:
				if rerr == nil || bytes.Equal(body, plain) {
					t.Errorf("a scan that does not check out was served whole (%d bytes, %v)", len(body), rerr)
				}
			case tt.status == http.StatusOK:
				sum := sha256.Sum256(body)
				if rerr != nil || !bytes.Equal(body, plain) || res.Header.Get(ScanSHA256Header) != hex.EncodeToString(sum[:]) ||
					res.Header.Get("Content-Type") != "image/jpeg" || res.ContentLength != int64(len(plain)) {
					t.Errorf("served %d bytes (%v), Content-Type %q, Content-Length %d, SHA-256 %q",
						len(body), rerr, res.Header.Get("Content-Type"), res.ContentLength, res.Header.Get(ScanSHA256Header))
				}
				if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
					t.Errorf("headers %v", res.Header)
				}
			default:
				if !strings.Contains(string(body), tt.body) {
					t.Errorf("body %q, want it to say %q", body, tt.body)
				}
			}
			if tt.status == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			fs.mu.Lock()
			_, still := fs.links[goodToken]
			fs.mu.Unlock()
			if still != tt.unused {
				t.Errorf("the link is unused afterwards: %v, want %v", still, tt.unused)
			}
			// A link works once: the next fetch says it was used.
			if !tt.unused {
				again := get(t, s.Handler(), http.MethodGet, scanPrefix+goodToken, nil)
				if again.StatusCode != http.StatusNotFound || !strings.Contains(again.body, "expired or was already used") {
					t.Errorf("second fetch: %d %q", again.StatusCode, again.body)
				}
			}
		})
	}
}

// Without Options.Scans there are no scan links.
func TestScanLinkOff(t *testing.T) {
	s, _ := newTestServer(t)
	if res := get(t, s.Handler(), http.MethodGet, scanPrefix+goodToken, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", res.StatusCode)
	}
}

func TestScanURL(t *testing.T) {
	for _, pub := range []string{"https://kyc.example.com", "https://kyc.example.com/"} {
		if got := ScanURL(pub, goodToken); got != "https://kyc.example.com/passport/scans/"+goodToken {
			t.Errorf("ScanURL(%q) = %q", pub, got)
		}
	}
}
