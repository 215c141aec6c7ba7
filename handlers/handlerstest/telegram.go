package handlerstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// Sent is one message the fake Telegram sent, as the user sees it now:
// an edit (Telegram.Edit) replaces its Text and Rows and sets Edited.
type Sent struct {
	To   handlers.User
	Text string
	Rows [][]handlers.Button
	Key  string
	// ID is the message's ID, for messages sent with SendEditable (0 for
	// the others).
	ID int
	// Edited is true once the message was edited.
	Edited bool
}

// Edit is one Edit call that succeeded.
type Edit struct {
	To    handlers.User
	MsgID int
	Text  string
	Rows  [][]handlers.Button
}

// Buttons returns every button of the message, row after row.
func (s Sent) Buttons() []handlers.Button {
	var all []handlers.Button
	for _, r := range s.Rows {
		all = append(all, r...)
	}
	return all
}

// Texts returns the texts of msgs.
func Texts(msgs []Sent) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// Keys returns the keys of msgs.
func Keys(msgs []Sent) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Key
	}
	return out
}

// Answer is one callback query answer.
type Answer struct {
	QueryID int64
	Text    string
}

// Menu is one command menu registered.
type Menu struct {
	To       handlers.User // the chat of SetUserCommands; zero for SetCommands
	LangCode string
	Commands []handlers.BotCommand
}

// ValueErrors is one SetSecureValueErrors call.
type ValueErrors struct {
	To   handlers.User
	Errs []tg.SecureValueErrorClass
}

// HashStore is where Resolve looks up the access hashes it is not given:
// the gotd updates manager's storage (store.Sessions.UserAccessHasher).
type HashStore interface {
	GetUserAccessHash(ctx context.Context, userID, id int64) (accessHash int64, found bool, err error)
}

// Telegram is a fake Telegram for every step (handlers.Sender,
// verification.Telegram, chat.Telegram, admin.Telegram): it records what
// it is asked, serves the encrypted files of the submissions shared
// (Serve) and fails as it is told. The zero value is ready; it is safe for
// concurrent use.
type Telegram struct {
	mu    sync.Mutex
	sends []Sent // every Send that succeeded, in order
	edits []Edit // every Edit that succeeded, in order
	// timeline is every Send and Edit that succeeded, as it was then.
	timeline []Sent
	// editable are the IDs of the messages sent with SendEditable, by
	// key; lastID the last ID given. editErr fails every Edit.
	editable  map[string]int
	lastID    int
	editErr   error
	answers   []Answer
	menus     []Menu // SetCommands
	userMenus []Menu // SetUserCommands
	valueErrs []ValueErrors
	// valueErrsErr fails the next valueErrsFailures SetSecureValueErrors
	// calls; valueErrsCalls counts them all.
	valueErrsErr      error
	valueErrsFailures int
	valueErrsCalls    int
	files             map[int64][]byte

	// dlErr fails every download; dlFailures fails the next downloads
	// (then they work); downloads counts the calls.
	dlErr      error
	dlFailures int
	downloads  int
	// sendErr fails every Send, sendErrTo those to a user; onSend, when
	// set, runs before each Send.
	sendErr   error
	sendErrTo map[int64]error
	onSend    func()
	// menuErrs fails SetCommands for a lang code, menuErrTo
	// SetUserCommands for a user.
	menuErrs  map[string]error
	menuErrTo map[int64]error
	// Resolve: resolveErr fails it; hashes, then stored (for the bot
	// account self), give the access hashes.
	resolveErr error
	hashes     map[int64]int64
	stored     HashStore
	self       int64
}

// Send records m, or fails as set (SetSend, FailSendTo).
func (f *Telegram) Send(_ context.Context, to handlers.User, m handlers.Message) error {
	f.mu.Lock()
	onSend := f.onSend
	f.mu.Unlock()
	if onSend != nil {
		onSend()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return f.sendErr
	}
	if err := f.sendErrTo[to.ID]; err != nil {
		return err
	}
	f.sends = append(f.sends, Sent{To: to, Text: m.Text, Rows: m.Buttons, Key: m.Key})
	f.timeline = append(f.timeline, f.sends[len(f.sends)-1])
	return nil
}

// SendEditable records m like Send (repeats included) and returns its
// ID: a new one, or that of the message sent with the same key before,
// which Telegram does not send again (Shown shows it once).
func (f *Telegram) SendEditable(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	if err := f.Send(ctx, to, m); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, known := f.editable[m.Key]
	if !known || m.Key == "" {
		f.lastID++
		id = f.lastID
		if m.Key != "" {
			if f.editable == nil {
				f.editable = map[string]int{}
			}
			f.editable[m.Key] = id
		}
	}
	f.sends[len(f.sends)-1].ID = id
	f.timeline[len(f.timeline)-1].ID = id
	return id, nil
}

