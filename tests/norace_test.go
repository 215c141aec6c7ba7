//go:build !race

package tests

// raceDetector is true when the tests run under the race detector.
const raceDetector = false
