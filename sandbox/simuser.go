package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gotd/log"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"golang.org/x/net/html"

	"github.com/kycbot/kycbot/passport"
)

// DefaultSetupPassword is the cloud password a simulated user creates when
// Passport needs one and the account has none.
const DefaultSetupPassword = "sandbox-cloud-password"

// SimUserOptions configure a simulated user.
type SimUserOptions struct {
	// Profile is the user's Passport data (SampleProfile when nil).
	Profile Profile
	// SetupPassword is the cloud password the user creates if Passport
	// asks for one and UserSpec.CloudPassword is empty
	// (DefaultSetupPassword when empty).
	SetupPassword string
	// Logger for the user's gotd client. No logs by default.
	Logger log.Logger
	// HTTPClient opens links (OpenURL, callback URLs). http.DefaultClient
	// when nil.
	HTTPClient *http.Client
	// Random is the source of the user's secrets. crypto/rand when nil.
	Random io.Reader
	// PartSize is the upload part size (MaxPartSize when zero); it must
	// divide 512 KiB and be a multiple of 1 KiB.
	PartSize int
	// Middlewares are added to the user's gotd client.
	Middlewares []telegram.Middleware
	// Now is the user's clock, which stamps ChatMessage.Received.
	// Defaults to time.Now.
	Now func() time.Time
	// Resolver dials the servers for the user's client, as a
	// dcs.Plain with another transport (e.g. Obfuscated: true, as
	// Telegram's apps connect) does. Nil keeps the Remote's resolver
	// (with NewSimUser, the sandbox's: plain TCP, intermediate).
	Resolver dcs.Resolver
}

// randomInt64 reads a random non-zero int64 (a random_id, a file ID).
func randomInt64(r io.Reader) (int64, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("sandbox: random source: %w", err)
	}
	v := int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	if v == 0 {
		v = 1
	}
	return v, nil
}

// ChatMessage is a message of the user's chat with a bot, as the user's app
// shows it.
type ChatMessage struct {
	// Peer is the bot (or user) the chat is with.
	Peer int64
	// ID is the message ID in the user's message box.
	ID int
	// Out is true for messages the user sent.
	Out bool
	// Edited is true when this is a new version of an edited message.
	Edited bool
	Text   string
	// Buttons of an inline keyboard, by row.
	Buttons [][]Button
	// Service names a service message: "secure_values_sent" when the user
	// shared Passport data; empty for text messages.
	Service string
	// Received is when the user's app got the message (pushed, or
	// fetched with the difference), by the user's clock
	// (SimUserOptions.Now).
	Received time.Time
}

// Button is an inline keyboard button.
type Button struct {
	Text string
	// URL of a URL button.
	URL string
	// Data of a callback button.
	Data []byte
}

// Button returns the first button whose text contains s, or false.
func (m ChatMessage) Button(s string) (Button, bool) {
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, s) {
				return b, true
			}
		}
	}
	return Button{}, false
}

// SimUser is a simulated Telegram user: a real gotd client logged in to the
// sandbox as a user, plus what a Telegram app does for Passport (passport
// secret under the cloud password, client-side encryption, sharing).
// Methods are safe for concurrent use, but one user does one thing at a
// time, like a person.
type SimUser struct {
	// User is the user's account (with Connect, as the server told it at
	// login).
	User   User
	client *telegram.Client
	api    *tg.Client
	rand   io.Reader
	http   *http.Client
	log    log.Helper
	now    func() time.Time

	partSize int

	cancel context.CancelFunc
	done   chan error

	srpc srpClient

	// syncMu serializes the fetches of the difference.
	syncMu sync.Mutex

	mu       sync.Mutex
	profile  Profile
	password string
	secret   []byte // passport secret, once known
	peers    map[int64]*tg.User
	chat     []ChatMessage
	cursor   int
	changed  chan struct{}
	// The app's update state, as a Telegram app keeps it: every update up
	// to pts is applied; ahead holds the pts (and pts_count) of updates
	// applied out of order beyond it; shown holds the IDs of the new
	// messages applied, the user's own requests' included, so that a
	// message both pushed and fetched with the difference shows once.
	pts   int
	date  int
	ahead map[int]int
	shown map[int]bool
}

