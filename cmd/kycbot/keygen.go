package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/kycbot/kycbot/passport"
)

const keygenUsage = `Usage: kycbot keygen --out FILE [--bits 2048]

Generate the bot's RSA key for Telegram Passport. The private key is written
to FILE (PEM, PKCS#1, mode 0600); FILE must not exist yet. The public key is
printed with the steps to register it with @BotFather. The private key is
never printed.

Flags:
  --out FILE   where to write the private key (required; never overwritten)
  --bits N     key size in bits: 2048 (default), 3072 or 4096

Exit status: 0 on success, 1 on failure, 2 on bad flags.
`

// keyBitsAllowed are the key sizes keygen produces.
var keyBitsAllowed = []int{2048, 3072, 4096}

func runKeygen(e *env, args []string) int {
	const name = "keygen"
	flags := newFlagSet(name)
	out := flags.String("out", "", "")
	bits := flags.Int("bits", 2048, "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	switch {
	case len(positional) > 0:
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the key file goes in --out)", positional[0]))
	case *out == "":
		return e.usageError(name, "--out FILE is required (where to write the private key)")
	case *out == "-":
		return e.usageError(name, "--out must name a file: the private key is never written to stdout")
	case *bits < passport.MinKeyBits:
		return e.usageError(name, fmt.Sprintf("--bits %d is too small: keys below %d bits are refused; use 2048, 3072 or 4096",
			*bits, passport.MinKeyBits))
	case !slices.Contains(keyBitsAllowed, *bits):
		return e.usageError(name, fmt.Sprintf("--bits %d is not supported; use 2048, 3072 or 4096", *bits))
	}

	// Fail before the slow key generation when the file is already there;
	// O_EXCL below is what actually guarantees no overwrite.
	if _, err := os.Lstat(*out); err == nil {
		return e.fail(name, existsError(*out))
	}
	key, err := passport.GenerateKey(*bits)
	if err != nil {
		return e.fail(name, err)
	}
	if err := e.ctx.Err(); err != nil {
		return e.fail(name, fmt.Errorf("interrupted, no key written: %w", err))
	}
	pub, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return e.fail(name, err)
	}
	if err := writeNewSecretFile(*out, passport.MarshalPrivateKey(key)); err != nil {
		return e.fail(name, err)
	}

	fmt.Fprintf(e.stdout, `Wrote a new %d-bit RSA private key to %s (mode 0600).

Public key for @BotFather:

%s
To let your bot receive Telegram Passport data:
  1. Open @BotFather in Telegram.
  2. Send /setpublickey.
  3. Choose your bot.
  4. Paste the public key above, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY----- inclusive.

Keep %s secret: it must stay readable only by the user the bot runs as
(chmod 600), and it must never be shared, printed or committed. Anyone who
has it can decrypt the documents your users share. kycbot refuses to use a
key file that group or others can access.
`, *bits, *out, pub, *out)
	return exitOK
}

func existsError(path string) error {
	return fmt.Errorf("%s already exists; choose another path with --out, or delete it first if you are sure it is not a key in use", path)
}

// writeNewSecretFile creates path (which must not exist) with mode 0600 and
// writes b to it. On any failure the file is removed.
func writeNewSecretFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		return fmt.Errorf("the folder %s does not exist: create it first (mkdir -p %s, readable only by the bot's user) or give --out a path in an existing folder", dir, dir)
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}
