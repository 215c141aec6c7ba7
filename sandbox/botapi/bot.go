package botapi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/log"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/updates"
	updhook "github.com/gotd/td/telegram/updates/hook"
	"github.com/gotd/td/tg"
)

// botClient is one bot's MTProto client and its Bot API state: the
// updates waiting for getUpdates or the webhook, the users it has seen
// (their access hashes) and the messages it sent.
type botClient struct {
	srv   *Server
	token string
	log   log.Helper

	ready chan struct{} // closed once logged in and receiving, or failed
	done  chan struct{} // closed when the client stopped
	err   error         // why the login failed (set before ready closes)

	// self is set before ready closes.
	self *tg.User

	mu     sync.Mutex
	api    *tg.Client // of the current MTProto client (rpc)
	users  map[int64]*tg.User
	sent   map[int]apiMessage
	queue  []queued
	nextID int
	wake   chan struct{} // closed and replaced when the queue or the mode changes
	poll   *poller
	hook   *webhook
}

// queued is an update waiting to be fetched or delivered.
type queued struct {
	id   int
	body json.RawMessage
}

// poller is a getUpdates call that waits.
type poller struct {
	stop chan *apiError // receives why another call ended it
}

// bot returns the logged-in client of token, logging it in on first use.
func (s *Server) bot(ctx context.Context, token string) (*botClient, error) {
	if !tokenRE.MatchString(token) {
		return nil, errUnauthorized
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errInternal
	}
	b := s.bots[token]
	if b != nil {
		select {
		case <-b.done:
			b = nil // stopped (the sandbox went away): log in again
		default:
		}
	}
	if b == nil {
		b = s.newBot(token)
		s.bots[token] = b
	}
	s.mu.Unlock()
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, errInternal
	}
	if b.err != nil {
		s.mu.Lock()
		if s.bots[token] == b {
			delete(s.bots, token)
		}
		s.mu.Unlock()
		return nil, b.err
	}
	return b, nil
}

// newBot starts the MTProto client of a bot. Caller holds s.mu.
func (s *Server) newBot(token string) *botClient {
	id, _, _ := strings.Cut(token, ":")
	b := &botClient{
		srv: s, token: token, log: s.log.With(log.String("bot", id)),
		ready: make(chan struct{}), done: make(chan struct{}),
		users: map[int64]*tg.User{}, sent: map[int]apiMessage{}, nextID: 1, wake: make(chan struct{}),
	}
	s.wg.Add(1) // s.mu held and s not closed: Close waits for it
	go func() {
		defer s.wg.Done()
		defer close(b.done)
		b.run(s.ctx)
	}()
	return b
}

// run keeps the bot's MTProto client running until ctx is done: a client
// that stops after it logged in (its connection lost for good) is started
// again, and catches up from the updates state it saved. A first login
// that fails ends run, with the error in b.err.
func (b *botClient) run(ctx context.Context) {
	var once sync.Once
	signal := func(err error) {
		once.Do(func() {
			b.err = err
			close(b.ready)
		})
	}
	defer signal(errors.New("the server stopped"))
	defer b.stopPoll(errInternal)
	delay := time.Second
	for {
		started := false
		err := b.runClient(ctx, func() {
			started = true
			signal(nil)
		})
		if ctx.Err() != nil {
			return
		}
		select {
		case <-b.ready:
		default:
			signal(err) // the first login failed
			return
		}
		b.log.Warn(ctx, "mtproto client stopped; starting it again", log.Error(err))
		if started {
			delay = time.Second
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay = min(2*delay, time.Minute)
	}
}

// runClient logs a gotd client in as the bot and passes its updates on
// until the client stops; onStart runs once it receives updates.
func (b *botClient) runClient(ctx context.Context, onStart func()) error {
	s := b.srv
	d := tg.NewUpdateDispatcher()
	d.OnNewMessage(b.onNewMessage)
	d.OnBotCallbackQuery(b.onCallbackQuery)
	gaps := updates.New(updates.Config{Handler: d, Storage: s.states, Logger: s.opts.logger})
	storage, err := s.remote.NewSession(ctx, nil)
	if err != nil {
		return err
	}
	opts := s.remote.Options(storage)
	opts.UpdateHandler = gaps
	opts.Logger = s.opts.logger
	opts.Middlewares = []telegram.Middleware{updhook.UpdateHook(gaps.Handle)}
	client := telegram.NewClient(1, "botapi", opts)
	return client.Run(ctx, func(ctx context.Context) error {
		auth, err := client.Auth().Bot(ctx, b.token)
		if err != nil {
			return err
		}
		self, ok := auth.User.(*tg.User)
		if !ok {
			return fmt.Errorf("auth.importBotAuthorization answered %T", auth.User)
		}
		select {
		case <-b.ready:
		default:
			b.self = self // read only once ready is closed
		}
		b.mu.Lock()
		b.api = client.API()
		b.mu.Unlock()
		return gaps.Run(ctx, client.API(), self.ID, updates.AuthOptions{
			IsBot:   true,
			OnStart: func(context.Context) { onStart() },
		})
	})
}

// rpc returns the client of the bot's current MTProto connection.
func (b *botClient) rpc() *tg.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.api
}

