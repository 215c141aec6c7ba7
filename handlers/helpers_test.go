package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/store/storetest"
	"github.com/kycbot/kycbot/verify"
)

// The compile-time check that *store.Store, through its views, is a Store.
var _ Store = StoreViews((*store.Store)(nil))

// needRedis returns a client to the test Redis (see storetest.Need).
func needRedis(t testing.TB) redis.UniversalClient { return storetest.Need(t) }

// testPrefix returns a fresh key prefix cleaned up after the test.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	return storetest.Prefix(t, c, "handlers")
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sent is one message the fake Telegram sent.
type sent struct {
	User    int64
	Hash    int64
	Text    string
	Buttons []Button // every button, row after row
	Rows    [][]Button
}

// answer is one callback query answer.
type answer struct {
	QueryID int64
	Text    string
}

// commandsSet is one bots.setBotCommands call.
type commandsSet struct {
	LangCode string
	Commands []tg.BotCommand
	User     int64 // the peer of BotCommandScopePeer (SetUserBotCommands); 0 for the default scope
	Hash     int64 // its access hash
}

// fakeTelegram records calls and serves encrypted files by ID.
type fakeTelegram struct {
	mu         sync.Mutex
	files      map[int64][]byte
	sent       []sent
	errs       [][]tg.SecureValueErrorClass
	errUser    []*tg.InputUser
	dlErr      error
	dlFailures int // the next downloads that fail
	answers    []answer
	commands   []commandsSet
	sendErr    error // SendText and SendButtons fail with it when set
	// userCommands are the SetUserBotCommands calls.
	userCommands []commandsSet
	// hashes are the access hashes ResolveUser knows; resolveErr, when
	// set, makes it fail.
	hashes     map[int64]int64
	lookup     AccessHashes // consulted after hashes, when set
	resolveErr error
	// sendErrTo makes SendText and SendButtons fail for these users.
	sendErrTo map[int64]error
	// userCommandsErr makes SetUserBotCommands fail for these users.
	userCommandsErr map[int64]error
	// onSend, when set, is called before every message is sent.
	onSend func()
}

func newFakeTelegram() *fakeTelegram { return &fakeTelegram{files: map[int64][]byte{}} }

// serve makes the files of a shared submission downloadable.
func (f *fakeTelegram) serve(sh *passport.Shared) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ee := range sh.Submission.Elements {
		refs := append([]passport.FileRef(nil), ee.Files...)
		refs = append(refs, ee.Translation...)
		for _, r := range []*passport.FileRef{ee.FrontSide, ee.ReverseSide, ee.Selfie} {
			if r != nil {
				refs = append(refs, *r)
			}
		}
		for _, r := range refs {
			b, _ := sh.Encrypted(r)
			f.files[r.ID] = b
		}
	}
}

func (f *fakeTelegram) SetSecureValueErrors(_ context.Context, user *tg.InputUser, errs []tg.SecureValueErrorClass) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, errs)
	f.errUser = append(f.errUser, user)
	return nil
}

func (f *fakeTelegram) SendText(ctx context.Context, user *tg.InputUser, text string, buttons ...Button) error {
	var rows [][]Button
	if len(buttons) > 0 {
		rows = [][]Button{buttons}
	}
	return f.SendButtons(ctx, user, text, rows)
}

func (f *fakeTelegram) SendButtons(_ context.Context, user *tg.InputUser, text string, rows [][]Button) error {
	if f.onSend != nil {
		f.onSend()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	if err := f.sendErrTo[user.UserID]; err != nil {
		return err
	}
	var all []Button
	for _, r := range rows {
		all = append(all, r...)
	}
	f.sent = append(f.sent, sent{User: user.UserID, Hash: user.AccessHash, Text: text, Buttons: all, Rows: rows})
	return nil
}

func (f *fakeTelegram) AnswerCallback(_ context.Context, queryID int64, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, answer{QueryID: queryID, Text: text})
	return nil
}

