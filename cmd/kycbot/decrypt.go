package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/handlers/verification/lockeddir"
	"github.com/kycbot/kycbot/passport"
)

const decryptUsage = `Usage: kycbot decrypt --key FILE [--files DIR --out DIR] [FILE|-]

Decrypt a Telegram Passport submission offline, for support and debugging.
The input (FILE, or stdin when FILE is "-" or absent) is a Bot API
PassportData object ({"data": [...], "credentials": {...}}); a whole Bot API
Message or Update carrying it in "passport_data" is accepted too.

The result is printed as JSON:

  {"nonce": "...", "elements": [{"type": "...", "data": {...},
    "phone_number": "...", "email": "...",
    "front_side"|"reverse_side"|"selfie": {"file_id": "...", "file_hash": "<base64>", "sha256": "<hex>"},
    "files"|"translation": [{...}, ...]}]}

with keys only where the element has them, and "sha256" (of the decrypted
file) only when files are decrypted.

Flags:
  --key FILE   the bot's private key (PEM); it must not be accessible by
               group or others (chmod 600 FILE)
  --files DIR  directory holding the encrypted files, each named by its file_id
  --out DIR    directory for the decrypted files, written as <file_id>.jpg
               (mode 0600; DIR is created with mode 0700 if missing). A file is
               published only after its hash is verified; until then it waits
               in DIR/kycbot-decrypt-<random>/, removed at the end, or by the
               next run if this one is killed. Use --files and --out together.

Exit status: 0 on success; 1 on any failure (wrong key, tampered data, bad
input, missing file), with one line on stderr and nothing on stdout; 2 on bad
flags. The output contains personal data: handle it accordingly.
`

const (
	// maxInputSize bounds the PassportData read: it holds element data and
	// credentials, never the files.
	maxInputSize = 8 << 20
)

func runDecrypt(e *env, args []string) int {
	const name = "decrypt"
	flags := newFlagSet(name)
	keyPath := flags.String("key", "", "")
	filesDir := flags.String("files", "", "")
	outDir := flags.String("out", "", "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	switch {
	case len(positional) > 1:
		return e.usageError(name, fmt.Sprintf("expected at most one input file, got %d", len(positional)))
	case *keyPath == "":
		return e.usageError(name, "--key FILE is required (the bot's private key)")
	case (*filesDir == "") != (*outDir == ""):
		return e.usageError(name, "--files DIR and --out DIR must be given together")
	}
	input := "-"
	if len(positional) == 1 {
		input = positional[0]
	} else if isCharDevice(e.stdin) {
		return e.usageError(name, "no input: give the PassportData JSON file as an argument, or pipe it in "+
			"(use - to paste it into the terminal)")
	}

	out, err := decrypt(e, *keyPath, input, *filesDir, *outDir)
	if err != nil {
		return e.fail(name, err)
	}
	if _, err := e.stdout.Write(out); err != nil {
		return e.fail(name, fmt.Errorf("write output: %w", err))
	}
	return exitOK
}

// decryptOutput is the JSON printed by decrypt.
type decryptOutput struct {
	Nonce    string          `json:"nonce"`
	Elements []outputElement `json:"elements"`
}

type outputElement struct {
	Type        string            `json:"type"`
	Data        map[string]string `json:"data,omitzero"` // present, maybe {}, for types with data
	PhoneNumber string            `json:"phone_number,omitempty"`
	Email       string            `json:"email,omitempty"`
	FrontSide   *outputFile       `json:"front_side,omitempty"`
	ReverseSide *outputFile       `json:"reverse_side,omitempty"`
	Selfie      *outputFile       `json:"selfie,omitempty"`
	Files       []outputFile      `json:"files,omitempty"`
	Translation []outputFile      `json:"translation,omitempty"`
}

type outputFile struct {
	FileID   string `json:"file_id"`
	FileHash string `json:"file_hash"`        // base64 of the credentials' file hash
	SHA256   string `json:"sha256,omitempty"` // hex SHA-256 of the decrypted file
}

