package verification

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/kycbot/kycbot/handlers/verification/lockeddir"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// Where a submission's scans are staged (see Config.ScanMemory): a scan of
// at most MaxMemoryScan bytes is kept in the process's memory, encrypted
// as Telegram sent it, while the flow's memory budget has room for it;
// the others go to a directory of TempDir that the submission makes on
// its first such scan (lockeddir: locked by the process, removed with the
// submission, swept at start when its process was killed). The common
// submission, a few scans of some tens of kilobytes, so touches no file
// at all: a directory, a lock file and a file per scan cost more CPU in
// system calls than the rest of the staging together.

// memBudget is the bytes of scans a Flow may hold in memory, all its
// submissions together.
type memBudget struct {
	mu   sync.Mutex
	free int64
}

// take reserves n bytes; false when there is not room for them.
func (m *memBudget) take(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n > m.free {
		return false
	}
	m.free -= n
	return true
}

// give returns n bytes taken.
func (m *memBudget) give(n int64) {
	m.mu.Lock()
	m.free += n
	m.mu.Unlock()
}

// staging holds the staged scans of one submission until remove.
type staging struct {
	parent string     // Config.TempDir
	mem    *memBudget // the flow's

	mu      sync.Mutex
	dir     *lockeddir.Dir // made on the first scan that goes to disk
	held    int64          // bytes of mem this submission holds
	removed bool
	scans   map[verify.ScanKey]stagedScan
}

// spool returns where a scan of size bytes (as Telegram declares it)
// stages as it downloads: memory when size fits MaxMemoryScan and the
// budget, else a new file of the submission's directory.
func (st *staging) spool(size int64) (*spool, error) {
	if size > 0 && size <= MaxMemoryScan && st.mem.take(size) {
		st.mu.Lock()
		st.held += size
		st.mu.Unlock()
		return &spool{st: st, buf: make([]byte, 0, size), reserved: size}, nil
	}
	f, err := st.createFile()
	if err != nil {
		return nil, err
	}
	return &spool{st: st, f: f}, nil
}

// createFile creates a scan file in the submission's directory, making
// the directory first if it is not there yet.
func (st *staging) createFile() (*os.File, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.removed {
		return nil, errStagingRemoved
	}
	if st.dir == nil {
		d, err := lockeddir.Create(st.parent, stagePrefix)
		if err != nil {
			return nil, &stageError{fmt.Errorf("staging directory: %w", err)}
		}
		st.dir = d
	}
	f, err := os.CreateTemp(st.dir.Path(), "scan-*")
	if err != nil {
		return nil, &stageError{fmt.Errorf("create a staged scan file: %w", err)}
	}
	return f, nil
}

// errStagingRemoved means the submission ended and its staged scans were
// removed.
var errStagingRemoved = errors.New("the submission's staged scans were removed")

// stageError is a failure to stage a scan on disk (TempDir missing, not
// writable): no download is tried again for it, and the submission fails
// with the code temp_dir.
type stageError struct{ err error }

func (e *stageError) Error() string { return e.err.Error() }

func (e *stageError) Unwrap() error { return e.err }

// keep records the staged scan of key.
func (st *staging) keep(key verify.ScanKey, sc stagedScan) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scans == nil {
		st.scans = map[verify.ScanKey]stagedScan{}
	}
	st.scans[key] = sc
}

// release gives back n bytes of memory the submission held.
func (st *staging) release(n int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.removed || n == 0 {
		return // remove gave back all it held
	}
	st.held -= n
	st.mem.give(n)
}

// get returns the staged scan of key: ok is false when the submission has
// none, staged is false once the staged scans are removed.
func (st *staging) get(key verify.ScanKey) (sc stagedScan, ok, staged bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	sc, ok = st.scans[key]
	return sc, ok, !st.removed
}

// remove drops the scans in memory, gives their bytes back to the budget
// and removes the directory, if the submission made one. Later opens fail.
func (st *staging) remove() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.removed {
		return nil
	}
	st.removed = true
	st.scans = nil
	st.mem.give(st.held)
	st.held = 0
	if st.dir == nil {
		return nil
	}
	return st.dir.Remove()
}

// spool is one scan being staged: in buf up to its reserved bytes, in f
// when it was sent to disk (or outgrew the size Telegram declared).
type spool struct {
	st       *staging
	buf      []byte
	reserved int64
	f        *os.File
}

// Write implements io.Writer.
func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && int64(len(s.buf)+len(p)) > s.reserved {
		// Larger than Telegram said: the rest goes to disk with what came.
		f, err := s.st.createFile()
		if err != nil {
			return 0, err
		}
		s.f = f
		_, err = f.Write(s.buf)
		s.buf = nil
		s.st.release(s.reserved)
		s.reserved = 0
		if err != nil {
			return 0, fmt.Errorf("write the staged scan file: %w", err)
		}
	}
	if s.f != nil {
		n, err := s.f.Write(p)
		if err != nil {
			err = fmt.Errorf("write the staged scan file: %w", err)
		}
		return n, err
	}
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// finish ends the download of a scan decrypted with creds: ok keeps what
// was staged (the file closed), otherwise it is dropped (the memory given
// back, the file removed).
func (s *spool) finish(ok bool, creds passport.FileCredentials) (stagedScan, error) {
	if s.f == nil {
		if !ok {
			s.st.release(s.reserved)
			return stagedScan{}, nil
		}
		return stagedScan{mem: s.buf, creds: creds}, nil
	}
	err := s.f.Close()
	if err != nil {
		err = fmt.Errorf("write the staged scan file: %w", err)
	}
	if !ok || err != nil {
		_ = os.Remove(s.f.Name())
		return stagedScan{}, err
	}
	return stagedScan{path: s.f.Name(), creds: creds}, nil
}

// stagedScan is one staged scan: its encrypted bytes, in memory or in the
// file at path, and how to decrypt them.
type stagedScan struct {
	mem   []byte
	path  string
	creds passport.FileCredentials
}

// onDisk reports whether the scan is staged in a file.
func (sc stagedScan) onDisk() bool { return sc.path != "" }

// reader opens the staged bytes.
func (sc stagedScan) reader() (io.ReadSeekCloser, error) {
	if !sc.onDisk() {
		return memReader{bytes.NewReader(sc.mem)}, nil
	}
	return os.Open(sc.path)
}

// memReader reads a scan staged in memory.
type memReader struct{ *bytes.Reader }

// Close implements io.Closer.
func (memReader) Close() error { return nil }