func (f *fakeTelegram) SetBotCommands(_ context.Context, langCode string, cmds []tg.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands = append(f.commands, commandsSet{LangCode: langCode, Commands: cmds})
	return nil
}

func (f *fakeTelegram) SetUserBotCommands(_ context.Context, user *tg.InputUser, langCode string, cmds []tg.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.userCommandsErr[user.UserID]; err != nil {
		return err
	}
	f.userCommands = append(f.userCommands, commandsSet{LangCode: langCode, Commands: cmds, User: user.UserID, Hash: user.AccessHash})
	return nil
}

func (f *fakeTelegram) ResolveUser(_ context.Context, user *tg.InputUser) (*tg.InputUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resolveErr != nil {
		return nil, f.resolveErr
	}
	if user.AccessHash != 0 {
		return user, nil
	}
	if h, ok := f.hashes[user.UserID]; ok {
		return &tg.InputUser{UserID: user.UserID, AccessHash: h}, nil
	}
	if f.lookup != nil {
		h, found, err := f.lookup.GetUserAccessHash(context.Background(), user.UserID)
		if err != nil {
			return nil, err
		}
		if found {
			return &tg.InputUser{UserID: user.UserID, AccessHash: h}, nil
		}
	}
	return user, nil
}

func (f *fakeTelegram) Download(_ context.Context, loc *tg.InputSecureFileLocation, _ int, w io.Writer) error {
	f.mu.Lock()
	b, ok := f.files[loc.ID]
	dlErr := f.dlErr
	if f.dlFailures > 0 {
		f.dlFailures--
		dlErr = errors.New("rpc error code 500: INTERNAL (transient)")
	}
	f.mu.Unlock()
	if dlErr != nil {
		return dlErr
	}
	if !ok {
		return fmt.Errorf("FILE_ID_INVALID %d", loc.ID)
	}
	for len(b) > 0 { // in chunks, as upload.getFile answers
		n := min(len(b), 4096)
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// messagesTo returns the texts sent to a user.
func (f *fakeTelegram) messagesTo(user int64) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, s := range f.sent {
		if s.User == user {
			out = append(out, s)
		}
	}
	return out
}

// syncBuffer is a buffer safe for concurrent writes (the log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	keyOnce sync.Once
	botKey  *rsa.PrivateKey
	keyErr  error
)

// testKey returns a throwaway 2048-bit key shared by the tests.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() { botKey, keyErr = passport.GenerateKey(2048) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return botKey
}

