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

// A scan is staged exactly as Telegram sends it, encrypted (AES-256-CBC)
// under its file secret, which only the credentials hold: in memory when
// small, else on disk (see staging.go). While it downloads,
// the same bytes are decrypted into a verify.ScanInspector (format, pixel
// size) and the plaintext is dropped; when the level's policy has a
// sharpness rule, the staged scan is then decrypted once more into the
// JPEG decoder (verify.MeasureSharpness: one decoded image per scan, at
// most DownloadConcurrency at once); Open decrypts it again while it is
// read. So no scan rests in clear, in memory or on disk, no new cipher or
// file format is involved, and Telegram's file_hash, checked on every
// pass, catches a staged file that changed on disk.

// open opens the scan key: it is decrypted while the returned reader is
// read, with memory at one 64 KiB buffer per open reader. A scan staged
// on disk is decrypted and verified whole first, so a damaged file fails
// here instead of handing out wrong bytes; one in memory was verified as
// it downloaded, and nothing outside the process can change it.
func (st *staging) open(key verify.ScanKey) (io.ReadCloser, error) {
	notStaged := func(err error) error {
		return fmt.Errorf("verification: scan %s.%s is no longer staged: Verified.Open works only while the OnVerified hook runs: %w",
			key.Element, key.Target, err)
	}
	sc, ok, staged := st.get(key)
	if !staged {
		return nil, notStaged(errStagingRemoved)
	}
	if !ok {
		return nil, fmt.Errorf("verification: no scan %s.%s in this submission", key.Element, key.Target)
	}
	f, err := sc.reader()
	if errors.Is(err, os.ErrNotExist) {
		return nil, notStaged(err)
	}
	if err != nil {
		return nil, fmt.Errorf("verification: open scan %s.%s: %w", key.Element, key.Target, err)
	}
	var r *passport.FileReader
	if sc.onDisk() {
		r, err = passport.NewFileReader(f, sc.creds)
		if err == nil {
			_, err = r.WriteTo(io.Discard)
		}
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
	}
	if err == nil {
		r, err = passport.NewFileReader(f, sc.creds)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("verification: staged scan %s.%s does not verify (its file in the temporary directory was changed or damaged): %w",
			key.Element, key.Target, err)
	}
	return &scanReader{FileReader: r, f: f}, nil
}

// scanReader reads a staged scan; its last Read returns io.EOF only when
// the file still verifies.
type scanReader struct {
	*passport.FileReader
	f io.Closer
}

// Close implements io.Closer.
func (r *scanReader) Close() error { return r.f.Close() }

// fetched is the outcome of downloading and decrypting every scan.
type fetched struct {
	staged *staging
	infos  map[verify.ScanKey]verify.ScanInfo
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

// fetchAll downloads every scan of sub into st, encrypted, and checks it
// decrypts, at most limit at a time; with sharpness, it measures the
// sharpness of each JPEG scan. Each file streams from the download
// through a pipe to its stage and the decrypter: memory stays bounded
// whatever the sizes (the scans staged in memory by Config.ScanMemory),
// and by the pixel size of the decoded scans (verify.MaxSharpnessPixels)
// while they are measured.
func fetchAll(ctx context.Context, tgc Telegram, sub *passport.Submission, st *staging, limit int, sharpness bool) (*fetched, error) {
	scans := verify.Scans(sub)
	out := &fetched{staged: st, infos: make(map[verify.ScanKey]verify.ScanInfo, len(scans))}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(limit, 1))
	for _, sc := range scans {
		g.Go(func() error {
			staged, info, err := fetchRetrying(gctx, tgc, sc.File, st)
			if err != nil {
				return &fileError{key: sc.Key, err: err}
			}
			if sharpness {
				if info, err = staged.measure(info); err != nil {
					return &fileError{key: sc.Key, err: err}
				}
			}
			st.keep(sc.Key, staged)
			mu.Lock()
			out.infos[sc.Key] = info
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
// dropped connection, a slow DC): a scan that does not decrypt, or that
// cannot be staged, is not downloaded again.
func fetchRetrying(ctx context.Context, tgc Telegram, f *passport.File, st *staging) (stagedScan, verify.ScanInfo, error) {
	pause := downloadPause
	for attempt := 1; ; attempt++ {
		staged, info, err := fetchOne(ctx, tgc, f, st)
		var se *stageError
		if err == nil || attempt == downloadAttempts || sentinelName(err) != "unknown" || errors.As(err, &se) || ctx.Err() != nil {
			return staged, info, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return stagedScan{}, verify.ScanInfo{}, err
		case <-t.C:
		}
		pause *= 2
	}
}

// measure returns info with the sharpness of the staged scan, decrypted
// again into the decoder. A scan that is not measured (not a JPEG, too
// many pixels) keeps its info; one whose JPEG header decodes but whose
// image does not is not a JPEG (verify.CodeNotJPEG) for the rules.
func (sc stagedScan) measure(info verify.ScanInfo) (verify.ScanInfo, error) {
	if !info.JPEG {
		return info, nil
	}
	f, err := sc.reader()
	if err != nil {
		return info, fmt.Errorf("open the staged scan: %w", err)
	}
	defer f.Close()
	r, err := passport.NewFileReader(f, sc.creds)
	if err != nil {
		return info, fmt.Errorf("decrypt the staged scan: %w", err)
	}
	measured, err := verify.MeasureSharpness(r, info)
	switch {
	case err == nil:
		return measured, nil
	case errors.Is(err, verify.ErrNotMeasured):
		return info, nil
	case errors.Is(err, passport.ErrHashMismatch) || errors.Is(err, passport.ErrBadPadding) || errors.Is(err, passport.ErrMalformed):
		return info, fmt.Errorf("the staged scan changed on disk: %w", err)
	}
	info.JPEG = false
	return info, nil
}

// fetchOne stages f in st as it comes (encrypted), decrypting the same
// stream into a verify.ScanInspector. The staged scan is kept only when
// the whole download decrypts and matches its file hash.
func fetchOne(ctx context.Context, tgc Telegram, f *passport.File, st *staging) (staged stagedScan, _ verify.ScanInfo, err error) {
	out, err := st.spool(f.Size)
	if err != nil {
		return stagedScan{}, verify.ScanInfo{}, err
	}
	defer func() { // staged is what the download left, or nothing
		var ferr error
		staged, ferr = out.finish(err == nil, f.Credentials)
		if err == nil {
			err = ferr
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	dlErr := make(chan error, 1)
	go func() {
		err := tgc.Download(ctx, f, pw)
		pw.CloseWithError(err) // nil closes with io.EOF
		dlErr <- err
	}()
	inspect := &verify.ScanInspector{}
	r, decErr := passport.NewFileReader(io.TeeReader(pr, out), f.Credentials)
	if decErr == nil {
		_, decErr = r.WriteTo(inspect) // nil only once the file hash matched
	}
	// Unblock the download if decryption stopped early, then wait for it.
	_ = pr.CloseWithError(errors.New("decryption finished"))
	cancel()
	derr := <-dlErr
	if decErr != nil {
		if derr != nil && !errors.Is(derr, context.Canceled) {
			return stagedScan{}, verify.ScanInfo{}, fmt.Errorf("download: %w", derr)
		}
		return stagedScan{}, verify.ScanInfo{}, decErr
	}
	return stagedScan{}, inspect.Info(), nil
}
