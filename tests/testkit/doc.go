// Package testkit is what kycbot's tests share: a real Redis, a
// redis-server of a test's own, a log buffer, a clock and polling. Only
// tests import it (TestOnlyTestsImport checks).
//
// Need returns a client to the test Redis (Addr, which scripts/test.sh
// starts, or the Redis Cluster of ClusterEnv), closed when the test ends.
// When that Redis is unreachable, Need fails the test if the CI
// environment variable is set and skips it otherwise, so that a developer
// without Redis can still run the rest. Examples cannot skip
// themselves: a package whose examples use the test Redis has Main as its
// TestMain, which skips them, outside CI, when Ping finds that Redis
// unreachable. NewClient returns a client with no such check.
//
// Prefix gives each test a fresh random key prefix whose keys are deleted
// when the test ends; DeletePrefix and ScanAll reach every key under a
// prefix, on every master of a cluster.
//
// StartServer starts a redis-server of the test's own on a free port, for
// fault tests that hang, stop, crash and restart it (the shared test Redis
// is never touched); it too fails under CI and skips elsewhere when
// redis-server is not installed.
//
// Logs collects what a logger under test writes (Logs.Logger returns a
// text logger at debug level writing to it), safe for concurrent writes
// while the test reads it. Clock is a clock the test sets and moves, for
// what takes a func() time.Time: NewClock's stands still unless moved,
// the zero Clock runs with the wall clock, ahead or back by what the test
// moved it. Eventually polls a condition until it holds or time is up.
// OnlyTestsImport fails a test when a file of the module that is not a
// test imports a package of test infrastructure (this one, say).
// ThreadCPU reads the calling thread's CPU time, for benchmarks that must
// not be thrown by other processes on a shared machine.
package testkit
