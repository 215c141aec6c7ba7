package sandbox

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"

	"github.com/kycbot/kycbot/passport"
)

// world is the sandbox's state. Every field is guarded by Sandbox.mu.
type world struct {
	accounts   map[int64]*account
	byPhone    map[string]int64
	byUsername map[string]int64
	// authKeys binds an auth key (per DC) to the account that logged in
	// with it.
	authKeys map[authKeyRef]int64
	// codes maps a phone_code_hash to the code sent.
	codes map[string]*loginCode
	// exported holds auth.exportAuthorization results until imported.
	exported map[int64]exportedAuth
	// srp holds the server side of password checks in progress.
	srp map[int64]*srpSession
	// pending holds auth keys that passed auth.signIn and still need the
	// 2FA password (auth.checkPassword).
	pending map[authKeyRef]int64

	uploads map[uploadKey]*upload
	files   map[int64]*storedFile

	queries map[int64]*callbackQuery

	nextUserID int64
	nextBotID  int64
}

func newWorld() world {
	return world{
		accounts:   map[int64]*account{},
		byPhone:    map[string]int64{},
		byUsername: map[string]int64{},
		authKeys:   map[authKeyRef]int64{},
		codes:      map[string]*loginCode{},
		exported:   map[int64]exportedAuth{},
		srp:        map[int64]*srpSession{},
		pending:    map[authKeyRef]int64{},
		uploads:    map[uploadKey]*upload{},
		files:      map[int64]*storedFile{},
		queries:    map[int64]*callbackQuery{},
		nextUserID: 1000001,
		nextBotID:  7000000001,
	}
}

// loginCode is a login code sent with auth.sendCode.
type loginCode struct {
	phone string
	// signUp is set once auth.signIn took the code for a number without an
	// account: auth.signUp may then create it.
	signUp bool
}

type authKeyRef struct {
	dc  int
	key [8]byte
}

type exportedAuth struct {
	userID int64
	dc     int
	bytes  []byte
}

type sessionRef struct {
	srv     *tgtest.Server
	session tgtest.Session
}

// account is a Telegram user or bot.
type account struct {
	user tg.User // canonical copy; views are made by userView
	bot  *botInfo

	// Update log: every pts-carrying update, so that updates.getDifference
	// can answer what a session missed.
	pts int
	log []ptsEntry

	nextMsgID int
	msgs      map[int]*storedMessage
	// sent holds the random_ids of the messages the account sent, by peer:
	// used random_ids never expire (see sendMessage).
	sent map[sentKey]*sentRecord

	// sessions receive pushed updates (MTProto sessions that are not
	// invokeWithoutUpdates), by session ID.
	sessions map[int64]sessionRef
	// outbox holds pushes in order; sender drains it.
	outbox []push
	wake   chan struct{}
	// missed is set when a push reached no session: the next session to
	// show up gets updatesTooLong, so that the client calls
	// updates.getDifference (gotd does not on its own after a reconnect).
	missed bool

	pw     *cloudPassword
	values map[passport.ElementType]*tg.SecureValue
	// badge is the verification a bot set on the account
	// (bots.setCustomVerification), shown to everyone in
	// users.getFullUser; nil when none.
	badge *tg.BotVerification
	// valueErrors are the errors bots set with users.setSecureValueErrors,
	// by bot ID.
	valueErrors map[int64][]tg.SecureValueErrorClass
}

type botInfo struct {
	secret     string
	publicKey  *rsa.PublicKey
	privacyURL string
	commands   []tg.BotCommand
	// verifier: the bot may mark users (bots.setCustomVerification).
	verifier bool
}

type ptsEntry struct {
	pts, count int
	update     tg.UpdateClass
	users      []int64
}

type storedMessage struct {
	msg       tg.MessageClass
	peer      int64
	peerMsgID int
}

type push struct {
	updates tg.UpdatesClass
	// except is the session that gets these updates as its RPC result.
	except int64
	// only, when set, is the one session to send to.
	only int64
}

// Bot is a bot registered with AddBot.
type Bot struct {
	ID         int64
	AccessHash int64
	Username   string
	// Token is what auth.importBotAuthorization accepts ("ID:secret").
	Token string
}

