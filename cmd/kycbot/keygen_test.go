package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bot.pem")
	r := runCLI(t, nil, "keygen", "--out", out)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("keygen: exit %d, stderr %q", r.code, r.stderr)
	}

	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", st.Mode().Perm())
	}
	pemBytes, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pemBytes), "-----BEGIN RSA PRIVATE KEY-----\n") {
		t.Errorf("key file is not PKCS#1 PEM: starts with %q", firstLine(string(pemBytes)))
	}
	key, err := passport.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatalf("the written key does not parse: %v", err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("key is %d bits, want 2048 (the default)", key.N.BitLen())
	}

	// The printed public key is the written key's public half.
	begin := strings.Index(r.stdout, "-----BEGIN PUBLIC KEY-----")
	end := strings.Index(r.stdout, "-----END PUBLIC KEY-----")
	if begin < 0 || end < begin {
		t.Fatalf("stdout has no SPKI public key:\n%s", r.stdout)
	}
	pub, err := passport.ParsePublicKey([]byte(r.stdout[begin : end+len("-----END PUBLIC KEY-----")]))
	if err != nil {
		t.Fatalf("printed public key does not parse: %v", err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Error("printed public key does not match the written private key")
	}

	if strings.Contains(r.stdout, "PRIVATE") || strings.Contains(r.stdout, string(pemBytes[40:80])) {
		t.Errorf("stdout contains private key material:\n%s", r.stdout)
	}
	for _, w := range []string{"@BotFather", "/setpublickey", "Choose your bot", "Paste the public key", "secret", "chmod 600", out} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestKeygenRefusesToOverwrite(t *testing.T) {
	for _, kind := range []string{"file", "directory"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "bot.pem")
			const old = "the bot's current key, do not lose me\n"
			if kind == "file" {
				if err := os.WriteFile(out, []byte(old), 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, nil, "keygen", "--out", out)
			wantOneLineError(t, r, exitFailure, out, "already exists", "another path", "delete")
			if kind == "file" {
				b, err := os.ReadFile(out)
				if err != nil || string(b) != old {
					t.Errorf("existing file changed: %q, %v", b, err)
				}
			}
		})
	}
}

func TestKeygenWriteExcl(t *testing.T) {
	// The O_EXCL path itself, beyond the early check in runKeygen.
	dir := t.TempDir()
	p := filepath.Join(dir, "k.pem")
	if err := writeNewSecretFile(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	err := writeNewSecretFile(p, []byte("two"))
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second write: %v, want an 'already exists' error", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("file overwritten: %q", b)
	}
	if err := writeNewSecretFile(filepath.Join(dir, "missing", "k.pem"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestKeygenBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing --out", []string{"keygen"}, "--out FILE is required"},
		{"missing --out with bits", []string{"keygen", "--bits", "4096"}, "--out FILE is required"},
		{"--out to stdout", []string{"keygen", "--out", "-"}, "never written to stdout"},
		{"positional argument", []string{"keygen", "bot.pem"}, `unexpected argument "bot.pem"`},
		{"bits 1024", []string{"keygen", "--bits", "1024", "--out", "K"}, "--bits 1024 is too small"},
		{"bits 2047", []string{"keygen", "--bits", "2047", "--out", "K"}, "--bits 2047 is too small"},
		{"bits 0", []string{"keygen", "--bits", "0", "--out", "K"}, "--bits 0 is too small"},
		{"bits negative", []string{"keygen", "--bits=-1", "--out", "K"}, "--bits -1 is too small"},
		{"bits 2560", []string{"keygen", "--bits", "2560", "--out", "K"}, "--bits 2560 is not supported; use 2048, 3072 or 4096"},
		{"bits 8192", []string{"keygen", "--bits", "8192", "--out", "K"}, "--bits 8192 is not supported"},
		{"bits not a number", []string{"keygen", "--bits", "lots", "--out", "K"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				if a == "K" {
					a = filepath.Join(dir, "bot.pem")
				}
				args[i] = a
			}
			wantOneLineError(t, runCLI(t, nil, args...), exitUsage, tt.want, "kycbot help keygen")
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused keygen left files behind: %v", entries)
			}
		})
	}
}
