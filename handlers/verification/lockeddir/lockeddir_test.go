package lockeddir

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// A directory is made locked, under its final name only, and Remove takes
// it away with what it holds.
func TestCreateRemove(t *testing.T) {
	parent := t.TempDir()
	d, err := Create(parent, "kycbot-test-")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, parent); len(got) != 1 || got[0] != filepath.Base(d.Path()) || !strings.HasPrefix(got[0], "kycbot-test-") {
		t.Fatalf("parent holds %v, want only %s", got, filepath.Base(d.Path()))
	}
	if st, err := os.Stat(d.Path()); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v, %v; want mode 0700", st, err)
	}
	if err := os.MkdirAll(filepath.Join(d.Path(), "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "sub", "scan"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if got := names(t, parent); len(got) != 0 {
		t.Fatalf("after Remove the parent holds %v", got)
	}
}

func TestCreateBadPrefix(t *testing.T) {
	for _, prefix := range []string{"", ".hidden-", "a/b-"} {
		if _, err := Create(t.TempDir(), prefix); err == nil {
			t.Errorf("prefix %q accepted", prefix)
		}
	}
	if _, err := Create(filepath.Join(t.TempDir(), "missing"), "kycbot-test-"); err == nil {
		t.Error("a missing parent gave no error")
	}
}

// Sweep removes the directories whose lock is free and leaves those in use
// and those of other prefixes.
func TestSweep(t *testing.T) {
	if !Locking {
		t.Skip("no flock(2) on this system: Sweep removes nothing")
	}
	parent := t.TempDir()
	const prefix = "kycbot-test-"
	mk := func() *Dir {
		d, err := Create(parent, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.Path(), "scan"), []byte("staged"), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	live := mk()
	defer live.Remove()
	dead := mk()
	_ = dead.lock.Close() // as when its process dies: the kernel drops the lock
	// A directory left without its lock file (killed while removing it).
	noLock := mk()
	if err := os.Remove(filepath.Join(noLock.Path(), lockName)); err != nil {
		t.Fatal(err)
	}
	_ = noLock.lock.Close()
	other := filepath.Join(parent, "another-"+prefix+"x")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(parent, prefix+"a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	n, err := Sweep(parent, prefix)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 removed", n, err)
	}
	want := []string{filepath.Base(file), filepath.Base(other), filepath.Base(live.Path())}
	got := names(t, parent)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after Sweep the parent holds %v, want %v", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(live.Path(), "scan")); err != nil || string(b) != "staged" {
		t.Fatalf("the directory in use lost its contents: %q, %v", b, err)
	}
	if n, err := Sweep(parent, prefix); n != 0 || err != nil {
		t.Fatalf("second Sweep = %d, %v; want nothing removed", n, err)
	}
	if _, err := Sweep(filepath.Join(parent, "missing"), prefix); err == nil {
		t.Error("sweeping a missing parent gave no error")
	}
}
