package verification

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// fileStager is a passport.Stager writing decrypted bytes to a temporary
// file and, beside it, to a verify.ScanInspector. The file is only
// reported (its path set) after Commit; Discard removes it.
type fileStager struct {
	f       *os.File
	inspect *verify.ScanInspector
	path    string // set by Commit
	done    bool
}

func newFileStager(dir string) (*fileStager, error) {
	f, err := os.CreateTemp(dir, "scan-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary scan file: %w", err)
	}
	return &fileStager{f: f, inspect: &verify.ScanInspector{}}, nil
}

// Write implements io.Writer.
func (s *fileStager) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	_, _ = s.inspect.Write(p[:n]) // never fails
	return n, err
}

// Commit implements passport.Stager.
func (s *fileStager) Commit() error {
	if s.done {
		return errors.New("scan file already committed or discarded")
	}
	s.done = true
	if err := s.f.Close(); err != nil {
		_ = os.Remove(s.f.Name())
		return err
	}
	s.path = s.f.Name()
	return nil
}

// Discard implements passport.Stager.
func (s *fileStager) Discard() error {
	if s.path != "" { // a committed file stays: Discard after Commit only follows a failed Commit
		return nil
	}
	s.done = true
	cerr := s.f.Close()
	if err := os.Remove(s.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return cerr
	}
	return nil
}

// fetched is the outcome of downloading and decrypting every scan.
type fetched struct {
	paths map[verify.ScanKey]string
	infos map[verify.ScanKey]verify.ScanInfo
}

// fileError is a failure to download or decrypt one scan.
type fileError struct {
	key verify.ScanKey
	err error
}

func (e *fileError) Error() string {
	return fmt.Sprintf("scan %s.%s: %v", e.key.Element, e.key.Target, e.err)
}

func (e *fileError) Unwrap() error { return e.err }

// fetchAll downloads and decrypts every scan of sub into dir, at most
// limit at a time. Each file streams from the download through a pipe
// into passport.DecryptFile: memory stays bounded whatever the sizes.
func fetchAll(ctx context.Context, tgc Telegram, sub *passport.Submission, dir string, limit int) (*fetched, error) {
	scans := verify.Scans(sub)
	out := &fetched{
		paths: make(map[verify.ScanKey]string, len(scans)),
		infos: make(map[verify.ScanKey]verify.ScanInfo, len(scans)),
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(limit, 1))
	for _, sc := range scans {
		g.Go(func() error {
			path, info, err := fetchRetrying(gctx, tgc, sc.File, dir)
			if err != nil {
				return &fileError{key: sc.Key, err: err}
			}
			mu.Lock()
			out.paths[sc.Key], out.infos[sc.Key] = path, info
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// Download attempts per scan, and the pause before the second one (it
// doubles).
const (
	downloadAttempts = 3
	downloadPause    = 500 * time.Millisecond
)

// fetchRetrying is fetchOne, tried again after a failed download (a
// dropped connection, a slow DC): a scan that does not decrypt is not
// downloaded again.
func fetchRetrying(ctx context.Context, tgc Telegram, f *passport.File, dir string) (string, verify.ScanInfo, error) {
	pause := downloadPause
	for attempt := 1; ; attempt++ {
		path, info, err := fetchOne(ctx, tgc, f, dir)
		if err == nil || attempt == downloadAttempts || sentinelName(err) != "unknown" || ctx.Err() != nil {
			return path, info, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", verify.ScanInfo{}, err
		case <-t.C:
		}
		pause *= 2
	}
}

func fetchOne(ctx context.Context, tgc Telegram, f *passport.File, dir string) (string, verify.ScanInfo, error) {
	st, err := newFileStager(dir)
	if err != nil {
		return "", verify.ScanInfo{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	dlErr := make(chan error, 1)
	go func() {
		err := tgc.Download(ctx, f, pw)
		pw.CloseWithError(err) // nil closes with io.EOF
		dlErr <- err
	}()
	_, decErr := passport.DecryptFile(st, pr, f.Credentials)
	// Unblock the download if decryption stopped early, then wait for it.
	_ = pr.CloseWithError(errors.New("decryption finished"))
	cancel()
	derr := <-dlErr
	if decErr != nil {
		if derr != nil && !errors.Is(derr, context.Canceled) {
			return "", verify.ScanInfo{}, fmt.Errorf("download: %w", derr)
		}
		return "", verify.ScanInfo{}, decErr
	}
	return st.path, st.inspect.Info(), nil
}