// jpegOf returns a JPEG of w×h pixels.
func jpegOf(t testing.TB, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 7 {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// today is the date of every test clock.
var today = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

const (
	level    = "basic"
	adminID  = int64(777)
	pageBase = "https://kyc.example/passport/"
)

// profile is the personal data of the test user; none of it may appear in
// the logs.
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

// values lists the personal values to look for in logs.
func (p profile) values() []string {
	return []string{p.FirstName, p.LastName, p.BirthDate, p.DocumentNo, p.Expiry}
}

// env is one test's world: a store on the real Redis, a fake Telegram and
// a handler.
type env struct {
	t        *testing.T
	ctx      context.Context
	clock    *clock
	rdb      redis.UniversalClient
	prefix   string
	store    *store.Store
	tg       *fakeTelegram
	logs     *syncBuffer
	h        *PassportHandler
	catalog  *i18n.Catalog
	mu       sync.Mutex
	verified []Verified
	files    []map[verify.ScanKey][]byte // bytes read in the hook
	rejected []Rejected
	msgID    int
	obs      *recObserver
	// hookFail: the next hook calls (OnVerified or OnRejected) fail with
	// these errors, in order, before recording anything.
	hookFail []error
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

func newEnv(t *testing.T, wrap func(Store) Store) *env {
	t.Helper()
	rdb := needRedis(t)
	e := &env{t: t, ctx: context.Background(), clock: &clock{now: today}, rdb: rdb, tg: newFakeTelegram(), logs: &syncBuffer{}, obs: &recObserver{}}
	e.prefix = testPrefix(t, rdb)
	e.store = store.New(rdb, store.WithPrefix(e.prefix), store.WithClock(e.clock.Now))
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e.catalog = cat
	policy := verify.DefaultPolicy()
	policy.Files.MinWidth, policy.Files.MinHeight = 600, 400
	scope := passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.Require(passport.TypeDriverLicense).WithSelfie())
	checker, err := verify.New(scope, policy, verify.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var st Store = StoreViews(e.store)
	if wrap != nil {
		st = wrap(st)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h, err = NewPassport(PassportConfig{
		Key: testKey(t), Store: st, Telegram: e.tg, Catalog: cat,
		Checkers: map[string]*verify.Checker{level: checker},
		PageURL:  func(id string) string { return pageBase + id },
		Admins:   []int64{adminID},
	},
		WithClock(e.clock.Now), WithLogger(logger), WithTempDir(t.TempDir()), WithDownloadConcurrency(2), WithObserver(e.obs),
		WithOnVerified(func(_ context.Context, v Verified) error {
			if err := e.nextHookFailure(); err != nil {
				return err
			}
			got := map[verify.ScanKey][]byte{}
			for k := range v.Files {
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
			e.mu.Lock()
			defer e.mu.Unlock()
			e.verified = append(e.verified, v)
			e.files = append(e.files, got)
			return nil
		}),
		WithOnRejected(func(_ context.Context, r Rejected) error {
			if err := e.nextHookFailure(); err != nil {
				return err
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			e.rejected = append(e.rejected, r)
			return nil
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// issue issues a request for user.
func (e *env) issue(user int64, lang string) store.Request {
	e.t.Helper()
	req, err := e.store.Requests().Issue(e.ctx, store.RequestParams{UserID: user, ChatID: user, Level: level, Lang: lang, Ref: "crm-42"}, 30*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// share encrypts p for the bot's key (or key) with nonce and serves its files.
func (e *env) share(p profile, nonce string, key *rsa.PublicKey) *passport.Shared {
	e.t.Helper()
	if key == nil {
		key = &testKey(e.t).PublicKey
	}
	sh, err := passport.EncryptSubmission(rand.Reader, key, nonce, p.elements())
	if err != nil {
		e.t.Fatal(err)
	}
	e.tg.serve(sh)
	return sh
}

// update wraps a submission into the update a bot receives from user.
func (e *env) update(sh *passport.Shared, user int64, langCode string) (tg.Entities, *tg.UpdateNewMessage) {
	e.t.Helper()
	action, err := sh.Submission.MTProto()
	if err != nil {
		e.t.Fatal(err)
	}
	e.msgID++
	msg := &tg.MessageService{ID: e.msgID, PeerID: &tg.PeerUser{UserID: user}, Date: int(today.Unix()), Action: action}
	ents := tg.Entities{Users: map[int64]*tg.User{user: {ID: user, AccessHash: user * 1000, LangCode: langCode, FirstName: "x"}}}
	return ents, &tg.UpdateNewMessage{Message: msg, Pts: e.msgID, PtsCount: 1}
}

// deliver hands an update to the handler.
func (e *env) deliver(ents tg.Entities, u *tg.UpdateNewMessage) error {
	return e.h.OnNewMessage(e.ctx, ents, u)
}

// auditEvents returns the audit events (kind, user, codes) in order.
func (e *env) auditEvents() []auditEvent {
	e.t.Helper()
	msgs, err := e.rdb.XRange(e.ctx, e.prefix+"{audit}:stream", "-", "+").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []auditEvent
	for _, m := range msgs {
		var ev auditEvent
		if err := json.Unmarshal([]byte(m.Values["e"].(string)), &ev); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

type auditEvent struct {
	Kind   string            `json:"kind"`
	UserID int64             `json:"uid"`
	Level  string            `json:"level"`
	Codes  []string          `json:"codes"`
	Detail map[string]string `json:"detail"`
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