// setDefaults fills the defaults of the options and checks them.
func (o *SimUserOptions) setDefaults(spec UserSpec) error {
	if o.Profile == nil {
		o.Profile = SampleProfile(spec.Phone)
	}
	if err := o.Profile.Validate(); err != nil {
		return err
	}
	if o.SetupPassword == "" {
		o.SetupPassword = DefaultSetupPassword
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Random == nil {
		o.Random = rand.Reader
	} else {
		o.Random = &lockedReader{r: o.Random}
	}
	if o.PartSize == 0 {
		o.PartSize = MaxPartSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PartSize%1024 != 0 || MaxPartSize%o.PartSize != 0 {
		return fmt.Errorf("sandbox: part size %d must be a multiple of 1024 dividing %d", o.PartSize, MaxPartSize)
	}
	return nil
}

// NewSimUser registers a user (AddUser) and logs a gotd client in as that
// user with the login code (and the cloud password when set), like a person
// with a Telegram app. The client runs until Close or the sandbox closes.
func (sb *Sandbox) NewSimUser(ctx context.Context, spec UserSpec, opts SimUserOptions) (*SimUser, error) {
	if err := opts.setDefaults(spec); err != nil {
		return nil, err
	}
	u, err := sb.AddUser(spec)
	if err != nil {
		return nil, err
	}
	return startSimUser(ctx, sb.ctx, sb.Remote(), spec, opts, &u)
}

// Connect makes a simulated user that knows the sandbox only through the
// network, as a process other than the one running the sandbox does: it
// signs up over MTProto with the login code, like a Telegram app (or signs
// in, with UserSpec.CloudPassword when the account has one, when the
// number has an account already), sets UserSpec.CloudPassword as the
// account's cloud password when the account has none, and then behaves
// like any SimUser. The account's language is UserSpec.LangCode (sent in
// initConnection); UserSpec.Username cannot be set this way. The client
// runs until Close; ctx bounds the login only.
func Connect(ctx context.Context, r Remote, spec UserSpec, opts SimUserOptions) (*SimUser, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	switch {
	case normalizePhone(spec.Phone) == "":
		return nil, errors.New("sandbox: Connect: UserSpec.Phone is required (digits, international form)")
	case spec.Username != "":
		return nil, errors.New("sandbox: Connect: UserSpec.Username cannot be set over MTProto (the sandbox has no account.updateUsername): leave it empty, or use Sandbox.NewSimUser")
	}
	if err := opts.setDefaults(spec); err != nil {
		return nil, err
	}
	return startSimUser(ctx, context.WithoutCancel(ctx), r, spec, opts, nil)
}

// startSimUser runs the user's client, reaching the servers through r,
// until runCtx is done or Close, and logs it in. known is the account when
// the caller made it (NewSimUser); otherwise the client signs up or in and
// learns the account from the server.
func startSimUser(ctx, runCtx context.Context, r Remote, spec UserSpec, opts SimUserOptions, known *User) (*SimUser, error) {
	password := spec.CloudPassword
	if password == "" {
		password = opts.SetupPassword
	}
	su := &SimUser{
		rand: opts.Random, http: opts.HTTPClient, partSize: opts.PartSize, now: opts.Now,
		log:      log.For(opts.Logger),
		profile:  opts.Profile.Clone(),
		password: password,
		peers:    map[int64]*tg.User{},
		changed:  make(chan struct{}),
		done:     make(chan error, 1),
		ahead:    map[int]int{},
		shown:    map[int]bool{},
	}
	if known != nil {
		su.User = *known
	}
	if opts.Resolver != nil {
		r.Resolver = opts.Resolver
	}
	// The app's auth key, made before the client starts (authkey.go).
	storage, err := r.NewSession(ctx, opts.Random)
	if err != nil {
		return nil, err
	}
	o := r.Options(storage)
	o.Logger = opts.Logger
	if spec.LangCode != "" {
		o.Device.LangCode = spec.LangCode
	}
	o.Middlewares = append(append([]telegram.Middleware(nil), opts.Middlewares...), telegram.MiddlewareFunc(su.results))
	o.UpdateHandler = telegram.UpdateHandlerFunc(su.handleUpdates)
	su.client = telegram.NewClient(1, "sandbox", o)
	su.api = su.client.API()

	first := spec.FirstName
	if first == "" {
		first = "User" // as AddUser; Telegram requires a first name
	}
	login := &appLogin{
		phone: spec.Phone, password: spec.CloudPassword, code: r.loginCode(),
		info: auth.UserInfo{FirstName: first, LastName: spec.LastName},
	}
	runCtx, cancel := context.WithCancel(runCtx)
	su.cancel = cancel
	ready := make(chan error, 1)
	go func() {
		su.done <- su.client.Run(runCtx, func(ctx context.Context) error {
			err := su.login(ctx, login, known == nil, spec.CloudPassword)
			ready <- err
			if err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			<-su.done
			return nil, err
		}
		return su, nil
	case err := <-su.done:
		cancel()
		return nil, fmt.Errorf("sandbox: user client stopped: %w", err)
	case <-ctx.Done():
		cancel()
		<-su.done
		return nil, ctx.Err()
	}
}

// login logs the client in like a Telegram app: the login code, then the
// name when the number has no account (sign-up) or the cloud password when
// the account has one. With learn (the account was not made by the
// caller), it then learns the account and its update state from the
// server, and sets cloudPassword as the account's password if it has none.
func (u *SimUser) login(ctx context.Context, l *appLogin, learn bool, cloudPassword string) error {
	if err := auth.NewFlow(l, auth.SendCodeOptions{}).Run(ctx, u.client.Auth()); err != nil {
		if learn {
			return fmt.Errorf("sandbox: log in as a user: %w", err)
		}
		return fmt.Errorf("sandbox: log in user %d: %w", u.User.ID, err)
	}
	if !learn {
		return nil // a new account: its update state starts at pts 0
	}
	self, err := u.client.Self(ctx)
	if err != nil {
		return fmt.Errorf("sandbox: get the logged-in user: %w", err)
	}
	u.User = userOf(self)
	if !l.signedUp {
		// An account used before: the app starts from its current state.
		state, err := u.api.UpdatesGetState(ctx)
		if err != nil {
			return fmt.Errorf("sandbox: get the update state: %w", err)
		}
		u.mu.Lock()
		u.advanceLocked(state.Pts)
		u.date = max(u.date, state.Date)
		u.mu.Unlock()
	}
	if cloudPassword == "" {
		return nil
	}
	p, err := u.api.AccountGetPassword(ctx)
	if err != nil {
		return fmt.Errorf("sandbox: get password: %w", err)
	}
	if p.HasPassword {
		return nil
	}
	var ns tg.AccountPasswordInputSettings
	if err := u.newPassword(&ns, cloudPassword, p); err != nil {
		return err
	}
	if _, err := u.api.AccountUpdatePasswordSettings(ctx, &tg.AccountUpdatePasswordSettingsRequest{
		Password: &tg.InputCheckPasswordEmpty{}, NewSettings: ns,
	}); err != nil {
		return fmt.Errorf("sandbox: set the cloud password: %w", err)
	}
	u.log.Info(ctx, "Cloud password set", log.Int64("user_id", u.User.ID))
	return nil
}

// appLogin answers gotd's login flow as a person with a Telegram app
// would: the phone, the login code, the name to sign up with and the cloud
// password.
type appLogin struct {
	phone, password, code string
	info                  auth.UserInfo
	// signedUp is set when the flow signed up (the number had no account).
	signedUp bool
}

func (l *appLogin) Phone(context.Context) (string, error) { return l.phone, nil }

func (l *appLogin) Password(context.Context) (string, error) {
	if l.password == "" {
		return "", errors.New("sandbox: the account has a cloud password: set UserSpec.CloudPassword")
	}
	return l.password, nil
}

func (l *appLogin) Code(context.Context, *tg.AuthSentCode) (string, error) { return l.code, nil }

func (l *appLogin) AcceptTermsOfService(context.Context, tg.HelpTermsOfService) error { return nil }

func (l *appLogin) SignUp(context.Context) (auth.UserInfo, error) {
	l.signedUp = true
	return l.info, nil
}

// API returns the user's raw gotd client, for calls the SimUser does not
// wrap.
func (u *SimUser) API() *tg.Client { return u.api }

// Profile returns a copy of the user's current Passport data.
func (u *SimUser) Profile() Profile {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.profile.Clone()
}

// Close logs the client out of the network (the account stays).
func (u *SimUser) Close() error {
	u.cancel()
	err := <-u.done
	u.done <- err // a second Close returns at once
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// handleUpdates shows what the server pushes. updatesTooLong (the server
// sends it when pushes missed the user's connection) makes the app fetch
// what it missed, as Telegram apps do.
func (u *SimUser) handleUpdates(ctx context.Context, upd tg.UpdatesClass) error {
	if _, ok := upd.(*tg.UpdatesTooLong); ok {
		return u.catchUp(ctx)
	}
	updates, users, date, ok := updatesOf(upd)
	if !ok {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rememberPeersLocked(users)
	u.date = max(u.date, date)
	u.applyLocked(updates, true)
	return nil
}

// results is the user's client middleware that applies the updates the
// user's own requests return (such as the message sent) to the app's
// state: they are not shown (out messages appear only when pushed) and not
// fetched again with the difference.
func (u *SimUser) results(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if err := next.Invoke(ctx, input, output); err != nil {
			return err
		}
		box, ok := output.(*tg.UpdatesBox)
		if !ok || box.Updates == nil {
			return nil
		}
		if updates, _, _, ok := updatesOf(box.Updates); ok {
			u.mu.Lock()
			u.applyLocked(updates, false)
			u.mu.Unlock()
		}
		return nil
	}
}

// catchUp fetches what the app missed with updates.getDifference from its
// update state, and shows the new messages and edits not shown yet. A
// failed request is retried a few times: the connection may have just
// dropped again.
func (u *SimUser) catchUp(ctx context.Context) error {
	u.syncMu.Lock()
	defer u.syncMu.Unlock()
	const attempts = 5
	for attempt := 1; ; attempt++ {
		err := u.fetchDifference(ctx)
		if err == nil {
			return nil
		}
		if _, rpc := tgerr.As(err); rpc || attempt == attempts {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("sandbox: fetch the difference: %w", ctx.Err())
		}
	}
}

// fetchDifference gets and applies the difference until it is complete.
func (u *SimUser) fetchDifference(ctx context.Context) error {
	for {
		u.mu.Lock()
		req := &tg.UpdatesGetDifferenceRequest{Pts: u.pts, Date: u.date}
		u.mu.Unlock()
		d, err := u.api.UpdatesGetDifference(ctx, req)
		if err != nil {
			return fmt.Errorf("sandbox: fetch the difference: %w", err)
		}
		u.mu.Lock()
		var done bool
		switch d := d.(type) {
		case *tg.UpdatesDifferenceEmpty:
			u.date = max(u.date, d.Date)
			done = true
		case *tg.UpdatesDifference:
			u.applyDifferenceLocked(d.NewMessages, d.OtherUpdates, d.Users, d.State)
			done = true
		case *tg.UpdatesDifferenceSlice:
			u.applyDifferenceLocked(d.NewMessages, d.OtherUpdates, d.Users, d.IntermediateState)
		case *tg.UpdatesDifferenceTooLong:
			// An app would reload its chats; the sandbox keeps every update.
			u.advanceLocked(d.Pts)
			done = true
		default:
			done = true
		}
		u.mu.Unlock()
		if done {
			return nil
		}
	}
}

// applyDifferenceLocked shows the messages and edits of a difference not
// shown yet, then moves the app's state to the difference's.
func (u *SimUser) applyDifferenceLocked(msgs []tg.MessageClass, other []tg.UpdateClass, users []tg.UserClass, state tg.UpdatesState) {
	u.rememberPeersLocked(users)
	added := false
	for _, mc := range msgs {
		id := mc.GetID()
		if u.shown[id] {
			continue
		}
		u.shown[id] = true
		if m, ok := chatMessage(mc, false); ok {
			m.Received = u.now()
			u.chat = append(u.chat, m)
			added = true
		}
	}
	if added {
		u.notifyLocked()
	}
	u.applyLocked(other, true)
	u.advanceLocked(state.Pts)
	u.date = max(u.date, state.Date)
}

// applyLocked applies updates to the app's state, skipping those already
// applied; with show, the new messages and edits are shown.
func (u *SimUser) applyLocked(updates []tg.UpdateClass, show bool) {
	added := false
	for _, x := range updates {
		if pts, count, ok := ptsOf(x); ok {
			if pts <= u.pts || u.ahead[pts] != 0 {
				continue // applied already (pushed and fetched)
			}
			u.ahead[pts] = max(count, 1)
		}
		var (
			m  ChatMessage
			ok bool
		)
		switch x := x.(type) {
		case *tg.UpdateNewMessage:
			id := x.Message.GetID()
			if u.shown[id] {
				continue
			}
			u.shown[id] = true
			m, ok = chatMessage(x.Message, false)
		case *tg.UpdateEditMessage:
			m, ok = chatMessage(x.Message, true)
		}
		if ok && show {
			m.Received = u.now()
			u.chat = append(u.chat, m)
			added = true
		}
	}
	u.advanceLocked(u.pts)
	if added {
		u.notifyLocked()
	}
}

// advanceLocked moves the app's pts to at least pts, then over the updates
// applied ahead that follow it.
func (u *SimUser) advanceLocked(pts int) {
	u.pts = max(u.pts, pts)
	for moved := true; moved; {
		moved = false
		for p, count := range u.ahead {
			switch {
			case p <= u.pts:
				delete(u.ahead, p)
			case p-count <= u.pts:
				u.pts = p
				delete(u.ahead, p)
				moved = true
			}
		}
	}
}

func (u *SimUser) rememberPeersLocked(users []tg.UserClass) {
	for _, us := range users {
		if usr, ok := us.(*tg.User); ok && !usr.Self {
			u.peers[usr.ID] = usr
		}
	}
}

// notifyLocked wakes up WaitMessage.
func (u *SimUser) notifyLocked() {
	close(u.changed)
	u.changed = make(chan struct{})
}

// updatesOf returns the updates, users and date of pushed updates or of a
// request's result.
func updatesOf(upd tg.UpdatesClass) ([]tg.UpdateClass, []tg.UserClass, int, bool) {
	switch x := upd.(type) {
	case *tg.Updates:
		return x.Updates, x.Users, x.Date, true
	case *tg.UpdatesCombined:
		return x.Updates, x.Users, x.Date, true
	case *tg.UpdateShort:
		return []tg.UpdateClass{x.Update}, nil, x.Date, true
	}
	return nil, nil, 0, false
}

// ptsOf returns the pts and pts_count of an update of the user's message
// box (the sandbox has no channels, whose updates have a pts of their own).
func ptsOf(x tg.UpdateClass) (pts, count int, ok bool) {
	switch x := x.(type) {
	case *tg.UpdateNewMessage:
		return x.Pts, x.PtsCount, true
	case *tg.UpdateEditMessage:
		return x.Pts, x.PtsCount, true
	case *tg.UpdateDeleteMessages:
		return x.Pts, x.PtsCount, true
	case *tg.UpdateReadHistoryInbox:
		return x.Pts, x.PtsCount, true
	case *tg.UpdateReadHistoryOutbox:
		return x.Pts, x.PtsCount, true
	case *tg.UpdateReadMessagesContents:
		return x.Pts, x.PtsCount, true
	}
	return 0, 0, false
}

func chatMessage(mc tg.MessageClass, edited bool) (ChatMessage, bool) {
	switch m := mc.(type) {
	case *tg.Message:
		peer, _ := m.PeerID.(*tg.PeerUser)
		if peer == nil {
			return ChatMessage{}, false
		}
		cm := ChatMessage{Peer: peer.UserID, ID: m.ID, Out: m.Out, Edited: edited, Text: m.Message}
		if kb, ok := m.ReplyMarkup.(*tg.ReplyInlineMarkup); ok {
			for _, row := range kb.Rows {
				var r []Button
				for _, b := range row.Buttons {
					btn := Button{Text: b.Text}
					switch t := b.Type.(type) {
					case *tg.InlineButtonTypeURL:
						btn.URL = t.URL
					case *tg.InlineButtonTypeCallback:
						btn.Data = t.Data
					}
					r = append(r, btn)
				}
				cm.Buttons = append(cm.Buttons, r)
			}
		}
		return cm, true
	case *tg.MessageService:
		peer, _ := m.PeerID.(*tg.PeerUser)
		if peer == nil {
			return ChatMessage{}, false
		}
		cm := ChatMessage{Peer: peer.UserID, ID: m.ID, Out: m.Out}
		if _, ok := m.Action.(*tg.MessageActionSecureValuesSent); ok {
			cm.Service = "secure_values_sent"
		} else {
			cm.Service = fmt.Sprintf("%T", m.Action)
		}
		return cm, true
	}
	return ChatMessage{}, false
}

// Messages returns every message of the user's chats received so far, in
// order (edits appear as new entries with Edited set). Out messages appear
// only when another session of the user sent them.
func (u *SimUser) Messages() []ChatMessage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]ChatMessage(nil), u.chat...)
}

// WaitMessage waits for the next message (not seen by an earlier
// WaitMessage) for which match returns true; a nil match takes the next
// incoming message. Out messages are those the server pushed (such as the
// "secure_values_sent" service message after sharing). Messages skipped
// over while looking are consumed.
func (u *SimUser) WaitMessage(ctx context.Context, match func(ChatMessage) bool) (ChatMessage, error) {
	for {
		u.mu.Lock()
		for u.cursor < len(u.chat) {
			m := u.chat[u.cursor]
			u.cursor++
			if (match == nil && !m.Out) || (match != nil && match(m)) {
				u.mu.Unlock()
				return m, nil
			}
		}
		ch := u.changed
		u.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ChatMessage{}, fmt.Errorf("sandbox: wait for a message: %w", ctx.Err())
		}
	}
}

