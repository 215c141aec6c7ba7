package testkit

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// Main is the TestMain of a package whose examples use the test Redis
// (pkg names the package in the message). Examples cannot skip
// themselves: when the test Redis is unreachable and CI is not set, Main
// says so on stderr and adds ^Example to -test.skip; the tests skip, or
// fail under CI, one by one in Need. It runs m and exits with its code.
func Main(m *testing.M, pkg string) {
	flag.Parse()
	if where, err := Ping(); err != nil && os.Getenv("CI") == "" {
		fmt.Fprintf(os.Stderr, "%s: Redis at %s is unreachable (%v): skipping the Redis tests and examples; start redis-server to run them\n", pkg, where, err)
		skip := "^Example"
		if f := flag.Lookup("test.skip"); f != nil {
			if cur := f.Value.String(); cur != "" {
				skip = cur + "|" + skip
			}
			_ = f.Value.Set(skip)
		}
	}
	os.Exit(m.Run())
}

// Eventually polls cond every 10 ms until it holds or within has passed,
// and reports whether it held.
func Eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
