package botapi

import (
	"context"
	"sync"

	"github.com/gotd/td/telegram/updates"
)

// stateStorage is the updates state of the bots of one Server, by bot ID,
// in memory.
// A bot it has no state for starts at pts 0 (not at the server's current
// state), so that its first getDifference fetches every update its
// account has.
type stateStorage struct {
	mu     sync.Mutex
	states map[int64]updates.State
}

func newStateStorage() *stateStorage { return &stateStorage{states: map[int64]updates.State{}} }

func (m *stateStorage) GetState(_ context.Context, id int64) (updates.State, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[id], true, nil
}

func (m *stateStorage) SetState(_ context.Context, id int64, s updates.State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[id] = s
	return nil
}

func (m *stateStorage) set(id int64, f func(*updates.State)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.states[id]
	f(&s)
	m.states[id] = s
	return nil
}

func (m *stateStorage) SetPts(_ context.Context, id int64, v int) error {
	return m.set(id, func(s *updates.State) { s.Pts = v })
}

func (m *stateStorage) SetQts(_ context.Context, id int64, v int) error {
	return m.set(id, func(s *updates.State) { s.Qts = v })
}

func (m *stateStorage) SetDate(_ context.Context, id int64, v int) error {
	return m.set(id, func(s *updates.State) { s.Date = v })
}

func (m *stateStorage) SetSeq(_ context.Context, id int64, v int) error {
	return m.set(id, func(s *updates.State) { s.Seq = v })
}

func (m *stateStorage) SetDateSeq(_ context.Context, id int64, d, q int) error {
	return m.set(id, func(s *updates.State) { s.Date, s.Seq = d, q })
}

func (m *stateStorage) GetChannelPts(context.Context, int64, int64) (int, bool, error) {
	return 0, false, nil
}

func (m *stateStorage) SetChannelPts(context.Context, int64, int64, int) error { return nil }

func (m *stateStorage) ForEachChannels(context.Context, int64, func(context.Context, int64, int) error) error {
	return nil
}