// resolveBot finds a bot by username and remembers its access hash.
func (u *SimUser) resolveBot(ctx context.Context, username string) (*tg.User, error) {
	res, err := u.api.ContactsResolveUsername(ctx, &tg.ContactsResolveUsernameRequest{Username: strings.TrimPrefix(username, "@")})
	if err != nil {
		return nil, fmt.Errorf("sandbox: resolve @%s: %w", username, err)
	}
	for _, x := range res.Users {
		if usr, ok := x.(*tg.User); ok {
			u.mu.Lock()
			u.peers[usr.ID] = usr
			u.mu.Unlock()
			return usr, nil
		}
	}
	return nil, fmt.Errorf("sandbox: resolve @%s: no user in the answer", username)
}

func (u *SimUser) peer(id int64) (*tg.InputPeerUser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.peers[id]
	if !ok {
		return nil, fmt.Errorf("sandbox: user %d is unknown to this user: start a chat first", id)
	}
	return &tg.InputPeerUser{UserID: p.ID, AccessHash: p.AccessHash}, nil
}

// Start opens the chat with a bot and sends "/start <payload>" (just
// "/start" when payload is empty), as tapping a t.me/<bot>?start=<payload>
// link does. It returns the bot's user ID.
func (u *SimUser) Start(ctx context.Context, botUsername, payload string) (int64, error) {
	bot, err := u.resolveBot(ctx, botUsername)
	if err != nil {
		return 0, err
	}
	text := "/start"
	if payload != "" {
		text += " " + payload
	}
	if err := u.Send(ctx, bot.ID, text); err != nil {
		return 0, err
	}
	return bot.ID, nil
}

