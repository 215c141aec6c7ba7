package verification

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/verify"
)

// needRedis returns a client to the test Redis (see testkit.Need: the
// test fails under CI without Redis, and is skipped elsewhere).
func needRedis(t testing.TB) redis.UniversalClient { return testkit.Need(t) }

// today is the date of every test clock.
var today = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

const (
	level    = "basic"
	adminID  = int64(777)
	pageBase = "https://kyc.example/passport/"
)

var (
	jpegMu    sync.Mutex
	jpegCache = map[[3]int][]byte{}
)

// jpegOf returns a JPEG of w×h pixels (made once per size and shade: the
// encoding is slow under the race detector).
func jpegOf(t testing.TB, w, h int, shade uint8) []byte {
	t.Helper()
	jpegMu.Lock()
	defer jpegMu.Unlock()
	k := [3]int{w, h, int(shade)}
	if b, ok := jpegCache[k]; ok {
		return b
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 7 {
		for x := range w {
			img.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	jpegCache[k] = b.Bytes()
	return b.Bytes()
}

// profile is the personal data of a test user; none of it may appear in
// the logs or the audit trail.
type profile struct {
	FirstName, LastName, BirthDate, DocumentNo, Expiry string
	Front, Reverse, Selfie                             []byte
}

func goodProfile(t testing.TB) profile {
	return profile{
		FirstName: "Zephyrine", LastName: "Quillbottom", BirthDate: "17.09.1987",
		DocumentNo: "DL7782311XQ", Expiry: "22.11.2031",
		Front: jpegOf(t, 800, 600, 10), Reverse: jpegOf(t, 800, 600, 20), Selfie: jpegOf(t, 640, 480, 30),
	}
}

func (p profile) elements() []passport.PlainElement {
	return []passport.PlainElement{
		{Type: passport.TypePersonalDetails, Fields: map[string]string{
			"first_name": p.FirstName, "last_name": p.LastName, "birth_date": p.BirthDate,
			"gender": "female", "country_code": "NL", "residence_country_code": "NL",
		}},
		{Type: passport.TypeDriverLicense, Fields: map[string]string{"document_no": p.DocumentNo, "expiry_date": p.Expiry},
			FrontSide: p.Front, ReverseSide: p.Reverse, Selfie: p.Selfie},
	}
}

// values lists the personal values to look for in the logs.
func (p profile) values() []string {
	return []string{p.FirstName, p.LastName, p.BirthDate, p.DocumentNo, p.Expiry}
}

// env is one test's world: a store on the real Redis, a fake Telegram and
// a flow.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *testkit.Clock
	rdb     redis.UniversalClient
	prefix  string
	store   *store.Store
	adapter *handlerstest.Store
	tg      *handlerstest.Telegram
	logs    *testkit.Logs
	flow    *Flow
	catalog *i18n.Catalog
	obs     *handlerstest.Observer
	msgID   int

	mu       sync.Mutex
	verified []Verified
	files    []map[verify.ScanKey][]byte // the scans as the hook read them
	rejected []Rejected
	// hookFail: the next hook calls (OnVerified or OnRejected) fail with
	// these errors, in order, before recording anything.
	hookFail []error
	// tempDir is the flow's TempDir; inHook, if set, runs first in
	// OnVerified, while the scans are staged.
	tempDir string
	inHook  func(Verified) error
}

// nextHookFailure returns the error the next hook call fails with, or nil.
func (e *env) nextHookFailure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.hookFail) == 0 {
		return nil
	}
	err := e.hookFail[0]
	e.hookFail = e.hookFail[1:]
	return err
}

// hooks returns the OnVerified and OnRejected calls that succeeded.
func (e *env) hooks() ([]Verified, []Rejected) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.verified), slices.Clone(e.rejected)
}

// testChecker is the rules of level: personal details and a driving
// licence with a selfie, scans of at least 600×400.
func testChecker(t testing.TB, now func() time.Time) *verify.Checker {
	t.Helper()
	policy := verify.DefaultPolicy()
	policy.Files.MinWidth, policy.Files.MinHeight = 600, 400
	scope := passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.Require(passport.TypeDriverLicense).WithSelfie())
	checker, err := verify.New(scope, policy, verify.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return checker
}

// newEnv returns a flow on the test Redis; wrap, if not nil, wraps the
// store the flow is given.
func newEnv(t *testing.T, wrap func(Store) Store) *env {
	t.Helper()
	return newEnvWith(t, wrap, nil)
}