// InputUser returns the bot as a tg.InputUser.
func (b Bot) InputUser() *tg.InputUser { return &tg.InputUser{UserID: b.ID, AccessHash: b.AccessHash} }

// BotSpec describes a bot to register, as with @BotFather.
type BotSpec struct {
	// Username without '@'; required and unique.
	Username string
	// FirstName is the bot's display name (defaults to Username).
	FirstName string
	// PublicKeyPEM is the Passport public key given to @BotFather
	// (/setpublickey), SPKI PEM. Optional: without it
	// account.getAuthorizationForm answers PUBLIC_KEY_INVALID.
	PublicKeyPEM string
	// PrivacyPolicyURL is returned in the authorization form.
	PrivacyPolicyURL string
	// Verifier makes the bot one Telegram approved as a verifier: it may
	// mark users with bots.setCustomVerification (others are answered
	// 403 BOT_VERIFIER_FORBIDDEN, as Telegram answers them). See also
	// Sandbox.SetBotVerifier.
	Verifier bool
}

// User is a user registered with AddUser.
type User struct {
	ID         int64
	AccessHash int64
	Phone      string
	FirstName  string
	LastName   string
	Username   string
}

// InputUser returns the user as a tg.InputUser.
func (u User) InputUser() *tg.InputUser { return &tg.InputUser{UserID: u.ID, AccessHash: u.AccessHash} }

// UserSpec describes a user account to register.
type UserSpec struct {
	// Phone in international form without '+', required and unique
	// ("15550001234"). Any digits work; auth.signIn accepts the login code.
	Phone     string
	FirstName string
	LastName  string
	Username  string
	// LangCode is the language of the user's app ("en", "de", ...).
	LangCode string
	// CloudPassword is the 2FA password; empty means none (Passport then
	// answers PASSWORD_REQUIRED until the user sets one).
	CloudPassword string
}

// AddBot registers a bot, as @BotFather would, and returns its token.
func (sb *Sandbox) AddBot(spec BotSpec) (Bot, error) {
	name := strings.TrimPrefix(spec.Username, "@")
	if name == "" {
		return Bot{}, fmt.Errorf("sandbox: AddBot: username is required")
	}
	info := &botInfo{privacyURL: spec.PrivacyPolicyURL, verifier: spec.Verifier}
	if spec.PublicKeyPEM != "" {
		pub, err := passport.ParsePublicKey([]byte(spec.PublicKeyPEM))
		if err != nil {
			return Bot{}, fmt.Errorf("sandbox: AddBot %s: public key: %w", name, err)
		}
		info.publicKey = pub
	}
	info.secret = base64.RawURLEncoding.EncodeToString(sb.randBytes(26))
	first := spec.FirstName
	if first == "" {
		first = name
	}

	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.w.byUsername[strings.ToLower(name)]; ok {
		return Bot{}, fmt.Errorf("sandbox: AddBot: username %s is taken", name)
	}
	id := sb.w.nextBotID
	sb.w.nextBotID++
	acc := sb.newAccountLocked(tg.User{
		ID: id, AccessHash: sb.randInt64(), FirstName: first, Username: name,
		Bot: true, BotInfoVersion: 1, BotNochats: true,
	})
	acc.bot = info
	sb.w.byUsername[strings.ToLower(name)] = id
	sb.log.Info(sb.ctx, "Bot added", log.Int64("bot_id", id))
	return Bot{ID: id, AccessHash: acc.user.AccessHash, Username: name, Token: fmt.Sprintf("%d:%s", id, info.secret)}, nil
}

// SetBotPublicKey replaces the Passport public key of the bot botID, as
// @BotFather's /setpublickey does: from then on Passport forms that carry
// another key are refused (PUBLIC_KEY_INVALID), as Telegram refuses them.
func (sb *Sandbox) SetBotPublicKey(botID int64, publicKeyPEM string) error {
	pub, err := passport.ParsePublicKey([]byte(publicKeyPEM))
	if err != nil {
		return fmt.Errorf("sandbox: SetBotPublicKey %d: %w", botID, err)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[botID]
	if acc == nil || acc.bot == nil {
		return fmt.Errorf("sandbox: SetBotPublicKey: no bot %d", botID)
	}
	acc.bot.publicKey = pub
	return nil
}

// SetBotVerifier says whether the bot botID is one Telegram approved as a
// verifier (see BotSpec.Verifier). Taking the approval away leaves the
// badges the bot set, as on Telegram.
func (sb *Sandbox) SetBotVerifier(botID int64, verifier bool) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[botID]
	if acc == nil || acc.bot == nil {
		return fmt.Errorf("sandbox: SetBotVerifier: no bot %d", botID)
	}
	acc.bot.verifier = verifier
	return nil
}