// Send sends a text message to a user or bot this user knows.
func (u *SimUser) Send(ctx context.Context, peerID int64, text string) error {
	p, err := u.peer(peerID)
	if err != nil {
		return err
	}
	randomID, err := randomInt64(u.rand)
	if err != nil {
		return err
	}
	if _, err := u.api.MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{
		Peer: p, Message: text, RandomID: randomID,
	}); err != nil {
		return fmt.Errorf("sandbox: send message: %w", err)
	}
	return nil
}

// Press presses a callback button of a message and returns the bot's
// answer (messages.getBotCallbackAnswer).
func (u *SimUser) Press(ctx context.Context, m ChatMessage, b Button) (*tg.MessagesBotCallbackAnswer, error) {
	p, err := u.peer(m.Peer)
	if err != nil {
		return nil, err
	}
	ans, err := u.api.MessagesGetBotCallbackAnswer(ctx, &tg.MessagesGetBotCallbackAnswerRequest{
		Peer: p, MsgID: m.ID, Data: b.Data,
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: press button: %w", err)
	}
	return ans, nil
}

// HTTPStatusError is OpenURL's error when the page answers another status
// than 200 OK (errors.As).
type HTTPStatusError struct {
	// Status is the HTTP status code, such as 404.
	Status int
}

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("HTTP status %d", e.Status) }

