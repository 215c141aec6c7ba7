package tests

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/verify"
)

// bigScan is an 8 MB JPEG: a real picture followed by incompressible
// bytes (JPEG decoders stop at the end-of-image marker).
func bigScan(t *testing.T, text string) sandbox.Scan {
	t.Helper()
	img := scanBytes(t, &sandbox.Scan{Text: text, Width: 800, Height: 600})
	data := make([]byte, 8<<20)
	copy(data, img)
	if _, err := rand.Read(data[len(img):]); err != nil {
		t.Fatal(err)
	}
	return sandbox.Scan{Data: data}
}

// heapObjects reads the bytes of heap objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestMemoryFiveLargeScans: a submission with five 8 MB scans (a driving
// licence's three sides and two pages of a utility bill) keeps the heap
// growth under 32 MB while the bot downloads, decrypts and checks them
// and, with include_files, while the business fetches each from its
// one-time link: scans stream, they are never all in memory.
func TestMemoryFiveLargeScans(t *testing.T) {
	yml := strings.Replace(demo.DefaultConfig(), "      - address\n", "      - address\n      - utility_bill\n", 1)
	if !strings.Contains(yml, "utility_bill") {
		t.Fatal("the demo config changed: add the utility bill to its scope another way")
	}
	// The hook hashes the scans as it reads them instead of keeping them.
	var mu sync.Mutex
	scans := map[verify.ScanKey]string{}
	hook := bot.WithOnVerified(func(_ context.Context, v bot.Verified) error {
		for k := range v.Files {
			r, err := v.Open(k)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, r)
			_ = r.Close()
			if err != nil {
				return err
			}
			mu.Lock()
			scans[k] = hex.EncodeToString(h.Sum(nil))
			mu.Unlock()
		}
		return nil
	})
	rcv := newScanReceiver(t, 5)
	w := newWorld(t, worldOptions{configYAML: scanConfig(yml, rcv.srv.URL+"/kyc/webhook"), bot: []bot.Option{hook}})
	ctx := testContext(t)
	p := sandbox.SampleProfile("big-2043")
	dl := p[passport.TypeDriverLicense]
	front, back, selfie := bigScan(t, "front"), bigScan(t, "back"), bigScan(t, "selfie")
	dl.FrontSide, dl.ReverseSide, dl.Selfie, dl.Translation = &front, &back, &selfie, nil
	p[passport.TypeUtilityBill].Files = []sandbox.Scan{bigScan(t, "bill-1"), bigScan(t, "bill-2")}
	u := w.user("en", p)
	link := w.requestLink(ctx, u)
	// Upload the documents first (the app does it when the user fills the
	// form), so that the measurement covers the bot's work only.
	for _, typ := range []passport.ElementType{passport.TypeDriverLicense, passport.TypeUtilityBill} {
		if err := u.Fix(ctx, typ, func(*sandbox.ProfileElement) {}); err != nil {
			t.Fatal(err)
		}
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	base := heapObjects()

	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapObjects())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	m := w.next(ctx, u)
	got := rcv.wait(t, ctx) // the webhook, then each scan from its link
	close(stop)
	wg.Wait()
	uploaded := map[string][]byte{"front_side": front.Data, "reverse_side": back.Data, "selfie": selfie.Data}
	for i, s := range p[passport.TypeUtilityBill].Files {
		uploaded[fmt.Sprintf("files[%d]", i)] = s.Data
	}
	for _, f := range got {
		sum := sha256.Sum256(uploaded[f.file.Target])
		if f.status != 200 || f.sha256 != hex.EncodeToString(sum[:]) || f.again != 404 {
			t.Errorf("scan %s.%s from its link: status %d (%s), second fetch %d, the bytes differ from those uploaded: %v",
				f.file.Element, f.file.Target, f.status, f.err, f.again, f.sha256 != hex.EncodeToString(sum[:]))
		}
	}
	if m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		t.Fatalf("the bot said %q, want verified", m.Text)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(scans) != 5 {
		t.Fatalf("OnVerified got %d scans, want 5", len(scans))
	}
	if want := sha256.Sum256(front.Data); scans[verify.ScanKey{Element: passport.TypeDriverLicense, Target: passport.TargetOf(passport.TargetFrontSide)}] != hex.EncodeToString(want[:]) {
		t.Errorf("the front side delivered differs from the one uploaded")
	}
	growth := int64(peak) - int64(base)
	t.Logf("heap objects: base %.1f MB, peak %.1f MB, growth %.1f MB for 40 MB of scans, verified and fetched",
		float64(base)/(1<<20), float64(peak)/(1<<20), float64(growth)/(1<<20))
	if growth >= 32<<20 {
		t.Fatalf("heap grew by %.1f MB while processing five 8 MB scans, want < 32 MB", float64(growth)/(1<<20))
	}
}
