//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package lockeddir

import (
	"errors"
	"os"
	"syscall"
)

// Locking reports whether directories are locked (flock(2) exists here),
// and so whether Sweep can remove leftovers.
const Locking = true

// errLocked means another process holds the lock.
var errLocked = errors.New("lockeddir: locked by another process")

// lockFile takes an exclusive lock on f without waiting; a lock held by
// another open file gives errLocked. The lock is released when f is closed
// or the process ends.
func lockFile(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(ferr, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return ferr
}
