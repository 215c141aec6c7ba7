package chat

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMain skips the examples (which cannot skip themselves) when Redis is
// unreachable outside CI; the tests skip or fail one by one in testkit.Need.
func TestMain(m *testing.M) {
	flag.Parse()
	if where, err := testkit.Ping(); err != nil && os.Getenv("CI") == "" {
		fmt.Fprintf(os.Stderr, "chat: Redis at %s is unreachable (%v): skipping the Redis tests and examples; start redis-server to run them\n", where, err)
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
