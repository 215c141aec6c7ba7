//go:build race

package sandbox

// Under the race detector every simulated user costs about five times more
// CPU (gotd's client-side key exchange dominates), so the default load is
// smaller; -sandbox.users overrides it.
const defaultLoadUsers = 5
