package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/web"
)

// scanConfig is the demo configuration delivering to url with the scans.
func scanConfig(yml, url string) string {
	return yml + fmt.Sprintf(`delivery:
  webhook_url: %q
  webhook_secret: %q
  include_data: false
  include_files: true
`, url, webhookSecret)
}

// fetched is what a scan receiver got from one scan link.
type fetched struct {
	file   delivery.File
	sha256 string // of the bytes fetched
	status int    // of the first fetch
	again  int    // status of the second fetch
	err    string
}

// scanReceiver is a business backend that fetches every scan of every
// event from its link (streaming it into a hash), then once more.
type scanReceiver struct {
	srv *httptest.Server

	mu    sync.Mutex
	got   []fetched
	bad   []string
	doneC chan struct{} // closed once want scans were fetched
	want  int
}

func newScanReceiver(t testing.TB, want int) *scanReceiver {
	r := &scanReceiver{want: want, doneC: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bad {
			t.Errorf("scan receiver: %s", b)
		}
	})
	return r
}

func (r *scanReceiver) serve(rw http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	var ev delivery.Event
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err != nil || ev.Schema != delivery.Schema {
		r.fail(fmt.Sprintf("event: %v, schema %d", err, ev.Schema))
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	if strings.Contains(string(body), `"data"`) || strings.Contains(string(body), "credentials") || strings.Contains(string(body), "kycbot_scan_sources") {
		r.fail("the event holds scan bytes or sources")
	}
	for _, f := range ev.Files {
		got := fetched{file: f}
		res, err := http.Get(f.URL)
		if err != nil {
			got.err = err.Error()
		} else {
			h := sha256.New()
			_, err = io.Copy(h, res.Body)
			res.Body.Close()
			got.status, got.sha256 = res.StatusCode, hex.EncodeToString(h.Sum(nil))
			if err != nil {
				got.err = err.Error()
			}
			if res.Header.Get(web.ScanSHA256Header) != f.SHA256 || res.ContentLength != f.Size || res.Header.Get("Content-Type") != f.MIME {
				r.fail(fmt.Sprintf("scan %s.%s: headers %v, want size %d, %s, %s", f.Element, f.Target, res.Header, f.Size, f.MIME, f.SHA256))
			}
		}
		if res, err := http.Get(f.URL); err == nil {
			got.again = res.StatusCode
			res.Body.Close()
		}
		r.mu.Lock()
		r.got = append(r.got, got)
		if len(r.got) == r.want {
			close(r.doneC)
		}
		r.mu.Unlock()
	}
	rw.WriteHeader(http.StatusOK)
}

func (r *scanReceiver) fail(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, s)
}

// wait waits for the scans, then returns them.
func (r *scanReceiver) wait(t testing.TB, ctx context.Context) []fetched {
	t.Helper()
	select {
	case <-r.doneC:
	case <-ctx.Done():
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("scan receiver: %d of %d scans fetched", len(r.got), r.want)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fetched(nil), r.got...)
}

// profileScan returns the scan of a profile at an element and target.
func profileScan(p sandbox.Profile, el passport.ElementType, target string) *sandbox.Scan {
	e, ok := p[el]
	if !ok {
		return nil
	}
	switch target {
	case "front_side":
		return e.FrontSide
	case "reverse_side":
		return e.ReverseSide
	case "selfie":
		return e.Selfie
	}
	var i int
	if _, err := fmt.Sscanf(target, "files[%d]", &i); err == nil && i < len(e.Files) {
		return &e.Files[i]
	}
	if _, err := fmt.Sscanf(target, "translation[%d]", &i); err == nil && i < len(e.Translation) {
		return &e.Translation[i]
	}
	return nil
}

// TestWebhookScanLinks: with include_files the webhook describes each
// scan and links to it; the business fetches from each link exactly the
// scan the user uploaded, once.
func TestWebhookScanLinks(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	p := sandbox.SampleProfile("links-2044")
	want := 0
	for _, e := range p {
		for _, s := range []*sandbox.Scan{e.FrontSide, e.ReverseSide, e.Selfie} {
			if s != nil {
				want++
			}
		}
		want += len(e.Files) + len(e.Translation)
	}
	rcv := newScanReceiver(t, 0)
	w := newWorld(t, worldOptions{configYAML: scanConfig(demo.DefaultConfig(), rcv.srv.URL+"/kyc/webhook")})
	u := w.user("en", p)
	w.verifyUser(ctx, u, "")
	// The scans the level asks for are those the bot got.
	w.s.mu.Lock()
	n := len(w.s.verified[len(w.s.verified)-1].files)
	w.s.mu.Unlock()
	if n == 0 || n > want {
		t.Fatalf("the bot verified %d scans of the profile's %d", n, want)
	}
	rcv.mu.Lock()
	rcv.want = n
	if len(rcv.got) >= n {
		close(rcv.doneC)
	}
	rcv.mu.Unlock()
	for _, f := range rcv.wait(t, ctx) {
		name := string(f.file.Element) + "." + f.file.Target
		s := profileScan(u.Profile(), f.file.Element, f.file.Target)
		if s == nil {
			t.Errorf("scan %s: not in the user's profile", name)
			continue
		}
		sum := sha256.Sum256(scanBytes(t, s))
		if wantSum := hex.EncodeToString(sum[:]); f.status != http.StatusOK || f.err != "" || f.sha256 != wantSum || f.file.SHA256 != wantSum {
			t.Errorf("scan %s: fetched %d (%s), SHA-256 %s; the event says %s, the user uploaded %s", name, f.status, f.err, f.sha256, f.file.SHA256, wantSum)
		}
		if f.again != http.StatusNotFound {
			t.Errorf("scan %s: a second fetch answered %d, want 404", name, f.again)
		}
	}
}
