package tests

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Telegram Passport's OAEP uses SHA-1
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/tests/testkit"
)

// noFilesConfig asks for data only: no scans to download.
func noFilesConfig() string {
	return strings.Replace(demo.DefaultConfig(), `      - one_of: [passport, driver_license, identity_card]
        selfie: true
`, "", 1)
}

// benchVerdicts verifies b.N fresh users one after the other and reports
// the time from sharing to the verdict (median and p99), and, with a CPU
// profile of the run, the bot's CPU per verification against one RSA-2048
// OAEP decryption (the one operation no Passport bot can avoid).
func benchVerdicts(b *testing.B, configYAML string) {
	b.ReportAllocs()
	w := newWorld(b, worldOptions{configYAML: configYAML})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute) // testContext's 2 minutes are too short for b.N users
	defer cancel()
	// verify plays user i from /start to the verdict, timing what
	// follows the tap on "Share" (the warm-up's timing is reset below).
	verify := func(i int) time.Duration {
		u := w.user("en", nil)
		defer func() { _ = u.Close() }()
		page, _ := w.request(ctx, u, "")
		link, err := u.OpenURL(ctx, page)
		if err != nil {
			b.Fatal(err)
		}
		for typ := range u.Profile() { // the app uploads while the user fills the form
			if w.Config.Levels["full"].Scope.Contains(typ) {
				if err := u.Fix(ctx, typ, func(*sandbox.ProfileElement) {}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := u.FillForm(ctx, link); err != nil {
			b.Fatal(err)
		}
		m := w.next(ctx, u)
		d := time.Since(start)
		b.StopTimer()
		if m.Text != w.text("en", i18n.MsgResultVerified, nil) {
			b.Fatalf("user %d: %q", i, m.Text)
		}
		return d
	}
	// A few users first, outside the timer and the profile: the bot's
	// first verifications open its connections to the other data centres
	// (an MTProto key exchange each), load the store's scripts and warm
	// its pools, once a process and not once a verification.
	for i := range benchWarmUp {
		verify(-1 - i)
	}
	var verdicts []time.Duration
	b.ResetTimer()
	b.StopTimer()
	stopProfile := profileCPU(b)
	for i := range b.N {
		verdicts = append(verdicts, verify(i))
	}
	prof := stopProfile()
	slices.Sort(verdicts)
	b.ReportMetric(float64(verdicts[len(verdicts)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(verdicts[min(len(verdicts)-1, len(verdicts)*99/100)].Microseconds())/1000, "p99-ms")
	reportBotCPU(b, prof, b.N)
}

// benchWarmUp is how many users benchVerdicts verifies before it measures.
const benchWarmUp = 5

// profileCPU starts a CPU profile of the process; the function it
// returns stops it and returns the profile's file.
func profileCPU(b *testing.B) (stop func() string) {
	b.Helper()
	prof := filepath.Join(b.TempDir(), "cpu.out")
	f, err := os.Create(prof)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pprof.StopCPUProfile) // after a failure; stopping twice is harmless
	return func() string {
		pprof.StopCPUProfile()
		_ = f.Close()
		return prof
	}
}

// reportBotCPU reports, from the CPU profile prof of n verifications, the
// bot's CPU per verification and its ratio to one RSA-2048 OAEP
// decryption measured in the same run: on the backend the bot uses
// (passport.NewKey: OpenSSL where available; "bot-cpu/rsa-decrypt") and on
// Go's crypto/rsa ("bot-cpu/rsa-go", the unit of earlier runs). With
// KYCBOT_CPU_PROFILES set to a directory, the profile is copied there as
// <benchmark>.prof, for go tool pprof -tagfocus=kycbot=bot.
func reportBotCPU(b *testing.B, prof string, n int) {
	b.Helper()
	if dir := os.Getenv("KYCBOT_CPU_PROFILES"); dir != "" {
		keep := filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+".prof")
		if data, err := os.ReadFile(prof); err != nil || os.WriteFile(keep, data, 0o600) != nil {
			b.Logf("the profile was not copied to %s", keep)
		}
	}
	botCPU, err := labelledCPU(prof)
	if err != nil {
		b.Logf("bot CPU not measured: %v", err)
		return
	}
	native, goRSA := oneRSA(b)
	perVerification := botCPU / time.Duration(n)
	b.ReportMetric(float64(perVerification.Microseconds())/1000, "bot-cpu-ms/verification")
	b.ReportMetric(float64(native.Microseconds())/1000, "rsa-ms")
	b.ReportMetric(float64(perVerification)/float64(native), "bot-cpu/rsa-decrypt")
	b.ReportMetric(float64(perVerification)/float64(goRSA), "bot-cpu/rsa-go")
}

var showing = regexp.MustCompile(`Showing nodes accounting for ([0-9.]+)(ms|s|us|µs|min)`)

// labelledCPU sums the CPU samples of the bot's goroutines (label
// kycbot=bot) with go tool pprof.
func labelledCPU(prof string) (time.Duration, error) {
	out, err := exec.Command("go", "tool", "pprof", "-tagfocus=kycbot=bot", "-nodefraction=0", "-top", prof).CombinedOutput()
	if err != nil {
		return 0, err
	}
	m := showing.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no samples of the bot in the profile (a run too short?): %.300s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "min": time.Minute}[string(m[2])]
	return time.Duration(v * float64(unit)), nil
}

// oneRSA measures the CPU time of one RSA-2048 OAEP-SHA1 decryption of a
// credentials secret with the bot's key, on the backend the bot uses
// (native) and on crypto/rsa, interleaved.
func oneRSA(b *testing.B) (native, goRSA time.Duration) {
	key, err := botKey()
	if err != nil {
		b.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, make([]byte, 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	nk, err := passport.NewKey(key)
	if err != nil {
		b.Fatal(err)
	}
	defer nk.Close()
	b.Logf("RSA backend: %s", nk.Backend())
	// CPU time, like the bot's from the profile: the wall clock would count
	// the time other processes of a shared machine hold the core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, ok := testkit.ThreadCPU(); !ok {
		b.Log("the thread's CPU time cannot be read here: the RSA unit is wall-clock time")
	}
	timed := func(k crypto.Decrypter) time.Duration {
		c0, cpu := testkit.ThreadCPU()
		start := time.Now()
		if _, err := passport.DecryptCredentialsSecret(k, ct); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		if c1, _ := testkit.ThreadCPU(); cpu {
			return c1 - c0
		}
		return wall
	}
	// testing.Benchmark cannot run inside a benchmark: time a loop.
	const n = 200
	for range n {
		native += timed(nk)
		goRSA += timed(key)
	}
	return native / n, goRSA / n
}

// BenchmarkVerdictWithFiles: personal details, a driving licence with
// three scans, an address, a phone number and an email.
func BenchmarkVerdictWithFiles(b *testing.B) { benchVerdicts(b, "") }

// BenchmarkVerdictWithFilesNoSharpness: the same with the sharpness rule
// off (files.min_sharpness: 0), to tell its cost (a JPEG decode per scan)
// from the rest.
func BenchmarkVerdictWithFilesNoSharpness(b *testing.B) {
	cfg := strings.Replace(demo.DefaultConfig(), "    min_height: 320\n", "    min_height: 320\n    min_sharpness: 0\n", 1)
	if cfg == demo.DefaultConfig() {
		b.Fatal("the demo config has no files.min_height: 320 line to add min_sharpness after")
	}
	benchVerdicts(b, cfg)
}

// BenchmarkVerdictWithoutFiles: the same without the document.
func BenchmarkVerdictWithoutFiles(b *testing.B) { benchVerdicts(b, noFilesConfig()) }