// randomID returns a random_id for messages.sendMessage.
func randomID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]))
}

// learn records the users an update carries (their access hashes).
func (b *botClient) learn(users map[int64]*tg.User) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, u := range users {
		if u != nil && !u.Min {
			b.users[id] = u
		}
	}
}

// user returns a user the bot has seen.
func (b *botClient) user(id int64) (*tg.User, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[id]
	return u, ok
}

// peerUser returns the private chat chat_id names, with a user the bot
// has seen (a chat the bot never heard from is not found, as on Telegram).
func (b *botClient) peerUser(p params, name string) (*tg.User, error) {
	s := strings.TrimSpace(p.str(name))
	if s == "" {
		return nil, badRequest(name + " is empty")
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// "@username" names channels and groups only.
		return nil, errChatNotFound
	}
	u, ok := b.user(id)
	if !ok {
		return nil, errChatNotFound
	}
	return u, nil
}

func inputPeer(u *tg.User) *tg.InputPeerUser {
	return &tg.InputPeerUser{UserID: u.ID, AccessHash: u.AccessHash}
}

// senderOf returns the user a private message came from.
func senderOf(from, peer tg.PeerClass, users tg.Entities) *tg.User {
	for _, p := range []tg.PeerClass{from, peer} {
		if pu, ok := p.(*tg.PeerUser); ok {
			if u, ok := users.Users[pu.UserID]; ok {
				return u
			}
		}
	}
	return nil
}

func (b *botClient) onNewMessage(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
	b.learn(e.Users)
	var msg apiMessage
	switch m := u.Message.(type) {
	case *tg.Message:
		if m.Out {
			return nil
		}
		user := senderOf(m.FromID, m.PeerID, e)
		if user == nil {
			return nil
		}
		from := userOf(user)
		msg = apiMessage{MessageID: m.ID, From: &from, Chat: chatOf(user), Date: m.Date, Text: m.Message,
			Entities: entitiesOf(m.Message, m.Entities)}
	case *tg.MessageService:
		a, ok := m.Action.(*tg.MessageActionSecureValuesSentMe)
		if !ok || m.Out {
			return nil
		}
		user := senderOf(m.FromID, m.PeerID, e)
		if user == nil {
			return nil
		}
		data, err := passportDataOf(a)
		if err != nil {
			b.log.Warn(context.Background(), "passport data dropped", log.Int("message_id", m.ID), log.Error(err))
			return nil
		}
		from := userOf(user)
		msg = apiMessage{MessageID: m.ID, From: &from, Chat: chatOf(user), Date: m.Date, PassportData: data}
	default:
		return nil
	}
	b.enqueue(func(id int) apiUpdate { return apiUpdate{UpdateID: id, Message: &msg} })
	return nil
}

func (b *botClient) onCallbackQuery(ctx context.Context, e tg.Entities, u *tg.UpdateBotCallbackQuery) error {
	b.learn(e.Users)
	user, ok := e.Users[u.UserID]
	if !ok {
		return nil
	}
	b.mu.Lock()
	msg, ok := b.sent[u.MsgID]
	b.mu.Unlock()
	if !ok {
		// A message the server did not send (before it ran): the Bot API
		// gives what it knows, with date 0 (an inaccessible message).
		msg = apiMessage{MessageID: u.MsgID, Chat: chatOf(user)}
	}
	q := apiCallbackQuery{ID: queryIDString(u.QueryID), From: userOf(user), Message: &msg,
		ChatInstance: strconv.FormatInt(u.ChatInstance, 10), Data: string(u.Data)}
	b.enqueue(func(id int) apiUpdate { return apiUpdate{UpdateID: id, CallbackQuery: &q} })
	return nil
}

// enqueue adds an update with the next update_id.
func (b *botClient) enqueue(build func(id int) apiUpdate) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	body, err := json.Marshal(build(id))
	if err != nil {
		b.log.Warn(context.Background(), "update dropped", log.Int("update_id", id), log.Error(err))
		return
	}
	b.nextID++
	b.queue = append(b.queue, queued{id: id, body: body})
	b.wakeLocked()
	b.log.Debug(context.Background(), "update queued", log.Int("update_id", id))
}

func (b *botClient) wakeLocked() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// stopPoll ends a waiting getUpdates with e.
func (b *botClient) stopPoll(e *apiError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopPollLocked(e)
}

func (b *botClient) stopPollLocked(e *apiError) {
	if b.poll != nil {
		b.poll.stop <- e // buffered, one stop per poller
		b.poll = nil
	}
}

// stripURL removes the URL from a net/http error (it may carry a token or
// a secret path).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
