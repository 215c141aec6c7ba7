package sandbox

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestMain(m *testing.M) {
	// The tests allocate a lot (big-number math of MTProto key exchanges and
	// SRP); under -race each collection is costly. Collect less often.
	debug.SetGCPercent(400)
	os.Exit(m.Run())
}