// OpenURL fetches a web page as the user's phone would after tapping a URL
// button, and returns the first Telegram Passport deep link in it
// (tg://resolve?domain=telegrampassport..., tg:resolve?... or
// tg://passport?...), found in an attribute (href, src, content of a meta
// refresh, data-*) or in a script, in document order. A page answering
// another status than 200 fails with an *HTTPStatusError.
func (u *SimUser) OpenURL(ctx context.Context, pageURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return "", fmt.Errorf("sandbox: open URL: %w", err)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14) TelegramSandbox/1.0")
	resp, err := u.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("sandbox: open URL: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sandbox: open URL: %w", &HTTPStatusError{Status: resp.StatusCode})
	}
	link, err := FindPassportLink(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	return link, nil
}

// ErrNoPassportLink means a page holds no Telegram Passport deep link.
var ErrNoPassportLink = errors.New("sandbox: no Telegram Passport link in the page")

// FindPassportLink returns the first Telegram Passport deep link of an HTML
// page (see SimUser.OpenURL).
func FindPassportLink(r io.Reader) (string, error) {
	z := html.NewTokenizer(r)
	inScript := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return "", ErrNoPassportLink
			}
			return "", fmt.Errorf("sandbox: parse page: %w", z.Err())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			inScript = tok.Data == "script"
			for _, a := range tok.Attr {
				if l := passportLinkIn(a.Val, false); l != "" {
					return l, nil
				}
			}
		case html.EndTagToken:
			inScript = false
		case html.TextToken:
			if inScript {
				if l := passportLinkIn(string(z.Text()), true); l != "" {
					return l, nil
				}
			}
		}
	}
}

// passportLinkIn finds a Passport link inside s (an attribute value or
// script text). In scripts the link ends at a quote and JavaScript escapes
// are undone.
func passportLinkIn(s string, script bool) string {
	if script {
		s = strings.NewReplacer(`\/`, "/", `\u0026`, "&", `\x26`, "&", `\u003d`, "=", `\x3d`, "=").Replace(s)
	}
	best := -1
	for _, prefix := range []string{"tg://resolve?", "tg:resolve?", "tg://passport?", "tg:passport?"} {
		if i := strings.Index(s, prefix); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	l := s[best:]
	if script {
		if end := strings.IndexAny(l, "\"'`"); end >= 0 {
			l = l[:end]
		}
	} else if end := strings.IndexAny(l, " \t\n\"'"); end >= 0 {
		l = l[:end]
	}
	if strings.HasPrefix(l, "tg://resolve?") || strings.HasPrefix(l, "tg:resolve?") {
		q, err := url.ParseQuery(l[strings.Index(l, "?")+1:])
		if err != nil || q.Get("domain") != passport.PassportDomain {
			return ""
		}
	}
	return l
}

// request is a parsed Passport link with the raw values an app sends back.
type request struct {
	link  passport.Link
	scope string // raw scope, sent back verbatim
}

func parseRequest(link string) (request, error) {
	l, err := passport.ParseLink(link)
	if err != nil {
		return request{}, fmt.Errorf("sandbox: passport link: %w", err)
	}
	u, err := url.Parse(link)
	if err != nil {
		return request{}, fmt.Errorf("sandbox: passport link: %w", err)
	}
	return request{link: l, scope: u.Query().Get("scope")}, nil
}

// callback opens the link's callback URL with the outcome, as Telegram apps
// do after the user shared (tg_passport=success), cancelled or hit an error.
func (u *SimUser) callback(ctx context.Context, r request, outcome, code string) error {
	if r.link.CallbackURL == "" {
		return nil
	}
	cb, err := url.Parse(r.link.CallbackURL)
	if err != nil {
		return fmt.Errorf("sandbox: callback URL: %w", err)
	}
	q := cb.Query()
	q.Set("tg_passport", outcome)
	if code != "" {
		q.Set("error", code)
	}
	cb.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cb.String(), nil)
	if err != nil {
		return fmt.Errorf("sandbox: callback URL: %w", err)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox: open callback URL: %w", err)
	}
	_ = resp.Body.Close()
	return nil
}

// form fetches the authorization form; errors the app reports to the
// callback URL are reported there too.
func (u *SimUser) form(ctx context.Context, r request) (*tg.AccountAuthorizationForm, error) {
	form, err := u.api.AccountGetAuthorizationForm(ctx, &tg.AccountGetAuthorizationFormRequest{
		BotID: r.link.BotID, Scope: r.scope, PublicKey: r.link.PublicKey,
	})
	if err != nil {
		if rpcErr, ok := tgerr.As(err); ok && rpcErr.IsOneOf("BOT_INVALID", "PUBLIC_KEY_REQUIRED", "PUBLIC_KEY_INVALID", "SCOPE_EMPTY") {
			_ = u.callback(ctx, r, "error", rpcErr.Type)
		}
		return nil, fmt.Errorf("sandbox: get authorization form: %w", err)
	}
	return form, nil
}

