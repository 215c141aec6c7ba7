package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"
)

func nopHandler() telegram.UpdateHandler {
	return telegram.UpdateHandlerFunc(func(context.Context, tg.UpdatesClass) error { return nil })
}

// gotdDefaults returns the in-memory storages gotd's updates manager uses
// when none is configured. gotd does not export them, so they are read out
// of a Manager's config.
func gotdDefaults(t *testing.T) (updates.StateStorage, updates.ChannelAccessHasher, updates.UserAccessHasher) {
	t.Helper()
	m := updates.New(updates.Config{Handler: nopHandler()})
	cfg := reflect.ValueOf(m).Elem().FieldByName("cfg")
	if !cfg.IsValid() {
		t.Fatal("gotd's updates.Manager has no cfg field any more: update gotdDefaults to the new gotd version")
	}
	field := func(name string) any {
		f := cfg.FieldByName(name)
		if !f.IsValid() {
			t.Fatalf("gotd's updates.Config has no %s field any more", name)
		}
		return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	}
	st, ok1 := field("Storage").(updates.StateStorage)
	ah, ok2 := field("AccessHasher").(updates.ChannelAccessHasher)
	uh, ok3 := field("UserAccessHasher").(updates.UserAccessHasher)
	if !ok1 || !ok2 || !ok3 || st == nil || ah == nil || uh == nil {
		t.Fatal("gotd's default storages are missing")
	}
	if typ := fmt.Sprintf("%T", st); typ != "*updates.memStorage" {
		t.Fatalf("gotd's default state storage is %s, expected *updates.memStorage", typ)
	}
	return st, ah, uh
}