// Edit replaces the text and buttons of the message msgID sent to to with
// SendEditable (as first sent: the one Shown shows), or fails as set
// (SetEdit), or with MESSAGE_ID_INVALID as Telegram does for an unknown
// message. An edit that changes nothing succeeds and is not recorded
// (the transport takes Telegram's MESSAGE_NOT_MODIFIED so).
func (f *Telegram) Edit(_ context.Context, to handlers.User, msgID int, m handlers.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.editErr != nil {
		return f.editErr
	}
	for i := range f.sends {
		s := &f.sends[i]
		if s.ID == msgID && msgID != 0 && s.To.ID == to.ID {
			if s.Edited && s.Text == m.Text && reflect.DeepEqual(s.Rows, m.Buttons) {
				return nil
			}
			s.Text, s.Rows, s.Edited = m.Text, m.Buttons, true
			f.edits = append(f.edits, Edit{To: to, MsgID: msgID, Text: m.Text, Rows: m.Buttons})
			f.timeline = append(f.timeline, *s)
			return nil
		}
	}
	return errors.New("handlerstest: rpc error code 400: MESSAGE_ID_INVALID")
}

// SetEdit fails every Edit with err (nil: edits work).
func (f *Telegram) SetEdit(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.editErr = err
}

// Timeline returns what user was shown, in order: every message sent (a
// key once, as in Shown), as it was sent, and every edit, as the message
// was then (with Edited set).
func (f *Telegram) Timeline(user int64) []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Sent
	seen := map[string]bool{}
	for _, s := range f.timeline {
		if s.To.ID != user {
			continue
		}
		if !s.Edited && s.Key != "" {
			if seen[s.Key] {
				continue
			}
			seen[s.Key] = true
		}
		out = append(out, s)
	}
	return out
}

// EditsTo returns the edits of messages sent to user, in order.
func (f *Telegram) EditsTo(user int64) []Edit {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Edit
	for _, e := range f.edits {
		if e.To.ID == user {
			out = append(out, e)
		}
	}
	return out
}

// AnswerCallback records the answer.
func (f *Telegram) AnswerCallback(_ context.Context, queryID int64, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, Answer{QueryID: queryID, Text: text})
	return nil
}

// SetCommands records the menu, or fails as set (FailCommands).
func (f *Telegram) SetCommands(_ context.Context, langCode string, cmds []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.menuErrs[langCode]; err != nil {
		return err
	}
	f.menus = append(f.menus, Menu{LangCode: langCode, Commands: cmds})
	return nil
}

// SetUserCommands records the menu, or fails as set (FailUserCommands).
func (f *Telegram) SetUserCommands(_ context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.menuErrTo[to.ID]; err != nil {
		return err
	}
	f.userMenus = append(f.userMenus, Menu{To: to, LangCode: langCode, Commands: cmds})
	return nil
}

// Resolve returns u with its access hash: the one u has, else the one
// set with SetAccessHash, else the one the HashStore keeps (SetHashStore),
// else none. It fails with the error of SetResolveErr.
func (f *Telegram) Resolve(ctx context.Context, u handlers.User) (handlers.User, error) {
	f.mu.Lock()
	err, stored, self := f.resolveErr, f.stored, f.self
	h, known := f.hashes[u.ID]
	f.mu.Unlock()
	if err != nil {
		return u, err
	}
	if u.AccessHash != 0 {
		return u, nil
	}
	if known {
		u.AccessHash = h
		return u, nil
	}
	if stored != nil {
		h, found, err := stored.GetUserAccessHash(ctx, self, u.ID)
		if err != nil {
			return u, err
		}
		if found {
			u.AccessHash = h
		}
	}
	return u, nil
}

// SetSecureValueErrors records the errors, or fails as set
// (FailSecureValueErrors).
func (f *Telegram) SetSecureValueErrors(_ context.Context, to handlers.User, errs []tg.SecureValueErrorClass) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valueErrsCalls++
	if f.valueErrsFailures > 0 {
		f.valueErrsFailures--
		return f.valueErrsErr
	}
	f.valueErrs = append(f.valueErrs, ValueErrors{To: to, Errs: errs})
	return nil
}

