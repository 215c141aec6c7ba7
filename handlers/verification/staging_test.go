package verification

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/handlers/verification/lockeddir"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// stagedFiles returns the staged scan files under dir (the flow's
// TempDir), with their contents.
func stagedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "scan-") {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScansStaged: while OnVerified runs, the scans rest on disk only as
// Telegram sent them (encrypted): no staged byte sequence holds a piece of
// a scan, and Open gives back the exact scans. By default the small scans
// of a submission stay in memory and nothing at all is written to
// TempDir; with a memory budget for two of the three scans, the third is
// staged on disk. Afterwards, TempDir is empty, the budget is whole again
// and the Verified opens nothing.
func TestScansStaged(t *testing.T) {
	p := goodProfile(t)
	scans := [][]byte{p.Front, p.Reverse, p.Selfie}
	// The encrypted size of each scan: its padding makes it at most
	// 255 + 16 bytes larger than the scan.
	largest := int64(0)
	for _, b := range scans {
		largest = max(largest, int64(len(b))+255+16)
	}
	for i, tc := range []struct {
		name       string
		scanMemory int64
		onDisk     int
	}{
		{"in memory by default", 0, 0},
		{"on disk without memory", -1, 3},
		{"on disk beyond the budget", 2 * largest, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, nil, func(c *Config) { c.ScanMemory = tc.scanMemory })
			user := int64(1101 + 10*i)
			checked := false
			var kept Verified
			e.inHook = func(v Verified) error {
				kept = v
				staged := stagedFiles(t, e.tempDir)
				if len(staged) != tc.onDisk {
					return fmt.Errorf("%d staged scan files, want %d", len(staged), tc.onDisk)
				}
				if es, _ := os.ReadDir(e.tempDir); tc.onDisk == 0 && len(es) != 0 {
					return fmt.Errorf("the temporary directory holds %d entries while every scan is in memory, want none", len(es))
				}
				for path, b := range staged {
					if rel, _ := filepath.Rel(e.tempDir, path); !strings.HasPrefix(rel, stagePrefix) {
						t.Errorf("scan staged at %s, outside a %s* directory", rel, stagePrefix)
					}
					for i, scan := range scans {
						// Any 32 bytes of the scan: its start, middle and end.
						for _, at := range []int{0, len(scan) / 2, len(scan) - 32} {
							if bytes.Contains(b, scan[at:at+32]) {
								t.Errorf("staged file %s holds scan %d in clear (bytes %d to %d)", filepath.Base(path), i, at, at+32)
							}
						}
					}
				}
				checked = true
				return nil
			}
			req := e.issue(user, "en")
			if out := e.process(e.submission(e.share(p, req.Nonce, nil), user, "en")); out.Result != handlers.SubmissionVerified {
				t.Fatalf("outcome = %+v, want verified", out)
			}
			if !checked {
				t.Fatal("the hook did not run")
			}
			got := e.files[0]
			for i, k := range []verify.ScanKey{
				scanKey(passport.TypeDriverLicense, passport.TargetFrontSide),
				scanKey(passport.TypeDriverLicense, passport.TargetReverseSide),
				scanKey(passport.TypeDriverLicense, passport.TargetSelfie),
			} {
				if !bytes.Equal(got[k], scans[i]) {
					t.Errorf("Open of %s.%s gave %d bytes differing from the %d-byte scan", k.Element, k.Target, len(got[k]), len(scans[i]))
				}
				if r, err := kept.Open(k); err == nil || !strings.Contains(err.Error(), "no longer staged") {
					if r != nil {
						_ = r.Close()
					}
					t.Errorf("Open of %s.%s after the hook returned: %v, want an error saying it is no longer staged", k.Element, k.Target, err)
				}
			}
			if left := stagedFiles(t, e.tempDir); len(left) != 0 {
				t.Errorf("staged files left after the submission: %v", left)
			}
			if es, _ := os.ReadDir(e.tempDir); len(es) != 0 {
				t.Errorf("the temporary directory holds %d entries after the submission, want none", len(es))
			}
			if free, want := e.flow.mem.free, max(e.flow.cfg.ScanMemory, 0); free != want {
				t.Errorf("%d bytes of scan memory free after the submission, want all %d", free, want)
			}
		})
	}
}