// Cancel dismisses the Passport form of a link, returning to its callback
// URL with tg_passport=cancel.
func (u *SimUser) Cancel(ctx context.Context, link string) error {
	r, err := parseRequest(link)
	if err != nil {
		return err
	}
	return u.callback(ctx, r, "cancel", "")
}

// ValueError is an error a bot set on the user's data, as the app shows
// it.
type ValueError struct {
	Type passport.ElementType
	// Target is "element", "data.<field>", "front_side", "reverse_side",
	// "selfie", "files[i]", "files", "translation[i]" or "translation"
	// (i is the scan's index; -1 if the hash matches no current scan).
	Target string
	Text   string
}

// Errors returns the errors the bot of a link set on the user's data
// (from account.getAuthorizationForm).
func (u *SimUser) Errors(ctx context.Context, link string) ([]ValueError, error) {
	r, err := parseRequest(link)
	if err != nil {
		return nil, err
	}
	form, err := u.form(ctx, r)
	if err != nil {
		return nil, err
	}
	values := map[passport.ElementType]*tg.SecureValue{}
	for i := range form.Values {
		if t, err := passport.ElementTypeOf(form.Values[i].Type); err == nil {
			values[t] = &form.Values[i]
		}
	}
	index := func(files []tg.SecureFileClass, h []byte) int {
		for i, f := range files {
			if sf, ok := f.(*tg.SecureFile); ok && string(sf.FileHash) == string(h) {
				return i
			}
		}
		return -1
	}
	var out []ValueError
	for _, e := range form.Errors {
		t, err := passport.ElementTypeOf(e.GetType())
		if err != nil {
			continue
		}
		ve := ValueError{Type: t}
		v := values[t]
		var files, translation []tg.SecureFileClass
		if v != nil {
			files, translation = v.Files, v.Translation
		}
		switch e := e.(type) {
		case *tg.SecureValueErrorData:
			ve.Target, ve.Text = "data."+e.Field, e.Text
		case *tg.SecureValueErrorFrontSide:
			ve.Target, ve.Text = "front_side", e.Text
		case *tg.SecureValueErrorReverseSide:
			ve.Target, ve.Text = "reverse_side", e.Text
		case *tg.SecureValueErrorSelfie:
			ve.Target, ve.Text = "selfie", e.Text
		case *tg.SecureValueErrorFile:
			ve.Target, ve.Text = fmt.Sprintf("files[%d]", index(files, e.FileHash)), e.Text
		case *tg.SecureValueErrorFiles:
			ve.Target, ve.Text = "files", e.Text
		case *tg.SecureValueErrorTranslationFile:
			ve.Target, ve.Text = fmt.Sprintf("translation[%d]", index(translation, e.FileHash)), e.Text
		case *tg.SecureValueErrorTranslationFiles:
			ve.Target, ve.Text = "translation", e.Text
		case *tg.SecureValueError:
			ve.Target, ve.Text = "element", e.Text
		default:
			continue
		}
		out = append(out, ve)
	}
	return out, nil
}

// Fix changes element t of the user's profile with edit and saves it again
// (account.saveSecureValue), as a user correcting a flagged value does.
// Scans that changed are uploaded again; the bot's errors on what changed
// are cleared by the server. Share again with FillForm.
func (u *SimUser) Fix(ctx context.Context, t passport.ElementType, edit func(*ProfileElement)) error {
	u.mu.Lock()
	e, ok := u.profile[t]
	if !ok {
		u.mu.Unlock()
		return fmt.Errorf("sandbox: fix %s: the profile has no such element", t)
	}
	p := Profile{t: e}.Clone()
	edit(p[t])
	if err := p.Validate(); err != nil {
		u.mu.Unlock()
		return err
	}
	u.profile[t] = p[t]
	u.mu.Unlock()
	secret, err := u.passportSecret(ctx)
	if err != nil {
		return err
	}
	_, err = u.save(ctx, secret, t)
	return err
}

// FillForm does what a Telegram app does with a Passport link: it fetches
// the authorization form, creates the cloud password and passport secret if
// needed, saves every requested element the server does not have yet from
// the profile (encrypted on the client, scans uploaded), and shares them
// with the bot (account.acceptAuthorization), then returns to the callback
// URL with tg_passport=success. For a one-of element it picks the first
// type the server or the profile has.
func (u *SimUser) FillForm(ctx context.Context, link string) error {
	r, err := parseRequest(link)
	if err != nil {
		return err
	}
	form, err := u.form(ctx, r)
	if err != nil {
		return err
	}
	pub, err := passport.ParsePublicKey([]byte(r.link.PublicKey))
	if err != nil {
		return fmt.Errorf("sandbox: bot public key: %w", err)
	}
	secret, err := u.passportSecret(ctx)
	if err != nil {
		return err
	}
	have := map[passport.ElementType]*tg.SecureValue{}
	for i := range form.Values {
		if t, err := passport.ElementTypeOf(form.Values[i].Type); err == nil {
			have[t] = &form.Values[i]
		}
	}
	creds := &passport.Credentials{SecureData: map[passport.ElementType]*passport.ValueCredentials{}, Nonce: r.link.Nonce}
	var hashes []tg.SecureValueHash
	for _, req := range form.RequiredTypes {
		var options []*tg.SecureRequiredType
		switch x := req.(type) {
		case *tg.SecureRequiredType:
			options = []*tg.SecureRequiredType{x}
		case *tg.SecureRequiredTypeOneOf:
			for _, o := range x.Types {
				if rt, ok := o.(*tg.SecureRequiredType); ok {
					options = append(options, rt)
				}
			}
		}
		rt, t, ok := u.choose(options, have)
		if !ok {
			return fmt.Errorf("sandbox: the profile has nothing for a requested element (%d choices)", len(options))
		}
		v := have[t]
		if v == nil || !complete(v, rt) {
			if v, err = u.save(ctx, secret, t); err != nil {
				return err
			}
			have[t] = v
		}
		vc, err := valueCredentials(secret, v, rt)
		if err != nil {
			return fmt.Errorf("sandbox: %s: %w", t, err)
		}
		if vc != nil {
			creds.SecureData[t] = vc
		}
		hashes = append(hashes, tg.SecureValueHash{Type: v.Type, Hash: v.Hash})
	}
	enc, err := passport.EncryptCredentials(u.rand, pub, creds)
	if err != nil {
		return fmt.Errorf("sandbox: encrypt credentials: %w", err)
	}
	if _, err := u.api.AccountAcceptAuthorization(ctx, &tg.AccountAcceptAuthorizationRequest{
		BotID: r.link.BotID, Scope: r.scope, PublicKey: r.link.PublicKey,
		ValueHashes: hashes, Credentials: enc.TL(),
	}); err != nil {
		return fmt.Errorf("sandbox: accept authorization: %w", err)
	}
	return u.callback(ctx, r, "success", "")
}

