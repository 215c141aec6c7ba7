package tests

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/verify"
)

// TestScansInMemory: with the default passport.scan_memory_mb, the bot
// verifies a user with three scans without creating anything in its
// temporary directory, and the OnVerified hook reads back the exact
// scans; with scan_memory_mb: 0 the same scans are staged there, one
// encrypted file each, in a directory removed with the submission.
func TestScansInMemory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		yaml   string
		onDisk int
	}{
		{"default", demo.DefaultConfig(), 0},
		{"scan_memory_mb 0", strings.Replace(demo.DefaultConfig(), "passport:\n", "passport:\n  scan_memory_mb: 0\n", 1), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.yaml == demo.DefaultConfig() && tc.onDisk > 0 {
				t.Fatal("the demo config has no passport: section to add scan_memory_mb to")
			}
			tmp := t.TempDir()
			var w *world
			var staged []string // the staged files the hook saw
			hook := func(ctx context.Context, v bot.Verified) error {
				err := filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
					if err == nil && path != tmp && (!d.IsDir() || !strings.HasPrefix(d.Name(), "kycbot-scans-")) && d.Name() != ".lock" {
						staged = append(staged, path)
					}
					return err
				})
				if err != nil {
					return err
				}
				return w.onVerified(ctx, v)
			}
			w = newWorld(t, worldOptions{configYAML: tc.yaml, bot: []bot.Option{bot.WithTempDir(tmp), bot.WithOnVerified(hook)}})
			ctx := testContext(t)
			p := sandbox.SampleProfile("scanmem-" + fmt.Sprint(tc.onDisk))
			u := w.user("en", p)
			w.verifyUser(ctx, u, "")
			if len(staged) != tc.onDisk {
				t.Errorf("while OnVerified ran, the temporary directory held %d files (%q), want %d", len(staged), staged, tc.onDisk)
			}
			dl := p[passport.TypeDriverLicense]
			scans := map[passport.TargetKind]*sandbox.Scan{passport.TargetFrontSide: dl.FrontSide, passport.TargetReverseSide: dl.ReverseSide, passport.TargetSelfie: dl.Selfie}
			for _, path := range staged {
				b, err := os.ReadFile(path)
				if err != nil {
					continue // removed since: the check below says so
				}
				for target, s := range scans {
					if clear := scanBytes(t, s); bytes.Contains(b, clear[len(clear)/2:len(clear)/2+32]) {
						t.Errorf("staged file %s holds the %s scan in clear", filepath.Base(path), passport.TargetOf(target))
					}
				}
			}
			w.s.mu.Lock()
			if len(w.s.verified) != 1 {
				w.s.mu.Unlock()
				t.Fatalf("OnVerified ran %d times, want once", len(w.s.verified))
			}
			got := w.s.verified[0].files
			w.s.mu.Unlock()
			for target, s := range scans {
				key := verify.ScanKey{Element: passport.TypeDriverLicense, Target: passport.TargetOf(target)}
				if !bytes.Equal(got[key], scanBytes(t, s)) {
					t.Errorf("OnVerified read %d bytes for the %s scan, not the %d uploaded", len(got[key]), key.Target, len(scanBytes(t, s)))
				}
			}
			if es, err := os.ReadDir(tmp); err != nil || len(es) != 0 {
				t.Errorf("the temporary directory after the verdict: %d entries (%v), want none", len(es), err)
			}
		})
	}
}