// The same sequence of calls against gotd's in-memory storages and the
// Redis ones must give the same results, errors included (whether there is
// one: the texts differ).
func TestStateStorageMatchesGotdMemStorage(t *testing.T) {
	memState, memChan, memUser := gotdDefaults(t)
	s, _ := newTestStore(t)
	redState, redChan, redUser := s.Sessions().StateStorage(), s.Sessions().AccessHasher(), s.Sessions().UserAccessHasher()

	type op struct {
		name string
		run  func(ctx context.Context, st updates.StateStorage, ch updates.ChannelAccessHasher, uh updates.UserAccessHasher) string
	}
	res := func(err error) string {
		if err != nil {
			return "error"
		}
		return "ok"
	}
	getState := func(user int64) op {
		return op{fmt.Sprintf("GetState(%d)", user), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			s, found, err := st.GetState(ctx, user)
			return fmt.Sprintf("%+v %v %s", s, found, res(err))
		}}
	}
	setState := func(user int64, state updates.State) op {
		return op{fmt.Sprintf("SetState(%d, %+v)", user, state), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			return res(st.SetState(ctx, user, state))
		}}
	}
	set := func(what string, user int64, v int) op {
		return op{fmt.Sprintf("Set%s(%d, %d)", what, user, v), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			switch what {
			case "Pts":
				return res(st.SetPts(ctx, user, v))
			case "Qts":
				return res(st.SetQts(ctx, user, v))
			case "Date":
				return res(st.SetDate(ctx, user, v))
			case "Seq":
				return res(st.SetSeq(ctx, user, v))
			case "DateSeq":
				return res(st.SetDateSeq(ctx, user, v, v+1))
			}
			panic(what)
		}}
	}
	getChan := func(user, channel int64) op {
		return op{fmt.Sprintf("GetChannelPts(%d, %d)", user, channel), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			pts, found, err := st.GetChannelPts(ctx, user, channel)
			return fmt.Sprintf("%d %v %s", pts, found, res(err))
		}}
	}
	setChan := func(user, channel int64, pts int) op {
		return op{fmt.Sprintf("SetChannelPts(%d, %d, %d)", user, channel, pts), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			return res(st.SetChannelPts(ctx, user, channel, pts))
		}}
	}
	forEach := func(user int64, failOn int64) op {
		return op{fmt.Sprintf("ForEachChannels(%d, fail on %d)", user, failOn), func(ctx context.Context, st updates.StateStorage, _ updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			var seen []string
			err := st.ForEachChannels(ctx, user, func(_ context.Context, id int64, pts int) error {
				if id == failOn {
					return errors.New("stop")
				}
				seen = append(seen, fmt.Sprintf("%d:%d", id, pts))
				return nil
			})
			sort.Strings(seen)
			if err != nil {
				return "error" // the order of visits, so what was seen, is random
			}
			return strings.Join(seen, ",") + " ok"
		}}
	}
	chanHash := func(user, channel, hash int64, set bool) op {
		return op{fmt.Sprintf("ChannelAccessHash(%d, %d, %d, set=%v)", user, channel, hash, set), func(ctx context.Context, _ updates.StateStorage, ch updates.ChannelAccessHasher, _ updates.UserAccessHasher) string {
			if set {
				return res(ch.SetChannelAccessHash(ctx, user, channel, hash))
			}
			h, found, err := ch.GetChannelAccessHash(ctx, user, channel)
			return fmt.Sprintf("%d %v %s", h, found, res(err))
		}}
	}
	userHash := func(user, target, hash int64, set bool) op {
		return op{fmt.Sprintf("UserAccessHash(%d, %d, %d, set=%v)", user, target, hash, set), func(ctx context.Context, _ updates.StateStorage, _ updates.ChannelAccessHasher, uh updates.UserAccessHasher) string {
			if set {
				return res(uh.SetUserAccessHash(ctx, user, target, hash))
			}
			h, found, err := uh.GetUserAccessHash(ctx, user, target)
			return fmt.Sprintf("%d %v %s", h, found, res(err))
		}}
	}

	ops := []op{
		// Nothing stored yet.
		getState(1),
		set("Pts", 1, 10), set("Qts", 1, 10), set("Date", 1, 10), set("Seq", 1, 10), set("DateSeq", 1, 10),
		getChan(1, 100), setChan(1, 100, 5), getChan(1, 100), forEach(1, 0),
		getState(1),
		// A state.
		setState(1, updates.State{Pts: 1, Qts: 2, Date: 3, Seq: 4}),
		getState(1), forEach(1, 0),
		set("Pts", 1, 11), set("Qts", 1, 12), set("Date", 1, 13), set("Seq", 1, 14), getState(1),
		set("DateSeq", 1, 20), getState(1),
		set("Pts", 1, 0), set("Pts", 1, -1), getState(1),
		// Channels.
		getChan(1, 100), setChan(1, 100, 5), setChan(1, 200, 7), setChan(1, -1003, 9), getChan(1, 100), getChan(1, 200), getChan(1, 300),
		setChan(1, 100, 6), getChan(1, 100), forEach(1, 0), forEach(1, 200),
		// Another user is separate.
		getState(2), getChan(2, 100), forEach(2, 0), setChan(2, 100, 1),
		setState(2, updates.State{}), getState(2), forEach(2, 0), setChan(2, 100, 1), forEach(2, 0), forEach(1, 0),
		// SetState forgets the channels.
		setState(1, updates.State{Pts: 50, Qts: 51, Date: 52, Seq: 53}), getState(1), getChan(1, 100), forEach(1, 0),
		setChan(1, 100, 60), forEach(1, 0),
		// Access hashes need no state.
		chanHash(9, 100, 0, false), chanHash(9, 100, -123456789012345, true), chanHash(9, 100, 0, false),
		chanHash(9, 101, 0, false), chanHash(8, 100, 0, false), chanHash(9, 100, 5, true), chanHash(9, 100, 0, false),
		userHash(9, 500, 0, false), userHash(9, 500, 987654321098765, true), userHash(9, 500, 0, false),
		userHash(8, 500, 0, false), userHash(9, 501, 0, false),
	}
	ctx := context.Background()
	for i, o := range ops {
		want := o.run(ctx, memState, memChan, memUser)
		got := o.run(ctx, redState, redChan, redUser)
		if got != want {
			t.Errorf("%d %s: Redis %q, gotd memStorage %q", i, o.name, got, want)
		}
	}
}

