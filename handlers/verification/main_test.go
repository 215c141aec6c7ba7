package verification

import (
	"testing"

	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMain skips the examples (which cannot skip themselves) when Redis is
// unreachable outside CI (see testkit.Main).
func TestMain(m *testing.M) { testkit.Main(m, "verification") }