// Badge returns the verification badge set on the user userID
// (bots.setCustomVerification): the bot that set it and its description;
// ok is false when the user has none.
func (sb *Sandbox) Badge(userID int64) (v tg.BotVerification, ok bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[userID]
	if acc == nil || acc.badge == nil {
		return tg.BotVerification{}, false
	}
	return *acc.badge, true
}

// Pts returns the pts of the account userID (the common message box:
// each update of its messages moves it), as updates.getState answers it;
// ok is false for an unknown account.
func (sb *Sandbox) Pts(userID int64) (pts int, ok bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[userID]
	if acc == nil {
		return 0, false
	}
	return acc.pts, true
}

// AddUser registers a user account. With a CloudPassword the account has
// 2FA set up (login then also asks for the password), but no passport
// secret yet: the user's app creates one on first use of Passport.
func (sb *Sandbox) AddUser(spec UserSpec) (User, error) {
	phone := strings.TrimPrefix(spec.Phone, "+")
	if phone == "" {
		return User{}, fmt.Errorf("sandbox: AddUser: phone is required")
	}
	var pw *cloudPassword
	if spec.CloudPassword != "" {
		var err error
		if pw, err = sb.newCloudPassword([]byte(spec.CloudPassword)); err != nil {
			return User{}, fmt.Errorf("sandbox: AddUser: %w", err)
		}
	}
	first := spec.FirstName
	if first == "" {
		first = "User"
	}

	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.w.byPhone[phone]; ok {
		return User{}, fmt.Errorf("sandbox: AddUser: phone is already registered")
	}
	if spec.Username != "" {
		if _, ok := sb.w.byUsername[strings.ToLower(spec.Username)]; ok {
			return User{}, fmt.Errorf("sandbox: AddUser: username %s is taken", spec.Username)
		}
	}
	acc := sb.addUserLocked(tg.User{
		FirstName: first, LastName: spec.LastName,
		Username: spec.Username, Phone: phone, LangCode: spec.LangCode,
	})
	acc.pw = pw
	sb.log.Info(sb.ctx, "User added", log.Int64("user_id", acc.user.ID))
	return userOf(&acc.user), nil
}

// addUserLocked creates a user account from u (ID and access hash set
// here). The caller checked that its phone and username are free.
func (sb *Sandbox) addUserLocked(u tg.User) *account {
	u.ID = sb.w.nextUserID
	sb.w.nextUserID++
	u.AccessHash = sb.randInt64()
	acc := sb.newAccountLocked(u)
	sb.w.byPhone[u.Phone] = u.ID
	if u.Username != "" {
		sb.w.byUsername[strings.ToLower(u.Username)] = u.ID
	}
	return acc
}

// userOf returns a user as a User.
func userOf(u *tg.User) User {
	return User{ID: u.ID, AccessHash: u.AccessHash, Phone: u.Phone, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

func (sb *Sandbox) newAccountLocked(u tg.User) *account {
	acc := &account{
		user:        u,
		nextMsgID:   1,
		msgs:        map[int]*storedMessage{},
		sent:        map[sentKey]*sentRecord{},
		sessions:    map[int64]sessionRef{},
		wake:        make(chan struct{}, 1),
		values:      map[passport.ElementType]*tg.SecureValue{},
		valueErrors: map[int64][]tg.SecureValueErrorClass{},
	}
	sb.w.accounts[u.ID] = acc
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		sb.sender(acc)
	}()
	return acc
}

// userView returns user id as seen by viewer (Self set for the viewer).
// Caller holds sb.mu.
func (sb *Sandbox) userViewLocked(viewer, id int64) *tg.User {
	acc, ok := sb.w.accounts[id]
	if !ok {
		return &tg.User{ID: id, Deleted: true}
	}
	u := acc.user // copy
	u.Self = viewer == id
	if acc.badge != nil {
		u.SetBotVerificationIcon(acc.badge.Icon)
	}
	if u.Self || !u.Bot {
		u.Contact = false
	}
	if !u.Self {
		// Others do not see the phone number of a user who did not share it.
		u.Phone = ""
	}
	return &u
}

func (sb *Sandbox) usersLocked(viewer int64, ids ...int64) []tg.UserClass {
	seen := map[int64]bool{}
	var out []tg.UserClass
	for _, id := range ids {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, sb.userViewLocked(viewer, id))
	}
	return out
}

