package lockeddir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// lockName is the lock file inside every directory.
const lockName = ".lock"

// Dir is a directory the process holds a lock on until Remove.
type Dir struct {
	path string
	lock *os.File
}

// Create makes a directory <parent>/<prefix><random> (mode 0700) and
// locks it. prefix must be a plain name that does not start with a dot.
func Create(parent, prefix string) (*Dir, error) {
	if prefix == "" || strings.HasPrefix(prefix, ".") || strings.ContainsAny(prefix, `/\`) {
		return nil, fmt.Errorf("lockeddir: prefix %q must be a plain name not starting with a dot", prefix)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("lockeddir: random name: %w", err)
	}
	name := prefix + hex.EncodeToString(b[:])
	hidden := filepath.Join(parent, "."+name)
	if err := os.Mkdir(hidden, 0o700); err != nil {
		return nil, fmt.Errorf("lockeddir: create a directory in %s: %w", parent, err)
	}
	lock, err := os.OpenFile(filepath.Join(hidden, lockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if err = lockFile(lock); err != nil {
			_ = lock.Close()
		}
	}
	if err != nil {
		_ = os.RemoveAll(hidden)
		return nil, fmt.Errorf("lockeddir: lock %s: %w", hidden, err)
	}
	d := &Dir{path: filepath.Join(parent, name), lock: lock}
	if err := os.Rename(hidden, d.path); err != nil {
		_ = lock.Close()
		_ = os.RemoveAll(hidden)
		return nil, fmt.Errorf("lockeddir: create %s: %w", d.path, err)
	}
	return d, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Remove removes the directory and all it holds, then releases the lock.
// It may be called more than once.
func (d *Dir) Remove() error {
	if d.lock == nil {
		return nil
	}
	err := removeLocked(d.path)
	if cerr := d.lock.Close(); err == nil {
		err = cerr
	}
	d.lock = nil
	return err
}

// removeLocked removes the contents of dir, then its lock file, then dir:
// while anything else is there, the lock file is too, so Sweep never takes
// a directory with contents for one without a lock.
func removeLocked(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lockeddir: remove %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.Name() != lockName {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lockeddir: remove %s: %w", dir, err)
	}
	for _, p := range []string{filepath.Join(dir, lockName), dir} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lockeddir: remove %s: %w", dir, err)
		}
	}
	return nil
}

// Sweep removes the directories <parent>/<prefix>* whose lock no process
// holds: those left by a process that died while using them. Directories
// in use are left alone. It returns how many it removed; errors name the
// directories it could not remove, and the others are removed anyway.
// Without flock(2) it removes nothing.
func Sweep(parent, prefix string) (int, error) {
	if !Locking || prefix == "" || strings.HasPrefix(prefix, ".") {
		return 0, nil
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return 0, fmt.Errorf("lockeddir: sweep %s: %w", parent, err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		gone, err := sweepOne(filepath.Join(parent, e.Name()))
		if gone {
			removed++
		}
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// sweepOne removes dir if its lock is free, holding the lock meanwhile.
func sweepOne(dir string) (bool, error) {
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No lock file: its owner (or another sweeper) has emptied it and is
		// removing it, or was killed doing so. Only an empty directory, or
		// one whose lock file someone deleted, gets here.
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("lockeddir: remove %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("lockeddir: sweep %s: %w", dir, err)
	}
	defer lock.Close()
	if err := lockFile(lock); err != nil {
		if errors.Is(err, errLocked) {
			return false, nil // in use
		}
		return false, fmt.Errorf("lockeddir: sweep %s: %w", dir, err)
	}
	if err := removeLocked(dir); err != nil {
		return false, err
	}
	return true, nil
}
