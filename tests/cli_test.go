package tests

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
)

// kycbotBinary builds cmd/kycbot once for the CLI tests.
var kycbotBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "kycbot-e2e-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kycbot")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/kycbot").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return bin, nil
})

func runKycbot(t *testing.T, args ...string) (string, int) {
	t.Helper()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run kycbot %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// freeAddr returns an address nothing listens on, for a kycbot process
// to listen on. The port comes from 10000-19999: below the kernel's
// ephemeral range (32768 and up), which outgoing connections and
// listeners on port 0 draw from, so that no other test takes it between
// this check and the process's listen; and apart from the Redis
// topology's ports (scripts/redis-topology.sh: 20000-39999).
func freeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+mrand.IntN(10000))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		_ = l.Close()
		return addr
	}
	t.Fatal("no free port in 10000-19999")
	return ""
}

// TestSandboxCommand: `kycbot sandbox` (the README's first command) ends
// verified with a running Redis and without one, and prints both sides of
// the chat.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	testkit.Need(t)
	cases := []struct {
		name      string
		args      []string
		inMemory  bool
		wantLines []string
	}{
		{name: "with redis", args: []string{"sandbox"}, wantLines: []string{"Redis: 127.0.0.1:6379"}},
		{name: "without redis", args: []string{"sandbox", "--redis", freeAddr(t)}, inMemory: true,
			wantLines: []string{"an in-process Redis is used: nothing is kept"}},
		{name: "every scenario in russian", args: []string{"sandbox", "--scenario", "all", "--lang", "ru"},
			// The fix scenario's selfie is measured blurry; verdicts are
			// edited into the "received" message.
			wantLines: []string{`Scenario "fix"`, `Scenario "final"`, "Result: rejected, as expected",
				"селфи с документом: фото размыто", "(edits its message)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runKycbot(t, tc.args...)
			if code != 0 {
				t.Fatalf("kycbot %v exited %d:\n%s", tc.args, code, out)
			}
			want := append([]string{"Ada → bot", "/start", "bot → Ada", "Result: verified, as expected"}, tc.wantLines...)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestSandboxCommandBadFlags: usage errors exit 2 with a hint.
func TestSandboxCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"sandbox", "--scenario", "nope"},
		{"sandbox", "--lang", "xx"},
	} {
		out, code := runKycbot(t, args...)
		if code != 2 || !strings.Contains(out, "kycbot help sandbox") {
			t.Errorf("kycbot %v: exit %d, output %q; want 2 and a hint", args, code, out)
		}
	}
}
