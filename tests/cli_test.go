package tests

import (
	"context"
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

// freeAddr returns an address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
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