// newEnvWith is newEnv whose flow's config configure, if not nil, changes
// first.
func newEnvWith(t *testing.T, wrap func(Store) Store, configure func(*Config)) *env {
	t.Helper()
	rdb := needRedis(t)
	e := &env{t: t, ctx: context.Background(), clock: testkit.NewClock(today), rdb: rdb, tg: &handlerstest.Telegram{}, logs: &testkit.Logs{}, obs: &handlerstest.Observer{}}
	e.prefix = testkit.Prefix(t, rdb, "verification")
	e.store = store.New(rdb, store.WithPrefix(e.prefix), store.WithClock(e.clock.Now), store.WithAuditKey(handlerstest.AuditKey()), store.WithDocumentKey(handlerstest.DocumentKey()), store.WithReviewKey(handlerstest.ReviewKey()))
	e.adapter = handlerstest.NewStore(e.store)
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e.catalog = cat
	var st Store = e.adapter
	if wrap != nil {
		st = wrap(st)
	}
	logger := e.logs.Logger()
	e.tempDir = t.TempDir()
	cfg := Config{
		Key: handlerstest.Key(t), Store: st, Telegram: e.tg, Catalog: cat,
		Checkers: map[string]*verify.Checker{level: testChecker(t, e.clock.Now)},
		PageURL:  func(id string) string { return pageBase + id },
		Admins:   &handlers.Admins{IDs: []int64{adminID}, Catalog: cat, Sender: e.tg, Log: logger},
		Now:      e.clock.Now, Log: logger, TempDir: e.tempDir, DownloadConcurrency: 2, Observer: e.obs,
		OnVerified: func(_ context.Context, v Verified) error {
			if err := e.nextHookFailure(); err != nil {
				return err
			}
			if e.inHook != nil {
				if err := e.inHook(v); err != nil {
					return err
				}
			}
			got := map[verify.ScanKey][]byte{}
			for k := range v.Scans {
				r, err := v.Open(k)
				if err != nil {
					return err
				}
				b, err := io.ReadAll(r)
				_ = r.Close()
				if err != nil {
					return err
				}
				got[k] = b
			}
			if _, err := v.Open(verify.ScanKey{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetSelfie)}); err == nil {
				return errors.New("Verified.Open opened a scan the submission does not have")
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			e.verified = append(e.verified, v)
			e.files = append(e.files, got)
			return nil
		},
		OnRejected: func(_ context.Context, r Rejected) error {
			if err := e.nextHookFailure(); err != nil {
				return err
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			e.rejected = append(e.rejected, r)
			return nil
		},
	}
	if configure != nil {
		configure(&cfg)
	}
	e.flow, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// issue issues a request for user (ref crm-42).
func (e *env) issue(user int64, lang string) store.Request {
	e.t.Helper()
	req, err := e.store.Requests().Issue(e.ctx, store.RequestParams{UserID: user, ChatID: user, Level: level, Lang: lang, Ref: "crm-42"}, 30*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// share encrypts p for the bot's key (or key) with nonce and serves its
// files.
func (e *env) share(p profile, nonce string, key *rsa.PublicKey) *passport.Shared {
	e.t.Helper()
	if key == nil {
		key = &handlerstest.Key(e.t).PublicKey
	}
	sh, err := passport.EncryptSubmission(rand.Reader, key, nonce, p.elements())
	if err != nil {
		e.t.Fatal(err)
	}
	e.tg.Serve(sh)
	return sh
}

// submission is the submission the bot gets when user, whose app speaks
// langCode, shares sh: the data as gotd's hook reads it from the
// MTProto update, in a message and an update of their own.
func (e *env) submission(sh *passport.Shared, user int64, langCode string) Submission {
	e.t.Helper()
	action, err := sh.Submission.MTProto()
	if err != nil {
		e.t.Fatal(err)
	}
	es, err := passport.FromMTProto(action)
	if err != nil {
		e.t.Fatal(err)
	}
	e.msgID++
	return Submission{
		ID:   fmt.Sprintf("%d-%d", today.UnixMilli(), e.msgID),
		User: handlers.User{ID: user, AccessHash: user * 1000, LangCode: langCode}, MsgID: e.msgID, Encrypted: es,
	}
}

// process processes sub and fails the test on an error.
func (e *env) process(sub Submission) Outcome {
	e.t.Helper()
	out, err := e.flow.Process(e.ctx, sub)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// auditEvent is an audit event as the store records it.
type auditEvent = store.Event

// auditEvents returns the audit events in order.
func (e *env) auditEvents() []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store) }

// auditOf returns the audit events about user.
func (e *env) auditOf(user int64) []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store, user) }

// count returns how many of evs are of kind.
func count(evs []auditEvent, kind string) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func (e *env) lastAudit() auditEvent {
	e.t.Helper()
	evs := e.auditEvents()
	if len(evs) == 0 {
		e.t.Fatal("no audit event")
	}
	return evs[len(evs)-1]
}

func (e *env) status(user int64) store.Status {
	e.t.Helper()
	st, err := e.store.Statuses().Get(e.ctx, user, level)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// noPersonalData fails when a value of p appears in the logs or the audit
// trail.
func (e *env) noPersonalData(p profile) {
	e.t.Helper()
	logs := e.logs.String()
	if logs == "" {
		e.t.Fatal("nothing was logged")
	}
	audit := fmt.Sprintf("%+v", e.auditEvents())
	for _, v := range p.values() {
		if strings.Contains(logs, v) {
			e.t.Errorf("the logs contain personal data %q:\n%s", v, logs)
		}
		if strings.Contains(audit, v) {
			e.t.Errorf("the audit trail contains personal data %q: %s", v, audit)
		}
	}
}

// text returns the catalog's message id in lang.
func (e *env) text(lang, id string, data map[string]any) string {
	return e.catalog.Language(lang).Text(id, data)
}