// TestSpool: a scan larger than Telegram declared goes on to disk with
// what came first, and gives its memory back; a failed download gives its
// memory back and leaves no file.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	st := &staging{parent: dir, mem: &memBudget{free: 100}}
	defer func() { _ = st.remove() }()
	data := make([]byte, 50)
	_, _ = rand.Read(data)

	sp, err := st.spool(10) // declared 10, 50 come
	if err != nil {
		t.Fatal(err)
	}
	if st.mem.free != 90 {
		t.Fatalf("%d bytes free after a 10-byte scan took its memory, want 90", st.mem.free)
	}
	for _, piece := range [][]byte{data[:8], data[8:30], data[30:]} {
		if _, err := sp.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := sp.finish(true, passport.FileCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.onDisk() || st.mem.free != 100 {
		t.Fatalf("the overgrown scan: on disk %v, %d bytes of memory free; want on disk, 100 free", sc.onDisk(), st.mem.free)
	}
	if b, err := os.ReadFile(sc.path); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the overgrown scan's file: %v, same bytes %v", err, bytes.Equal(b, data))
	}

	sp, err = st.spool(40)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Write(data[:20]); err != nil {
		t.Fatal(err)
	}
	if sc, err := sp.finish(false, passport.FileCredentials{}); err != nil || sc.mem != nil || sc.onDisk() || st.mem.free != 100 {
		t.Fatalf("a failed download: %+v, %v, %d bytes free; want nothing kept and 100 free", sc, err, st.mem.free)
	}
	if sp, err = st.spool(200); err != nil { // beyond the budget: a file from the start
		t.Fatal(err)
	}
	if _, err := sp.Write(data); err != nil {
		t.Fatal(err)
	}
	if sc, err := sp.finish(false, passport.FileCredentials{}); err != nil || sc.onDisk() || len(stagedFiles(t, dir)) != 1 {
		t.Fatalf("a failed download on disk: %+v, %v; %d files staged, want only the first scan's", sc, err, len(stagedFiles(t, dir)))
	}
	if err := st.remove(); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 || st.mem.free != 100 {
		t.Fatalf("after remove: %d entries in the directory, %d bytes free; want none and 100", len(es), st.mem.free)
	}
	if _, err := st.spool(200); err == nil {
		t.Fatal("a removed staging made a new file")
	}
}

// TestOpenDamagedScan: a staged file changed on disk (a flipped byte,
// cut short, grown) makes Open fail with the passport error saying so,
// never return other bytes; restored, it opens again.
func TestOpenDamagedScan(t *testing.T) {
	e := newEnvWith(t, nil, func(c *Config) { c.ScanMemory = -1 })
	const user = int64(1102)
	p := goodProfile(t)
	front := scanKey(passport.TypeDriverLicense, passport.TargetFrontSide)
	damages := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"first byte flipped", func(b []byte) []byte { b[0] ^= 1; return b }},
		{"middle byte flipped", func(b []byte) []byte { b[len(b)/2] ^= 0x80; return b }},
		{"last byte flipped", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"last block cut", func(b []byte) []byte { return b[:len(b)-16] }},
		{"cut mid-block", func(b []byte) []byte { return b[:len(b)-5] }},
		{"a block added", func(b []byte) []byte { return append(b, make([]byte, 16)...) }},
		{"emptied", func([]byte) []byte { return nil }},
	}
	e.inHook = func(v Verified) error {
		staged := stagedFiles(t, e.tempDir)
		for _, d := range damages {
			for path, orig := range staged {
				if err := os.WriteFile(path, d.damage(bytes.Clone(orig)), 0o600); err != nil {
					return err
				}
			}
			for k := range v.Scans {
				r, err := v.Open(k)
				if err == nil {
					b, rerr := io.ReadAll(r)
					_ = r.Close()
					t.Errorf("%s: Open of %s.%s succeeded (%d bytes read, read error %v)", d.name, k.Element, k.Target, len(b), rerr)
					continue
				}
				if !errors.Is(err, passport.ErrHashMismatch) && !errors.Is(err, passport.ErrMalformed) && !errors.Is(err, passport.ErrBadPadding) {
					t.Errorf("%s: Open error %v, want a passport hash, padding or format error", d.name, err)
				}
				if msg := err.Error(); !strings.Contains(msg, "changed or damaged") || !strings.Contains(msg, string(k.Element)) {
					t.Errorf("%s: Open error %q does not say which scan is damaged", d.name, msg)
				}
			}
		}
		for path, orig := range staged {
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				return err
			}
		}
		return nil // the env's hook now reads every scan: it must work again
	}
	req := e.issue(user, "en")
	if out := e.process(e.submission(e.share(p, req.Nonce, nil), user, "en")); out.Result != handlers.SubmissionVerified {
		t.Fatalf("outcome = %+v, want verified", out)
	}
	if len(e.files) != 1 || !bytes.Equal(e.files[0][front], p.Front) {
		t.Fatal("the restored scans did not open to the original bytes")
	}
}

// TestOpenOutsideFlow: a Verified the flow did not make opens nothing; one
// from WithScans opens its scans.
func TestOpenOutsideFlow(t *testing.T) {
	front := scanKey(passport.TypePassport, passport.TargetFrontSide)
	if _, err := (Verified{}).Open(front); err == nil {
		t.Error("an empty Verified opened a scan")
	}
	scan := jpegOf(t, 80, 60, 1)
	v := Verified{UserID: 1}.WithScans(map[verify.ScanKey][]byte{front: scan})
	if info := v.Scans[front]; !info.JPEG || info.Width != 80 || info.Size != int64(len(scan)) {
		t.Errorf("Scans = %+v", v.Scans)
	}
	r, err := v.Open(front)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if !bytes.Equal(b, scan) {
		t.Error("WithScans: Open gave other bytes")
	}
	if _, err := v.Open(scanKey(passport.TypePassport, passport.TargetSelfie)); err == nil {
		t.Error("WithScans: a scan not given opened")
	}
}

