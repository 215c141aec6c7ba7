package bot

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/kycbot/kycbot/passport"
)

// ErrKeyExposed is returned (wrapped) by LoadPrivateKey for a key file
// that group or others may access.
var ErrKeyExposed = errors.New("bot: private key file readable by others")

// MaxKeyFileSize bounds a private key file: a PEM RSA key of 8192 bits is
// under 7 KB.
const MaxKeyFileSize = 64 << 10

// LoadPrivateKey reads the bot's Passport private key (PEM) from path. Like
// ssh, it refuses a file that its group or others may read or write
// (chmod 600 fixes it), and anything that is not a regular file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return nil, fmt.Errorf("key file: no path given (config passport.private_key_file); create one with: kycbot keygen --out bot.pem")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s does not exist: create one with: kycbot keygen --out %s (then register its public key with @BotFather), or fix the path: %w",
			path, shellQuote(path), err)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: key file %s has mode %04o and group or others can access it; "+
			"restrict it to its owner with: chmod 600 %s", ErrKeyExposed, path, perm, shellQuote(path))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if len(b) > MaxKeyFileSize {
		return nil, fmt.Errorf("key file %s is larger than %d bytes: it is not a PEM private key", path, MaxKeyFileSize)
	}
	key, err := passport.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// shellQuote quotes s for a POSIX shell when it is not made of safe
// characters only, so advice like "chmod 600 FILE" can be pasted.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