// touch records the session of an authorized request on the main DC as one
// that receives updates.
func (sb *Sandbox) touch(c *call) {
	if !c.updates || c.dc != MainDC {
		return
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	id, ok := sb.w.authKeys[authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}]
	if !ok {
		return
	}
	if acc := sb.w.accounts[id]; acc != nil {
		sb.addSessionLocked(acc, c)
	}
}

// addSessionLocked registers a session receiving updates; a new session of
// an account that missed pushes is told to fetch the difference.
func (sb *Sandbox) addSessionLocked(acc *account, c *call) {
	if _, ok := acc.sessions[c.session.ID]; ok {
		return
	}
	acc.sessions[c.session.ID] = sessionRef{srv: c.srv, session: c.session}
	if acc.missed {
		acc.missed = false
		sb.queueLocked(acc, push{updates: &tg.UpdatesTooLong{}, only: c.session.ID})
	}
}

func (sb *Sandbox) queueLocked(acc *account, p push) {
	acc.outbox = append(acc.outbox, p)
	select {
	case acc.wake <- struct{}{}:
	default:
	}
}

// self returns the account of the caller or AUTH_KEY_UNREGISTERED.
func (sb *Sandbox) self(ctx context.Context) (*account, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.selfLocked(ctx)
}

func (sb *Sandbox) selfLocked(ctx context.Context) (*account, error) {
	c := callFrom(ctx)
	if c == nil {
		return nil, tgerr.New(401, "AUTH_KEY_UNREGISTERED")
	}
	id, ok := sb.w.authKeys[authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}]
	if !ok {
		return nil, tgerr.New(401, "AUTH_KEY_UNREGISTERED")
	}
	return sb.w.accounts[id], nil
}

// botSelfLocked is selfLocked for methods only bots may call: a user gets
// USER_BOT_REQUIRED, as on Telegram.
func (sb *Sandbox) botSelfLocked(ctx context.Context) (*account, error) {
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return nil, err
	}
	if self.bot == nil {
		return nil, tgerr.New(400, "USER_BOT_REQUIRED")
	}
	return self, nil
}

func (sb *Sandbox) bindLocked(ctx context.Context, id int64) {
	c := callFrom(ctx)
	sb.w.authKeys[authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}] = id
	if c.updates && c.dc == MainDC {
		sb.addSessionLocked(sb.w.accounts[id], c)
	}
}

// addPtsLocked appends a pts update to acc's log. build receives the new pts
// and returns the update.
func (sb *Sandbox) addPtsLocked(acc *account, build func(pts int) tg.UpdateClass, users ...int64) tg.UpdateClass {
	acc.pts++
	u := build(acc.pts)
	acc.log = append(acc.log, ptsEntry{pts: acc.pts, count: 1, update: u, users: users})
	return u
}

// pushLocked queues copies of updates for every session of acc except the
// one answering (which gets them as its RPC result).
func (sb *Sandbox) pushLocked(ctx context.Context, acc *account, updates []tg.UpdateClass, users ...int64) error {
	var except int64
	if c := callFrom(ctx); c != nil {
		except = c.session.ID
	}
	copies := make([]tg.UpdateClass, 0, len(updates))
	for _, u := range updates {
		c, err := cloneUpdate(u)
		if err != nil {
			sb.log.Error(ctx, "Clone update", log.Error(err))
			return errInternal
		}
		copies = append(copies, c)
	}
	sb.queueLocked(acc, push{
		updates: &tg.Updates{Updates: copies, Users: sb.usersLocked(acc.user.ID, users...), Chats: []tg.ChatClass{}, Date: sb.unix()},
		except:  except,
	})
	return nil
}

