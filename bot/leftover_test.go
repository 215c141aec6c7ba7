package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/store/storetest"
)

// The position of an update is pts - pts_count when the update has them;
// the floor stands for the messages gotd fetched with getDifference.
func TestPosition(t *testing.T) {
	tests := []struct {
		name          string
		pts, ptsCount int
		floor         int
		want          int
	}{
		{"pushed", 10, 1, 7, 9},
		{"pushed, no count", 10, 0, 7, 10},
		{"first update", 1, 1, -1, 0},
		{"from getDifference", -1, -1, 7, 7},
		{"from getDifference, floor unknown", -1, -1, -1, -1},
		{"count above pts", 3, 5, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &tg.UpdateNewMessage{Message: &tg.MessageService{ID: 1}, Pts: tt.pts, PtsCount: tt.ptsCount}
			if got := position(u, tt.floor); got != tt.want {
				t.Errorf("position = %d, want %d", got, tt.want)
			}
		})
	}
}

// The rollback goes back to the smallest known position.
func TestEarliest(t *testing.T) {
	at := func(pos ...int) []leftover {
		out := make([]leftover, len(pos))
		for i, p := range pos {
			out[i] = leftover{submission: submission{pos: p, userID: int64(i + 1), msgID: i + 1}}
		}
		return out
	}
	tests := []struct {
		name   string
		left   []leftover
		want   int
		wantOK bool
	}{
		{"none", nil, 0, false},
		{"one", at(12), 12, true},
		{"smallest", at(12, 5, 9), 5, true},
		{"zero is a position", at(3, 0), 0, true},
		{"unknown ones skipped", at(-1, 8, -1), 8, true},
		{"all unknown", at(-1, -1), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := earliest(tt.left)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("earliest = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// newTestWorkers returns workers with predictable update IDs: 010101010101,
// 020202020202, ... in the order the handlers start.
func newTestWorkers(n int) *workers {
	w := newWorkers(n, slog.New(slog.DiscardHandler), nil)
	var ids []byte
	for i := 1; i <= 20; i++ {
		for range updateIDBytes {
			ids = append(ids, byte(i))
		}
	}
	w.rand = strings.NewReader(string(ids))
	return w
}

// subsOf returns the submissions being handled, by update ID.
func subsOf(w *workers) map[string]submission {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]submission{}
	for id, s := range w.subs {
		out[id] = s
	}
	return out
}

// The workers remember a submission while it is handled and forget it
// when its handler returns, whatever the outcome, unless the shutdown cut
// it short; the submissions the shutdown keeps from starting are left
// over too. Other handlers are never remembered.
func TestWorkersLeftovers(t *testing.T) {
	ctx := context.Background()
	w := newTestWorkers(4)
	sub := func(pos int) submission { return submission{pos: pos, userID: int64(100 + pos), msgID: pos + 1} }

	// Handlers that end by themselves: remembered while they run only.
	release := make(chan struct{})
	running := make(chan struct{}, 3)
	hold := func(err error) func(context.Context) error {
		return func(context.Context) error {
			running <- struct{}{}
			<-release
			return err
		}
	}
	if err := w.doSubmission(ctx, sub(7), hold(nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.doSubmission(ctx, sub(4), hold(errors.New("download failed; the user was told"))); err != nil {
		t.Fatal(err)
	}
	if err := w.do(ctx, "command", hold(nil)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		<-running
	}
	want := map[string]submission{"010101010101": sub(7), "020202020202": sub(4)}
	if got := subsOf(w); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("handling %v, want %v", got, want)
	}
	close(release)
	if err := w.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := subsOf(w); len(got) != 0 {
		t.Errorf("still handling %v after the handlers returned", got)
	}
	if got := w.leftovers(); len(got) != 0 {
		t.Errorf("left over %v, want nothing", got)
	}

	// The shutdown times out: the submissions cut short are left over with
	// the update ID that holds their mark; a handler that fails otherwise,
	// or a command, is not.
	cut := func(ctx context.Context) error {
		running <- struct{}{}
		<-ctx.Done()
		return fmt.Errorf("%w: %w", errCutShort, ctx.Err())
	}
	final := func(ctx context.Context) error {
		running <- struct{}{}
		<-ctx.Done()
		return errors.New("hook failed; the user was told")
	}
	for _, start := range []func() error{
		func() error { return w.doSubmission(ctx, sub(12), cut) },
		func() error { return w.doSubmission(ctx, sub(9), cut) },
		func() error { return w.doSubmission(ctx, sub(3), final) },
		func() error { return w.do(ctx, "command", cut) },
	} {
		if err := start(); err != nil {
			t.Fatal(err)
		}
		<-running
	}
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := w.shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown = %v, want the abort", err)
	}
	// Too late to start: left over without an update ID.
	if err := w.doSubmission(ctx, sub(20), cut); err == nil {
		t.Error("a submission started after the abort")
	}
	if err := w.do(ctx, "command", cut); err == nil {
		t.Error("a command started after the abort")
	}
	got := w.leftovers()
	byPos := map[int]string{}
	for _, l := range got {
		if l.submission != sub(l.pos) {
			t.Errorf("left over %+v, not the submission at %d", l.submission, l.pos)
		}
		byPos[l.pos] = l.updateID
	}
	wantLeft := map[int]string{12: "040404040404", 9: "050505050505", 20: ""} // after three handlers
	if fmt.Sprint(byPos) != fmt.Sprint(wantLeft) || len(got) != len(wantLeft) {
		t.Errorf("left over %+v, want positions and update IDs %v", got, wantLeft)
	}
	if pos, ok := earliest(got); !ok || pos != 9 {
		t.Errorf("earliest = %d, %v; want 9", pos, ok)
	}
	if got := subsOf(w); len(got) != 0 {
		t.Errorf("still handling %v after the shutdown", got)
	}
}

// After a shutdown that found nothing running, a submission dispatched
// late is not started (it would run unwaited for) but left over.
func TestWorkersShutdownIdle(t *testing.T) {
	ctx := context.Background()
	w := newTestWorkers(2)
	if err := w.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ran := false
	if err := w.doSubmission(ctx, submission{pos: 5, userID: 1, msgID: 2}, func(context.Context) error { ran = true; return nil }); err == nil {
		t.Error("a submission started after the shutdown")
	}
	if err := w.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the handler ran")
	}
	if got := w.leftovers(); len(got) != 1 || got[0].pos != 5 || got[0].updateID != "" {
		t.Errorf("left over %+v, want the submission at 5, never started", got)
	}
}

// memState is a state storage of one bot's common state in memory.
type memState struct {
	updates.StateStorage // the methods the test does not call
	state                *updates.State
}

func (m *memState) GetState(context.Context, int64) (updates.State, bool, error) {
	if m.state == nil {
		return updates.State{}, false, nil
	}
	return *m.state, true, nil
}

func (m *memState) SetState(_ context.Context, _ int64, st updates.State) error {
	m.state = &st
	return nil
}

func (m *memState) SetPts(_ context.Context, _ int64, pts int) error {
	m.state.Pts = pts
	return nil
}

func (m *memState) SetSeq(_ context.Context, _ int64, seq int) error {
	m.state.Seq = seq
	return nil
}

// failingStorage is a state storage whose writes fail (Redis down).
type failingStorage struct{ updates.StateStorage }

var errStorageDown = errors.New("redis down")

func (failingStorage) SetPts(context.Context, int64, int) error { return errStorageDown }
func (failingStorage) SetState(context.Context, int64, updates.State) error {
	return errStorageDown
}

// The floor follows the pts gotd's updates manager loads and stores, even
// when the store refuses it.
func TestPtsFloor(t *testing.T) {
	ctx := context.Background()
	var floor atomic.Int64
	floor.Store(-1)
	mem := &memState{}
	s := ptsFloor{StateStorage: mem, floor: &floor}
	if _, found, err := s.GetState(ctx, 1); err != nil || found || floor.Load() != -1 {
		t.Fatalf("no state: found %v, %v, floor %d", found, err, floor.Load())
	}
	steps := []struct {
		name string
		do   func() error
		want int64
	}{
		{"SetState", func() error { return s.SetState(ctx, 1, updates.State{Pts: 10, Qts: 2, Date: 3, Seq: 4}) }, 10},
		{"SetPts", func() error { return s.SetPts(ctx, 1, 12) }, 12},
		{"SetSeq", func() error { return s.SetSeq(ctx, 1, 5) }, 12},
		{"GetState", func() error { _, _, err := s.GetState(ctx, 1); return err }, 12},
		{"SetPts refused", func() error {
			return ptsFloor{StateStorage: failingStorage{mem}, floor: &floor}.SetPts(ctx, 1, 15)
		}, 15},
	}
	for _, st := range steps {
		err := st.do()
		if err != nil && !errors.Is(err, errStorageDown) {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := floor.Load(); got != st.want {
			t.Errorf("%s: floor %d, want %d", st.name, got, st.want)
		}
	}
	// A second manager starting on the state reads it back.
	floor.Store(-1)
	if _, _, err := s.GetState(ctx, 1); err != nil || floor.Load() != 12 {
		t.Errorf("GetState: floor %d (%v), want 12", floor.Load(), err)
	}
}

// leaveOver releases the marks of the handlers cut short and rolls the
// saved pts back to the earliest left-over position, never forward; it
// logs what it did with positions and counts only.
func TestLeaveOver(t *testing.T) {
	const self = int64(7000001)
	user := func(i int) int64 { return 880000 + int64(i) }
	tests := []struct {
		name    string
		saved   int // the pts in Redis before
		left    []leftover
		wantPts int
		wantLog []string
	}{
		{"nothing left over", 30, nil, 30, nil},
		{"earliest of several", 30, []leftover{
			{submission{pos: 22, userID: user(1), msgID: 41}, "0a0a0a0a0a0a"},
			{submission{pos: 17, userID: user(2), msgID: 42}, "0b0b0b0b0b0b"},
			{submission{pos: 25, userID: user(3), msgID: 43}, ""},
		}, 17, []string{`level=WARN`, `submissions=3 marks_released=2 from_pts=30 to_pts=17`}},
		{"state already before", 15, []leftover{
			{submission{pos: 17, userID: user(4), msgID: 44}, "0c0c0c0c0c0c"},
		}, 15, []string{`level=WARN`, `submissions=1 marks_released=1 from_pts=15 to_pts=15`}},
		{"position unknown", 30, []leftover{
			{submission{pos: -1, userID: user(5), msgID: 45}, "0d0d0d0d0d0d"},
		}, 30, []string{`level=ERROR`, `(or the bot's ID) is unknown" submissions=1`}},
	}
	rdb := storetest.Need(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := store.New(rdb, store.WithPrefix(storetest.Prefix(t, rdb, "bot")))
			var logs syncBuffer
			b := &Bot{store: st, log: slog.New(slog.NewTextHandler(&logs, nil))}
			if err := st.Sessions().StateStorage().SetState(ctx, self, updates.State{Pts: tt.saved, Qts: 1, Date: 2, Seq: 3}); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.left {
				if l.updateID == "" {
					continue
				}
				if _, err := st.MarkUpdate(ctx, l.userID, l.msgID, time.Hour, store.MarkedBy(l.updateID)); err != nil {
					t.Fatal(err)
				}
			}
			b.leaveOver(ctx, self, tt.left)
			state, _, err := st.Sessions().StateStorage().GetState(ctx, self)
			if err != nil || state.Pts != tt.wantPts || state.Qts != 1 || state.Seq != 3 {
				t.Errorf("state %+v (%v), want pts %d and the rest kept", state, err, tt.wantPts)
			}
			// Another delivery of a submission cut short is processed.
			for _, l := range tt.left {
				first, err := st.MarkUpdate(ctx, l.userID, l.msgID, time.Hour, store.MarkedBy("0e0e0e0e0e0e"))
				if err != nil || !first {
					t.Errorf("message %d delivered again: first %v (%v)", l.msgID, first, err)
				}
			}
			out := logs.String()
			for _, want := range tt.wantLog {
				if !strings.Contains(out, want) {
					t.Errorf("the logs lack %s:\n%s", want, out)
				}
			}
			if tt.wantLog == nil && out != "" {
				t.Errorf("logged %s", out)
			}
			for _, l := range tt.left {
				if strings.Contains(out, fmt.Sprint(l.userID)) {
					t.Errorf("the logs name user %d:\n%s", l.userID, out)
				}
			}
		})
	}
}

// With Redis unreachable nothing can be left over: the loss is logged, at
// Error, with the count.
func TestLeaveOverRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	var logs syncBuffer
	b := &Bot{store: store.New(rdb), log: slog.New(slog.NewTextHandler(&logs, nil))}
	b.leaveOver(context.Background(), 7000001, []leftover{{submission{pos: 5, userID: 880100, msgID: 9}, "0f0f0f0f0f0f"}})
	out := logs.String()
	for _, want := range []string{"cannot release the dedupe marks", "cannot roll the updates state back", "submissions=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "level=WARN") {
		t.Errorf("a rollback was reported:\n%s", out)
	}
}
