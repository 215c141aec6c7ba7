//go:build !linux

package testkit

import "time"

// ThreadCPU cannot read a thread's CPU time on this system: ok is false.
func ThreadCPU() (time.Duration, bool) { return 0, false }
