// Package lockeddir makes working directories that the process using
// them holds a lock on, and removes those whose process died without
// removing them (SIGKILL, the OOM killer, a power cut of a container).
//
// Create makes <parent>/<prefix><random>/ holding a lock file on which
// the process takes an exclusive flock(2). The kernel releases that lock
// when the process dies, however it dies, so Sweep can tell a leftover
// (its lock is free) from a directory in use (its lock is held) and
// removes only the leftovers. A directory is made under a hidden name and
// renamed to its final name only once locked, so that Sweep never sees
// one in use before its lock is taken.
//
// On systems without flock(2) (builds other than Linux, macOS and the
// BSDs) Create takes no lock and Sweep removes nothing: Locking reports
// false there, and leftovers of a killed process stay until removed by
// hand. The parent should be on a local file system: flock is not
// reliable on every network file system.
package lockeddir