// Download writes the file served (Serve), in chunks as upload.getFile
// answers, or fails as set (SetDownloads); FILE_ID_INVALID for a file not
// served.
func (f *Telegram) Download(_ context.Context, file *passport.File, w io.Writer) error {
	f.mu.Lock()
	f.downloads++
	b, ok := f.files[file.ID]
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
		return fmt.Errorf("FILE_ID_INVALID %d", file.ID)
	}
	for len(b) > 0 {
		n := min(len(b), 4096)
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Serve makes the files of a shared submission downloadable.
func (f *Telegram) Serve(sh *passport.Shared) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ee := range sh.Submission.Elements {
		refs := slices.Clone(ee.Files)
		refs = append(refs, ee.Translation...)
		for _, r := range []*passport.FileRef{ee.FrontSide, ee.ReverseSide, ee.Selfie} {
			if r != nil {
				refs = append(refs, *r)
			}
		}
		for _, r := range refs {
			b, _ := sh.Encrypted(r)
			put(&f.files, r.ID, b)
		}
	}
}

// File returns a copy of the bytes served as the file id.
func (f *Telegram) File(id int64) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.files[id])
}

// SetFile serves b as the file id.
func (f *Telegram) SetFile(id int64, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put(&f.files, id, b)
}

// SetDownloads makes the next failures downloads fail (then they work),
// and every download fail with err when it is not nil.
func (f *Telegram) SetDownloads(failures int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dlFailures, f.dlErr = failures, err
}

// Downloads returns how many downloads were asked for.
func (f *Telegram) Downloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.downloads
}

// SetSend makes every Send fail with err when it is not nil, and run
// onSend first when it is not nil.
func (f *Telegram) SetSend(err error, onSend func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendErr, f.onSend = err, onSend
}

// FailSendTo makes every Send to the user fail with err (nil: work).
func (f *Telegram) FailSendTo(user int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put(&f.sendErrTo, user, err)
}

// FailCommands makes SetCommands fail with err for langCode (nil: work).
func (f *Telegram) FailCommands(langCode string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put(&f.menuErrs, langCode, err)
}

// FailUserCommands makes SetUserCommands fail with err in the user's chat
// (nil: work).
func (f *Telegram) FailUserCommands(user int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put(&f.menuErrTo, user, err)
}

// SetAccessHash makes Resolve give the user the access hash h.
func (f *Telegram) SetAccessHash(user, h int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put(&f.hashes, user, h)
}

// SetHashStore makes Resolve look up in s the access hashes the bot
// account self keeps (after those of SetAccessHash).
func (f *Telegram) SetHashStore(self int64, s HashStore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.self, f.stored = self, s
}

// SetResolveErr makes Resolve fail with err (nil: work).
func (f *Telegram) SetResolveErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolveErr = err
}

// SendsTo returns every message sent to user, repeats included.
func (f *Telegram) SendsTo(user int64) []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Sent
	for _, s := range f.sends {
		if s.To.ID == user {
			out = append(out, s)
		}
	}
	return out
}

// Shown returns the messages user sees: Telegram answers a message sent
// again with the random_id of one it already sent (the transport derives
// it from Message.Key) with the message it sent, so a key shows once,
// as it was first sent. Messages without a key all show.
func (f *Telegram) Shown(user int64) []Sent {
	seen := map[string]bool{}
	var out []Sent
	for _, s := range f.SendsTo(user) {
		if s.Key != "" {
			if seen[s.Key] {
				continue
			}
			seen[s.Key] = true
		}
		out = append(out, s)
	}
	return out
}

// CallbackAnswers returns the callback answers, in order.
func (f *Telegram) CallbackAnswers() []Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.answers)
}

// LastAnswer returns the last callback answer, and fails the test when
// there is none.
func (f *Telegram) LastAnswer(t testing.TB) Answer {
	t.Helper()
	a := f.CallbackAnswers()
	if len(a) == 0 {
		t.Fatal("no callback answer")
	}
	return a[len(a)-1]
}

// Menus returns the menus of SetCommands, in order.
func (f *Telegram) Menus() []Menu {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.menus)
}

// UserMenus returns the menus of SetUserCommands, in order.
func (f *Telegram) UserMenus() []Menu {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.userMenus)
}

// ClearMenus forgets the menus registered so far (both kinds).
func (f *Telegram) ClearMenus() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.menus, f.userMenus = nil, nil
}

// FailSecureValueErrors makes the next n SetSecureValueErrors calls fail
// with err (then they work).
func (f *Telegram) FailSecureValueErrors(n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valueErrsFailures, f.valueErrsErr = n, err
}

// SecureValueErrorsCalls returns how many SetSecureValueErrors calls were
// made, the failed ones included.
func (f *Telegram) SecureValueErrorsCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.valueErrsCalls
}

// SecureValueErrors returns the SetSecureValueErrors calls that succeeded,
// in order.
func (f *Telegram) SecureValueErrors() []ValueErrors {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.valueErrs)
}

// put sets (*m)[k] to v, making the map if need be.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}
