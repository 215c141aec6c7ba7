package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// result is what one in-process run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in-process with stdin and args.
func runCLI(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errOut strings.Builder
	code := run(context.Background(), args, stdin, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// wantOneLineError checks a failure: the exit status, nothing on stdout and
// exactly one line on stderr containing every one of want.
func wantOneLineError(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status = %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	if !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want exactly one line", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr = %q, want it to contain %q", r.stderr, w)
		}
	}
}

// testKeys are throwaway keys generated once: RSA generation is slow under
// the race detector.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, passport.MinKeyBits)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// writeKey writes k as PEM into dir with the given mode and returns its path.
func writeKey(t *testing.T, dir, name string, k *rsa.PrivateKey, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, passport.MarshalPrivateKey(k), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // beat the umask
		t.Fatal(err)
	}
	return p
}

func TestHelp(t *testing.T) {
	overview := []string{"help", "keygen", "decrypt", "check-config", "kycbot help <command>"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no arguments", nil, overview},
		{"help", []string{"help"}, overview},
		{"-h", []string{"-h"}, overview},
		{"--help", []string{"--help"}, overview},
		{"help keygen", []string{"help", "keygen"}, []string{"Usage: kycbot keygen --out FILE [--bits 2048]", "--bits", "0600"}},
		{"help decrypt", []string{"help", "decrypt"}, []string{"Usage: kycbot decrypt --key FILE", "--files DIR", "--out DIR", "chmod 600"}},
		{"help help", []string{"help", "help"}, []string{"Usage: kycbot help [command]"}},
		{"keygen -h", []string{"keygen", "-h"}, []string{"Usage: kycbot keygen"}},
		{"decrypt --help", []string{"decrypt", "--help"}, []string{"Usage: kycbot decrypt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit status %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestHelpOrder: the overview lists the commands in the order a new admin
// meets them, the subcommands under their command, help last.
func TestHelpOrder(t *testing.T) {
	want := []string{"keygen", "check-config", "run", "link", "sandbox", "sandbox serve", "sandbox users",
		"webhook", "audit", "decrypt", "help"}
	r := runCLI(t, nil, "help")
	var got []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if !strings.HasPrefix(l, "  ") {
			continue
		}
		f := strings.Fields(l)
		name := f[0]
		if len(f) > 1 && name == "sandbox" && (f[1] == "serve" || f[1] == "users") {
			name += " " + f[1]
		}
		got = append(got, name)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("help lists the commands as\n%q\nwant\n%q\n%s", got, want, r.stdout)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	r := runCLI(t, nil, "help")
	for _, c := range commands() {
		if !strings.Contains(r.stdout, "  "+c.name+" ") || !strings.Contains(r.stdout, c.summary) {
			t.Errorf("help does not list %s with its summary:\n%s", c.name, r.stdout)
		}
		if !strings.HasPrefix(c.usage, "Usage: kycbot "+c.name) {
			t.Errorf("usage of %s does not start with its synopsis: %q", c.name, c.usage)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "kycbot help"}},
		{"unknown top-level flag", []string{"--verbose"}, []string{`unknown flag "--verbose"`, "kycbot help"}},
		{"help for an unknown command", []string{"help", "nope"}, []string{`unknown command "nope"`, "kycbot help"}},
		{"help with two names", []string{"help", "keygen", "decrypt"}, []string{"at most one", "kycbot help help"}},
		{"keygen unknown flag", []string{"keygen", "--nope"}, []string{"kycbot keygen:", "-nope", "kycbot help keygen"}},
		{"decrypt unknown flag", []string{"decrypt", "--key", "k", "--nope"}, []string{"kycbot decrypt:", "-nope", "kycbot help decrypt"}},
		{"flag without value", []string{"keygen", "--out"}, []string{"needs an argument", "kycbot help keygen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOneLineError(t, runCLI(t, nil, tt.args...), exitUsage, tt.want...)
		})
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args     []string
		wantKey  string
		wantArgs []string
	}{
		{[]string{"--key", "k", "in.json"}, "k", []string{"in.json"}},
		{[]string{"in.json", "--key", "k"}, "k", []string{"in.json"}},
		{[]string{"-", "-key=k"}, "k", []string{"-"}},
		{[]string{"--key", "k", "--", "--odd-name", "x"}, "k", []string{"--odd-name", "x"}},
		{nil, "", nil},
	}
	for _, tt := range tests {
		fs := newFlagSet("t")
		key := fs.String("key", "", "")
		got, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if *key != tt.wantKey || strings.Join(got, "|") != strings.Join(tt.wantArgs, "|") {
			t.Errorf("parseFlags(%q) = key %q args %q, want %q %q", tt.args, *key, got, tt.wantKey, tt.wantArgs)
		}
	}
}