// choose picks the requested type to provide: one the server has, else one
// the profile has.
func (u *SimUser) choose(options []*tg.SecureRequiredType, have map[passport.ElementType]*tg.SecureValue) (*tg.SecureRequiredType, passport.ElementType, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for pass := range 2 {
		for _, o := range options {
			t, err := passport.ElementTypeOf(o.Type)
			if err != nil {
				continue
			}
			if pass == 0 && have[t] != nil && complete(have[t], o) {
				return o, t, true
			}
			if pass == 1 && u.profile[t] != nil {
				return o, t, true
			}
		}
	}
	return nil, "", false
}

// complete reports whether a stored value has what the request needs.
func complete(v *tg.SecureValue, rt *tg.SecureRequiredType) bool {
	if rt.SelfieRequired && v.Selfie == nil {
		return false
	}
	if rt.TranslationRequired && len(v.Translation) == 0 {
		return false
	}
	return true
}

// valueCredentials recovers the value secrets of a stored value (the
// server keeps them encrypted under the passport secret) for the parts the
// request asks for.
func valueCredentials(secret []byte, v *tg.SecureValue, rt *tg.SecureRequiredType) (*passport.ValueCredentials, error) {
	t, err := passport.ElementTypeOf(v.Type)
	if err != nil {
		return nil, err
	}
	if t.IsPlain() {
		return nil, nil
	}
	vc := &passport.ValueCredentials{}
	if d, ok := v.GetData(); ok {
		s, err := passport.DecryptValueSecret(secret, d.DataHash, d.Secret)
		if err != nil {
			return nil, fmt.Errorf("data secret: %w", err)
		}
		vc.Data = &passport.DataCredentials{DataHash: d.DataHash, Secret: s}
	}
	file := func(f tg.SecureFileClass) (*passport.FileCredentials, error) {
		sf, ok := f.(*tg.SecureFile)
		if !ok {
			return nil, nil
		}
		s, err := passport.DecryptValueSecret(secret, sf.FileHash, sf.Secret)
		if err != nil {
			return nil, fmt.Errorf("file secret: %w", err)
		}
		return &passport.FileCredentials{FileHash: sf.FileHash, Secret: s}, nil
	}
	files := func(fs []tg.SecureFileClass) ([]passport.FileCredentials, error) {
		var out []passport.FileCredentials
		for _, f := range fs {
			fc, err := file(f)
			if err != nil {
				return nil, err
			}
			if fc != nil {
				out = append(out, *fc)
			}
		}
		return out, nil
	}
	if vc.FrontSide, err = file(v.FrontSide); err != nil {
		return nil, err
	}
	if vc.ReverseSide, err = file(v.ReverseSide); err != nil {
		return nil, err
	}
	if rt.SelfieRequired {
		if vc.Selfie, err = file(v.Selfie); err != nil {
			return nil, err
		}
	}
	if vc.Files, err = files(v.Files); err != nil {
		return nil, err
	}
	if rt.TranslationRequired {
		if vc.Translation, err = files(v.Translation); err != nil {
			return nil, err
		}
	}
	return vc, nil
}