func TestStateStorageErrors(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if err := s.Sessions().StateStorage().SetPts(ctx, 77, 1); !errors.Is(err, ErrStateNotFound) {
		t.Fatalf("SetPts without state: %v, want ErrStateNotFound", err)
	}
	if err := s.Sessions().StateStorage().ForEachChannels(ctx, 77, nil); !errors.Is(err, ErrStateNotFound) {
		t.Fatalf("ForEachChannels without state: %v, want ErrStateNotFound", err)
	}
	if err := s.Sessions().StateStorage().SetState(ctx, 77, updates.State{}); err != nil {
		t.Fatal(err)
	}
	_ = s.Sessions().StateStorage().SetChannelPts(ctx, 77, 1, 1)
	stop := errors.New("stop")
	if err := s.Sessions().StateStorage().ForEachChannels(ctx, 77, func(context.Context, int64, int) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("ForEachChannels: %v, want the callback's error", err)
	}
}

// fakeAPI answers the updates manager like a Telegram server whose state
// does not change.
type fakeAPI struct {
	state tg.UpdatesState
	mu    sync.Mutex
	calls []string
}

func (a *fakeAPI) log(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
}

func (a *fakeAPI) UpdatesGetState(context.Context) (*tg.UpdatesState, error) {
	a.log("getState")
	s := a.state
	return &s, nil
}

func (a *fakeAPI) UpdatesGetDifference(_ context.Context, req *tg.UpdatesGetDifferenceRequest) (tg.UpdatesDifferenceClass, error) {
	a.log("getDifference")
	return &tg.UpdatesDifferenceEmpty{Date: req.Date, Seq: a.state.Seq}, nil
}

func (a *fakeAPI) UpdatesGetChannelDifference(context.Context, *tg.UpdatesGetChannelDifferenceRequest) (tg.UpdatesChannelDifferenceClass, error) {
	a.log("getChannelDifference")
	return nil, errors.New("no channels here")
}

// gotd's updates manager runs on the Redis storages: a first run fetches
// the state from the server and stores it, an update moves pts in Redis,
// and a second manager (a restarted instance) resumes from Redis without
// asking the server.
func TestUpdatesManagerOnRedis(t *testing.T) {
	s, _ := newTestStore(t)
	const self = 555000
	api := &fakeAPI{state: tg.UpdatesState{Pts: 100, Qts: 5, Date: int(time.Now().Unix()), Seq: 7}}

	got := make(chan tg.UpdatesClass, 4)
	handler := telegram.UpdateHandlerFunc(func(_ context.Context, u tg.UpdatesClass) error {
		got <- u
		return nil
	})
	newManager := func(failed *bool) *updates.Manager {
		return updates.New(updates.Config{
			Handler:               handler,
			Storage:               s.Sessions().StateStorage(),
			AccessHasher:          s.Sessions().AccessHasher(),
			UserAccessHasher:      s.Sessions().UserAccessHasher(),
			OnLoadUserStateFailed: func() { *failed = true },
		})
	}

	run := func(m *updates.Manager, during func(ctx context.Context)) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		started := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- m.Run(ctx, api, self, updates.AuthOptions{IsBot: true, OnStart: func(context.Context) { close(started) }})
		}()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("manager stopped: %v", err)
		}
		during(ctx)
		cancel()
		<-done
	}

	var failed1 bool
	m1 := newManager(&failed1)
	run(m1, func(ctx context.Context) {
		state, found, err := s.Sessions().StateStorage().GetState(ctx, self)
		if err != nil || !found {
			t.Fatalf("state not stored by the manager: %v %v", found, err)
		}
		if state.Pts != 100 || state.Qts != 5 || state.Seq != 7 {
			t.Fatalf("stored state %+v, want the server's %+v", state, api.state)
		}
		// An update with the next pts is handed over and moves pts.
		upd := &tg.Updates{
			Updates: []tg.UpdateClass{&tg.UpdateNewMessage{
				Message:  &tg.Message{ID: 1, PeerID: &tg.PeerUser{UserID: 9}, FromID: &tg.PeerUser{UserID: 9}, Message: "hi", Date: api.state.Date},
				Pts:      101,
				PtsCount: 1,
			}},
			Users: []tg.UserClass{&tg.User{ID: 9, AccessHash: 4242}},
			Date:  api.state.Date,
			Seq:   0,
		}
		if err := m1.Handle(ctx, upd); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatal("the update never reached the handler")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			state, _, err := s.Sessions().StateStorage().GetState(ctx, self)
			if err != nil {
				t.Fatal(err)
			}
			if state.Pts == 101 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pts in Redis is %d, want 101", state.Pts)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if h, found, err := s.Sessions().UserAccessHasher().GetUserAccessHash(ctx, self, 9); err != nil || !found || h != 4242 {
			t.Errorf("user access hash not stored: %d %v %v", h, found, err)
		}
	})
	if !failed1 {
		t.Error("the first run found a state in an empty Redis")
	}

	// A restarted instance resumes from Redis.
	var failed2 bool
	run(newManager(&failed2), func(ctx context.Context) {})
	if failed2 {
		t.Error("the second run did not find the state in Redis")
	}
}

