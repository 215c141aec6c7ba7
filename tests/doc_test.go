// Package tests holds kycbot's end-to-end scenarios: the real bot (package
// bot) against the sandbox (a local Telegram) and a real Redis, driven by
// simulated users. Unit tests sit beside their code; these check what a
// business and its users rely on, from /start to the verdict.
//
// They need Redis on 127.0.0.1:6379 (scripts/test.sh starts it): under CI
// a missing Redis fails them, elsewhere they are skipped with a message.
package tests