// helperEnv makes the test binary a process that stages a scan in the
// directory it names and waits to be killed (TestStagingHelperProcess).
const helperEnv = "KYCBOT_TEST_STAGING_HELPER"

// TestStagingHelperProcess is not a test: run by TestLeftoversRemoved in
// a child process, it stages a scan as the flow does, prints the staging
// directory and waits.
func TestStagingHelperProcess(t *testing.T) {
	tempDir := os.Getenv(helperEnv)
	if tempDir == "" {
		return // not in a child process of TestLeftoversRemoved
	}
	key := handlerstest.Key(t)
	p := goodProfile(t)
	sh, err := passport.EncryptSubmission(rand.Reader, &key.PublicKey, "nonce-of-the-helper", p.elements())
	if err != nil {
		t.Fatal(err)
	}
	tgc := &handlerstest.Telegram{}
	tgc.Serve(sh)
	creds, err := passport.DecryptCredentials(key, sh.Submission.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := creds.Open(sh.Submission.Elements)
	if err != nil {
		t.Fatal(err)
	}
	st := &staging{parent: tempDir, mem: &memBudget{}} // no memory: on disk
	if _, err := fetchAll(context.Background(), tgc, sub, st, 2, true); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("staged %s\n", st.dir.Path())
	time.Sleep(time.Hour) // until killed
}

// startStager starts a helper process staging scans in tempDir and
// returns it with its staging directory.
func startStager(t *testing.T, tempDir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStagingHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+tempDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "staged ")
	if err != nil || !ok {
		t.Fatalf("the helper process said %q (%v), want the staging directory", line, err)
	}
	if len(stagedFiles(t, dir)) == 0 {
		t.Fatalf("the helper process staged nothing in %s", dir)
	}
	return cmd, dir
}

// TestLeftoversRemoved: the scans staged by a process killed with SIGKILL
// mid-submission are removed when a flow starts; those of a live process
// are left alone.
func TestLeftoversRemoved(t *testing.T) {
	if !lockeddir.Locking {
		t.Skip("no flock(2) on this system: leftovers are not removed (see Config.TempDir)")
	}
	tempDir := t.TempDir()
	killed, deadDir := startStager(t, tempDir)
	_, liveDir := startStager(t, tempDir)
	if err := killed.Process.Kill(); err != nil { // SIGKILL: nothing runs in the child
		t.Fatal(err)
	}
	_ = killed.Wait()
	if _, err := os.Stat(deadDir); err != nil {
		t.Fatalf("the killed process's staging directory is not there to remove: %v", err)
	}

	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{
		Key: handlerstest.Key(t), Store: struct{ Store }{}, // New touches no store
		Telegram: &handlerstest.Telegram{}, Catalog: cat,
		Checkers: map[string]*verify.Checker{level: testChecker(t, time.Now)},
		PageURL:  func(string) string { return pageBase }, TempDir: tempDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(deadDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the staging directory of the killed process is still there after a flow started: %v", err)
	}
	if len(stagedFiles(t, liveDir)) == 0 {
		t.Error("a flow's start removed the scans of a live process")
	}
}

// TestTempDirUnusable: a scan that must go to disk (no scan memory) when
// TempDir cannot hold a directory fails the submission with the code
// temp_dir, before any download; the same submission with scans
// in memory never touches TempDir and is verified.
func TestTempDirUnusable(t *testing.T) {
	for i, tc := range []struct {
		scanMemory int64
		verified   bool
	}{
		{-1, false},
		{0, true},
	} {
		t.Run(fmt.Sprint("scan memory ", tc.scanMemory), func(t *testing.T) {
			notDir := filepath.Join(t.TempDir(), "a-file")
			if err := os.WriteFile(notDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			e := newEnvWith(t, nil, func(c *Config) { c.ScanMemory, c.TempDir = tc.scanMemory, notDir })
			user := int64(1201 + i)
			p := goodProfile(t)
			out, err := e.flow.Process(e.ctx, e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en"))
			if tc.verified {
				if err != nil || out.Result != handlers.SubmissionVerified {
					t.Fatalf("with the scans in memory: %+v, %v; want verified", out, err)
				}
				return
			}
			if err == nil || errors.Is(err, handlers.ErrRetryLater) || out.Result != handlers.SubmissionFailed || out.Reason != "temp_dir" {
				t.Fatalf("outcome %+v, error %v; want failed with temp_dir and a final error", out, err)
			}
			if !strings.Contains(err.Error(), "staging directory") {
				t.Errorf("error %q does not say the staging directory failed", err)
			}
			if ev := e.lastAudit(); ev.Kind != "processing_failed" || !slices.Equal(ev.Codes, []string{"temp_dir"}) {
				t.Errorf("audit = %+v", ev)
			}
			if n := e.tg.Downloads(); n != 0 {
				t.Errorf("%d downloads: a scan was downloaded with nowhere to stage it", n)
			}
		})
	}
}
