//go:build race

package tests

// raceDetector is true when the tests run under the race detector, which
// makes every simulated user's login (an MTProto key exchange, big-number
// arithmetic) several times slower.
const raceDetector = true