// save encrypts element t of the profile and stores it on the server.
func (u *SimUser) save(ctx context.Context, secret []byte, t passport.ElementType) (*tg.SecureValue, error) {
	u.mu.Lock()
	pe := u.profile[t]
	if pe != nil {
		pe = Profile{t: pe}.Clone()[t]
	}
	u.mu.Unlock()
	if pe == nil {
		return nil, fmt.Errorf("sandbox: the profile has no %s", t)
	}
	typ, err := t.TL()
	if err != nil {
		return nil, err
	}
	in := tg.InputSecureValue{Type: typ}
	if t.HasData() {
		plain, err := json.Marshal(pe.Fields)
		if err != nil {
			return nil, fmt.Errorf("sandbox: encode %s data: %w", t, err)
		}
		ev, err := passport.EncryptValue(u.rand, plain)
		if err != nil {
			return nil, err
		}
		sd, err := ev.SecureData(secret)
		if err != nil {
			return nil, err
		}
		in.SetData(sd)
	}
	upload := func(s *Scan) (tg.InputSecureFileClass, error) {
		img, err := s.JPEG()
		if err != nil {
			return nil, err
		}
		return u.uploadFile(ctx, secret, img)
	}
	uploadAll := func(ss []Scan) ([]tg.InputSecureFileClass, error) {
		var out []tg.InputSecureFileClass
		for i := range ss {
			f, err := upload(&ss[i])
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	if pe.FrontSide != nil {
		f, err := upload(pe.FrontSide)
		if err != nil {
			return nil, err
		}
		in.SetFrontSide(f)
	}
	if pe.ReverseSide != nil {
		f, err := upload(pe.ReverseSide)
		if err != nil {
			return nil, err
		}
		in.SetReverseSide(f)
	}
	if pe.Selfie != nil {
		f, err := upload(pe.Selfie)
		if err != nil {
			return nil, err
		}
		in.SetSelfie(f)
	}
	if len(pe.Files) > 0 {
		fs, err := uploadAll(pe.Files)
		if err != nil {
			return nil, err
		}
		in.SetFiles(fs)
	}
	if len(pe.Translation) > 0 {
		fs, err := uploadAll(pe.Translation)
		if err != nil {
			return nil, err
		}
		in.SetTranslation(fs)
	}
	switch t {
	case passport.TypePhoneNumber:
		in.SetPlainData(&tg.SecurePlainPhone{Phone: pe.Phone})
	case passport.TypeEmail:
		in.SetPlainData(&tg.SecurePlainEmail{Email: pe.Email})
	}
	v, err := u.api.AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{
		Value: in, SecureSecretID: passport.SecretID(secret),
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: save %s: %w", t, err)
	}
	return v, nil
}

// uploadFile encrypts a scan and uploads it with upload.saveFilePart.
func (u *SimUser) uploadFile(ctx context.Context, secret, plain []byte) (*tg.InputSecureFileUploaded, error) {
	ev, err := passport.EncryptValue(u.rand, plain)
	if err != nil {
		return nil, err
	}
	id, err := randomInt64(u.rand)
	if err != nil {
		return nil, err
	}
	parts := 0
	for off := 0; off < len(ev.Ciphertext); off += u.partSize {
		end := min(off+u.partSize, len(ev.Ciphertext))
		if _, err := u.api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{
			FileID: id, FilePart: parts, Bytes: ev.Ciphertext[off:end],
		}); err != nil {
			return nil, fmt.Errorf("sandbox: upload part %d: %w", parts, err)
		}
		parts++
	}
	return ev.InputFileUploaded(secret, id, parts)
}

// srp answers a password check with the user's cloud password.
func (u *SimUser) srp(ctx context.Context) (tg.InputCheckPasswordSRPClass, *tg.AccountPassword, error) {
	p, err := u.api.AccountGetPassword(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: get password: %w", err)
	}
	if !p.HasPassword {
		return &tg.InputCheckPasswordEmpty{}, p, nil
	}
	u.mu.Lock()
	pw := u.password
	u.mu.Unlock()
	a, err := u.srpc.answer(u.rand, []byte(pw), p)
	if err != nil {
		return nil, nil, err
	}
	return a, p, nil
}

// newPassword sets a new cloud password in settings for
// account.updatePasswordSettings, with the server's algorithm of p.
func (u *SimUser) newPassword(settings *tg.AccountPasswordInputSettings, pw string, p *tg.AccountPassword) error {
	algo, ok := p.NewAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow)
	if !ok {
		return fmt.Errorf("sandbox: unsupported new password algo %T", p.NewAlgo)
	}
	newAlgo, hash, err := u.srpc.newHash(u.rand, []byte(pw), algo)
	if err != nil {
		return err
	}
	settings.SetNewAlgo(newAlgo)
	settings.SetNewPasswordHash(hash)
	settings.SetHint("sandbox")
	return nil
}

// passportSecret returns the user's passport secret, creating the cloud
// password and the secret the first time, as Telegram apps do (one
// account.updatePasswordSettings carrying both when there is no password).
func (u *SimUser) passportSecret(ctx context.Context) ([]byte, error) {
	u.mu.Lock()
	if u.secret != nil {
		s := u.secret
		u.mu.Unlock()
		return s, nil
	}
	pw := u.password
	u.mu.Unlock()

	check, p, err := u.srp(ctx)
	if err != nil {
		return nil, err
	}
	ns := tg.AccountPasswordInputSettings{}
	if !p.HasPassword {
		if err := u.newPassword(&ns, pw, p); err != nil {
			return nil, err
		}
	} else {
		settings, err := u.api.AccountGetPasswordSettings(ctx, check)
		if err != nil {
			return nil, fmt.Errorf("sandbox: get password settings: %w", err)
		}
		if s, ok := settings.GetSecureSettings(); ok {
			a, ok := s.SecureAlgo.(*tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000)
			if !ok {
				return nil, fmt.Errorf("sandbox: unsupported secure algo %T", s.SecureAlgo)
			}
			secret, err := passport.DecryptPassportSecret([]byte(pw), a.Salt, s.SecureSecret)
			if err != nil {
				return nil, fmt.Errorf("sandbox: passport secret: %w", err)
			}
			if passport.SecretID(secret) != s.SecureSecretID {
				return nil, fmt.Errorf("sandbox: passport secret does not match its id")
			}
			u.mu.Lock()
			u.secret = secret
			u.mu.Unlock()
			return secret, nil
		}
		// A fresh srp_id for the update.
		if check, p, err = u.srp(ctx); err != nil {
			return nil, err
		}
	}
	algo, ok := p.NewSecureAlgo.(*tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000)
	if !ok {
		return nil, fmt.Errorf("sandbox: unsupported new secure algo %T", p.NewSecureAlgo)
	}
	secret, err := passport.NewSecret(u.rand)
	if err != nil {
		return nil, err
	}
	salt, enc, err := passport.EncryptPassportSecret(u.rand, []byte(pw), algo.Salt, secret)
	if err != nil {
		return nil, err
	}
	ns.SetNewSecureSettings(tg.SecureSecretSettings{
		SecureAlgo:     &tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000{Salt: salt},
		SecureSecret:   enc,
		SecureSecretID: passport.SecretID(secret),
	})
	if _, err := u.api.AccountUpdatePasswordSettings(ctx, &tg.AccountUpdatePasswordSettingsRequest{
		Password: check, NewSettings: ns,
	}); err != nil {
		return nil, fmt.Errorf("sandbox: store passport secret: %w", err)
	}
	if !p.HasPassword {
		u.log.Info(ctx, "Cloud password created", log.Int64("user_id", u.User.ID))
	}
	u.mu.Lock()
	u.secret = secret
	u.mu.Unlock()
	return secret, nil
}
