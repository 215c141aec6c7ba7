package bot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

func TestLoadPrivateKey(t *testing.T) {
	key, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	pem := passport.MarshalPrivateKey(key)
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("bot.pem", pem, 0o600)
	got, err := LoadPrivateKey(good)
	if err != nil || !got.Equal(key) {
		t.Fatalf("LoadPrivateKey(0600 file) = %v, %v", got != nil, err)
	}
	for _, tc := range []struct {
		name, path string
		is         error
		want       string
	}{
		{"readable by group", write("group.pem", pem, 0o640), ErrKeyExposed, "chmod 600"},
		{"readable by all", write("all.pem", pem, 0o644), ErrKeyExposed, "chmod 600"},
		{"name needing quotes", write("my key.pem", pem, 0o604), ErrKeyExposed, "chmod 600 '" + filepath.Join(dir, "my key.pem") + "'"},
		{"not a key", write("junk.pem", []byte("hello"), 0o600), nil, "junk.pem"},
		{"too large", write("big.pem", make([]byte, MaxKeyFileSize+1), 0o600), nil, "larger than"},
		{"missing", filepath.Join(dir, "none.pem"), os.ErrNotExist, "key file"},
		{"directory", dir, nil, "not a regular file"},
		{"no path", "", nil, "kycbot keygen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPrivateKey(tc.path)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "hello") {
				t.Errorf("the error shows the file's content: %q", err)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"bot.pem":           "bot.pem",
		"/etc/kycbot/k.pem": "/etc/kycbot/k.pem",
		"my key.pem":        "'my key.pem'",
		"it's.pem":          `'it'\''s.pem'`,
		"":                  "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