// decrypt does the work of the decrypt command and returns the JSON to
// print. Nothing is printed on failure.
func decrypt(e *env, keyPath, input, filesDir, outDir string) ([]byte, error) {
	key, err := bot.LoadPrivateKey(keyPath)
	if err != nil {
		return nil, err
	}
	raw, err := readInput(input, e.stdin)
	if err != nil {
		return nil, err
	}
	es, err := passport.ParseBotAPI(passportDataOf(raw))
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	creds, err := passport.DecryptCredentials(key, es.Credentials)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	sub, err := creds.Open(es.Elements)
	if err != nil {
		return nil, fmt.Errorf("elements: %w", err)
	}

	fd := &fileDecrypter{e: e, filesDir: filesDir, outDir: outDir}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o700); err != nil {
			return nil, fmt.Errorf("create output directory: %w", err)
		}
		// Files being decrypted wait, unverified, in a directory of --out
		// this process locks; those of a run that was killed go now.
		if _, err := lockeddir.Sweep(outDir, decryptStagePrefix); err != nil {
			return nil, fmt.Errorf("remove the unverified files of an interrupted run: %w", err)
		}
		stage, err := lockeddir.Create(outDir, decryptStagePrefix)
		if err != nil {
			return nil, fmt.Errorf("create output directory: %w", err)
		}
		defer stage.Remove()
		fd.stageDir = stage.Path()
	}
	res := decryptOutput{Nonce: sub.Nonce, Elements: make([]outputElement, 0, len(sub.Elements))}
	for i := range sub.Elements {
		oe, err := fd.element(&sub.Elements[i])
		if err != nil {
			return nil, err
		}
		res.Elements = append(res.Elements, oe)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return buf.Bytes(), nil
}

// readInput reads the PassportData JSON from the file name, or from stdin
// for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	label := "stdin"
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		defer f.Close()
		label, r = name, f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("input: read %s: %w", label, err)
	}
	if len(b) > maxInputSize {
		return nil, fmt.Errorf("input: %s is larger than %d bytes: it is not a PassportData object", label, maxInputSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("input: %s is empty; expected a Bot API PassportData JSON object", label)
	}
	return b, nil
}

