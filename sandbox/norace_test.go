//go:build !race

package sandbox

const defaultLoadUsers = 10