// TestStateStorageWritesBehind: once the state is known to be in Redis,
// the changes of pts, qts, date and seq are held back and written in one
// round trip, by Flush or StateFlushDelay later; GetState gives the latest
// values; a failed write keeps them, under newer ones; a storage that has
// not seen the state writes at once (and fails without one).
func TestStateStorageWritesBehind(t *testing.T) {
	ctx := context.Background()
	s, h := newCountingStore(t)
	const self = 556000
	st := s.Sessions().StateStorage()
	inRedis := func() map[string]string {
		t.Helper()
		f, err := s.rdb.HGetAll(ctx, s.selfKey(self, "state")).Result()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if err := st.SetState(ctx, self, updates.State{Pts: 1, Qts: 2, Date: 3, Seq: 4}); err != nil {
		t.Fatal(err)
	}
	h.take()
	for pts := 2; pts <= 6; pts++ {
		if err := st.SetPts(ctx, self, pts); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetDateSeq(ctx, self, 30, 40); err != nil {
		t.Fatal(err)
	}
	if err := st.SetQts(ctx, self, 20); err != nil {
		t.Fatal(err)
	}
	if rt, _, names := h.take(); rt != 0 {
		t.Fatalf("seven state changes made %d round trips (%s), want none yet", rt, names)
	}
	if got := inRedis()["pts"]; got != "1" {
		t.Fatalf("pts in Redis %s before the write, want 1", got)
	}
	// The first run of the script on a server costs one more round trip
	// (EVALSHA answers NOSCRIPT, then EVAL): on a Redis that never ran it
	// (a new machine's) this test may be its first user.
	if err := setStateFieldsScript.Load(ctx, s.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	h.take()
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rt, _, names := h.take(); rt != 1 {
		t.Errorf("Flush made %d round trips (%s), want 1", rt, names)
	}
	want := map[string]string{"pts": "6", "qts": "20", "date": "30", "seq": "40"}
	if got := inRedis(); !reflect.DeepEqual(got, want) {
		t.Errorf("state in Redis %v after Flush, want %v", got, want)
	}
	h.take()
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rt, _, _ := h.take(); rt != 0 {
		t.Errorf("a Flush with nothing pending made %d round trips", rt)
	}

	// Written StateFlushDelay later without Flush.
	if err := st.SetPts(ctx, self, 7); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for inRedis()["pts"] != "7" {
		if time.Now().After(deadline) {
			t.Fatal("pts 7 was not written 5 s after it was set")
		}
		time.Sleep(StateFlushDelay / 2)
	}

	// A failed write keeps the changes; GetState gives the latest.
	if err := st.SetPts(ctx, self, 8); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Flush(cancelled); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if err := st.SetSeq(ctx, self, 41); err != nil {
		t.Fatal(err)
	}
	got, found, err := st.GetState(ctx, self)
	if err != nil || !found || got != (updates.State{Pts: 8, Qts: 20, Date: 30, Seq: 41}) {
		t.Errorf("GetState after a failed write = %+v, %v, %v; want pts 8 and seq 41", got, found, err)
	}
	if got := inRedis(); got["pts"] != "8" || got["seq"] != "41" {
		t.Errorf("state in Redis %v after GetState, want pts 8 and seq 41", got)
	}

	// Another instance's storage has not seen the state: it writes at once.
	other := s.Sessions().StateStorage()
	h.take()
	if err := other.SetPts(ctx, self, 9); err != nil {
		t.Fatal(err)
	}
	if rt, _, _ := h.take(); rt != 1 || inRedis()["pts"] != "9" {
		t.Errorf("a storage that has not seen the state: %d round trips, pts %s in Redis; want 1 and 9", rt, inRedis()["pts"])
	}
	if err := other.SetPts(ctx, self+1, 1); !errors.Is(err, ErrStateNotFound) {
		t.Errorf("SetPts without a state: %v, want ErrStateNotFound", err)
	}
}

// TestStateStorageRetriesFailedWrite: a write behind that fails (Redis
// unavailable) is tried again by itself, with no further change, GetState
// or Flush to carry it.
func TestStateStorageRetriesFailedWrite(t *testing.T) {
	ctx := context.Background()
	h := &failNth{err: errors.New("injected: Redis unavailable")}
	client := redis.NewClient(&redis.Options{Addr: testRedisAddr, MaxRetries: -1})
	client.AddHook(h)
	s := newCountingStoreOn(t, client, &rtCounter{})
	observer := redis.NewClient(&redis.Options{Addr: testRedisAddr}) // not through the hook
	t.Cleanup(func() { _ = observer.Close() })
	const self = 557000
	st := s.Sessions().StateStorage()
	if err := st.SetState(ctx, self, updates.State{Pts: 1, Qts: 2, Date: 3, Seq: 4}); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.n = 1 // the timer's write: SetPts below makes no round trip
	h.mu.Unlock()
	if err := st.SetPts(ctx, self, 5); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		pts, err := observer.HGet(ctx, s.selfKey(self, "state"), "pts").Result()
		if err != nil {
			t.Fatal(err)
		}
		if pts == "5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pts %s in Redis a minute after its write failed, want 5", pts)
		}
		time.Sleep(StateFlushDelay / 2)
	}
	h.mu.Lock()
	tripped := h.n < 0 // the failed write and at least one more
	h.mu.Unlock()
	if !tripped {
		t.Fatal("the write behind never failed: the test proves nothing")
	}
	st.mu.Lock()
	pending, timer := len(st.pending), st.timer
	st.mu.Unlock()
	if pending != 0 || timer != nil {
		t.Errorf("after the write: %d users pending, timer %v; want none", pending, timer)
	}

	// A closed client is not retried: the host stopped using this store.
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPts(ctx, self, 6); err != nil {
		t.Fatal(err)
	}
	scheduled := func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.timer != nil
	}
	deadline = time.Now().Add(10 * time.Second)
	for scheduled() {
		if time.Now().After(deadline) {
			t.Fatal("the write behind did not run within 10 s")
		}
		time.Sleep(StateFlushDelay / 2)
	}
	time.Sleep(stateRetryMin / 2) // a retry would be scheduled by now, for stateRetryMin
	if scheduled() {
		t.Error("a write that failed on a closed client is scheduled again")
	}
}