// isCharDevice reports whether r is a character device: a terminal, where
// reading would wait for typing after a forgotten FILE argument, or a
// device like /dev/null. Either way no PassportData is coming.
func isCharDevice(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// passportDataOf returns the PassportData object in b: b itself, or the
// "passport_data" of a Bot API Message, or of the "message" of an Update,
// for input pasted whole from a log. Input that does not decode is returned
// as is, for ParseBotAPI to describe the problem.
func passportDataOf(b []byte) []byte {
	var probe struct {
		PassportData json.RawMessage `json:"passport_data"`
		Message      *struct {
			PassportData json.RawMessage `json:"passport_data"`
		} `json:"message"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return b
	}
	present := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	switch {
	case present(probe.PassportData):
		return probe.PassportData
	case probe.Message != nil && present(probe.Message.PassportData):
		return probe.Message.PassportData
	}
	return b
}

// fileDecrypter describes the files of elements and, when filesDir is set,
// decrypts them from filesDir/<file_id> into outDir/<file_id>.jpg.
type fileDecrypter struct {
	e                *env
	filesDir, outDir string
	stageDir         string // where files wait until verified
}

// decryptStagePrefix names the locked directories, in --out, of the files
// being decrypted.
const decryptStagePrefix = "kycbot-decrypt-"

func (d *fileDecrypter) element(el *passport.Element) (outputElement, error) {
	oe := outputElement{Type: string(el.Type), Data: el.Fields, PhoneNumber: el.PhoneNumber, Email: el.Email}
	var err error
	if oe.FrontSide, err = d.single(el.Type, "front_side", el.FrontSide); err != nil {
		return oe, err
	}
	if oe.ReverseSide, err = d.single(el.Type, "reverse_side", el.ReverseSide); err != nil {
		return oe, err
	}
	if oe.Selfie, err = d.single(el.Type, "selfie", el.Selfie); err != nil {
		return oe, err
	}
	if oe.Files, err = d.list(el.Type, "files", el.Files); err != nil {
		return oe, err
	}
	if oe.Translation, err = d.list(el.Type, "translation", el.Translation); err != nil {
		return oe, err
	}
	return oe, nil
}

func (d *fileDecrypter) single(t passport.ElementType, part string, f *passport.File) (*outputFile, error) {
	if f == nil {
		return nil, nil
	}
	of, err := d.file(fmt.Sprintf("%s %s", t, part), f)
	if err != nil {
		return nil, err
	}
	return &of, nil
}

func (d *fileDecrypter) list(t passport.ElementType, part string, fs []passport.File) ([]outputFile, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	out := make([]outputFile, len(fs))
	for i := range fs {
		of, err := d.file(fmt.Sprintf("%s %s[%d]", t, part, i), &fs[i])
		if err != nil {
			return nil, err
		}
		out[i] = of
	}
	return out, nil
}

func (d *fileDecrypter) file(what string, f *passport.File) (outputFile, error) {
	of := outputFile{FileID: f.FileID, FileHash: base64.StdEncoding.EncodeToString(f.Credentials.FileHash)}
	if d.filesDir == "" {
		return of, nil
	}
	if err := d.e.ctx.Err(); err != nil {
		return of, fmt.Errorf("interrupted: %w", err)
	}
	if err := checkFileID(f.FileID); err != nil {
		return of, fmt.Errorf("%s: %w", what, err)
	}
	sum, err := decryptFileTo(d.stageDir, d.outDir, f, filepath.Join(d.filesDir, f.FileID))
	if err != nil {
		return of, fmt.Errorf("%s (file_id %s): %w", what, f.FileID, err)
	}
	of.SHA256 = hex.EncodeToString(sum)
	return of, nil
}

// checkFileID refuses file_ids that are not a plain file name: they come
// from untrusted input and become paths.
func checkFileID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`+"\x00") || strings.Contains(id, "..") || !filepath.IsLocal(id) {
		return fmt.Errorf("file_id %q is not a plain file name (empty, or contains a path separator or \"..\"); refusing to use it as a path", id)
	}
	return nil
}

// decryptFileTo decrypts the encrypted file at src into
// outDir/<file_id>.jpg, through stageDir, and returns the SHA-256 of the
// decrypted bytes. The output appears only once the file's hash is
// verified.
func decryptFileTo(stageDir, outDir string, f *passport.File, src string) ([]byte, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("encrypted file: %w", err)
	}
	defer in.Close()
	dst, err := newStagedFile(stageDir, filepath.Join(outDir, f.FileID+".jpg"))
	if err != nil {
		return nil, err
	}
	if _, err := passport.DecryptFile(dst, in, f.Credentials); err != nil {
		return nil, err
	}
	return dst.h.Sum(nil), nil
}

// stagedFile is a passport.Stager: bytes go to a temporary file (mode 0600)
// in a staging directory on the destination's file system (a locked
// directory of --out, removed at the end and swept by the next run if this
// one is killed), renamed into place on Commit and removed on Discard, so
// an unverified file is never visible under its final name. It hashes what
// is written with SHA-256.
type stagedFile struct {
	f      *os.File
	h      hash.Hash
	final  string
	closed bool
}

var _ passport.Stager = (*stagedFile)(nil)

// newStagedFile stages a file in dir that Commit renames to final.
func newStagedFile(dir, final string) (*stagedFile, error) {
	f, err := os.CreateTemp(dir, "*.partial")
	if err != nil {
		return nil, fmt.Errorf("create output file: %w", err)
	}
	return &stagedFile{f: f, h: sha256.New(), final: final}, nil
}

func (s *stagedFile) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.h.Write(p[:n])
	return n, err
}

func (s *stagedFile) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}

// Commit publishes the file under its final name. On failure the temporary
// file is removed (DecryptFile does not call Discard after Commit).
func (s *stagedFile) Commit() error {
	err := s.f.Sync()
	if cerr := s.close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.f.Name(), s.final)
	}
	if err != nil {
		_ = os.Remove(s.f.Name())
		return fmt.Errorf("write output file: %w", err)
	}
	return nil
}

// Discard removes the temporary file.
func (s *stagedFile) Discard() error {
	cerr := s.close()
	if err := os.Remove(s.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return cerr
}