// sender delivers acc's pushes in order, to every session that receives
// updates. A session whose connection is gone is forgotten; the account
// catches up with updates.getDifference.
func (sb *Sandbox) sender(acc *account) {
	for {
		select {
		case <-sb.ctx.Done():
			return
		case <-acc.wake:
		}
		for {
			sb.mu.Lock()
			if len(acc.outbox) == 0 {
				sb.mu.Unlock()
				break
			}
			p := acc.outbox[0]
			acc.outbox = acc.outbox[1:]
			targets := make([]sessionRef, 0, len(acc.sessions))
			answered := false // the calling session has them as its result
			for id, s := range acc.sessions {
				if id == p.except {
					answered = true
					continue
				}
				if p.only == 0 || id == p.only {
					targets = append(targets, s)
				}
			}
			sb.mu.Unlock()
			delivered := false
			for _, t := range targets {
				if err := t.srv.Send(sb.ctx, t.session, tgtest.MessageFromServer, p.updates); err != nil {
					sb.log.Debug(sb.ctx, "Session gone", log.Int64("user_id", acc.user.ID), log.Error(err))
					sb.mu.Lock()
					delete(acc.sessions, t.session.ID)
					sb.mu.Unlock()
					continue
				}
				delivered = true
			}
			if !delivered && !answered && p.only == 0 {
				sb.mu.Lock()
				acc.missed = true
				sb.mu.Unlock()
			}
		}
	}
}

func (sb *Sandbox) registerUpdates(d *tg.ServerDispatcher) {
	d.OnUpdatesGetState(func(ctx context.Context) (*tg.UpdatesState, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		acc, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		return &tg.UpdatesState{Pts: acc.pts, Date: sb.unix()}, nil
	})
	d.OnUpdatesGetDifference(func(ctx context.Context, req *tg.UpdatesGetDifferenceRequest) (tg.UpdatesDifferenceClass, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		acc, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		state := tg.UpdatesState{Pts: acc.pts, Date: sb.unix()}
		if req.Pts >= acc.pts {
			return &tg.UpdatesDifferenceEmpty{Date: state.Date, Seq: state.Seq}, nil
		}
		if req.Pts < 0 {
			return nil, tgerr.New(400, "PERSISTENT_TIMESTAMP_INVALID")
		}
		limit := req.PtsTotalLimit
		if limit <= 0 || limit > 1000 {
			limit = 1000
		}
		var (
			diff  tg.UpdatesDifference
			users = []int64{acc.user.ID}
			last  = req.Pts
		)
		for _, e := range acc.log {
			if e.pts <= req.Pts {
				continue
			}
			if len(diff.NewMessages)+len(diff.OtherUpdates) >= limit {
				break
			}
			u, err := cloneUpdate(e.update)
			if err != nil {
				return nil, errInternal
			}
			if nm, ok := u.(*tg.UpdateNewMessage); ok {
				diff.NewMessages = append(diff.NewMessages, nm.Message)
			} else {
				diff.OtherUpdates = append(diff.OtherUpdates, u)
			}
			users = append(users, e.users...)
			last = e.pts
		}
		diff.Users = sb.usersLocked(acc.user.ID, users...)
		diff.Chats = []tg.ChatClass{}
		diff.NewEncryptedMessages = []tg.EncryptedMessageClass{}
		if diff.OtherUpdates == nil {
			diff.OtherUpdates = []tg.UpdateClass{}
		}
		if diff.NewMessages == nil {
			diff.NewMessages = []tg.MessageClass{}
		}
		if last < acc.pts {
			diff.State = tg.UpdatesState{Pts: last, Date: state.Date}
			return &tg.UpdatesDifferenceSlice{
				NewMessages: diff.NewMessages, NewEncryptedMessages: diff.NewEncryptedMessages,
				OtherUpdates: diff.OtherUpdates, Chats: diff.Chats, Users: diff.Users,
				IntermediateState: diff.State,
			}, nil
		}
		diff.State = state
		return &diff, nil
	})
}
