package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gotd/td/telegram/updates"

	"github.com/kycbot/kycbot/store"
)

// ptsFloor is the updates state storage of Run: it passes every call on,
// and remembers in floor the common pts gotd's updates manager last
// loaded or stored (whether the store took it or not: it is the
// manager's own pts). The manager stores the pts of what it dispatched
// only once the handlers returned, so while it dispatches an update the
// floor is at or before that update's position; the messages it fetched
// with getDifference carry no pts, and the floor stands for it (see
// position).
type ptsFloor struct {
	updates.StateStorage
	floor *atomic.Int64
}

func (s ptsFloor) GetState(ctx context.Context, userID int64) (updates.State, bool, error) {
	st, found, err := s.StateStorage.GetState(ctx, userID)
	if err == nil && found {
		s.floor.Store(int64(st.Pts))
	}
	return st, found, err
}

func (s ptsFloor) SetState(ctx context.Context, userID int64, state updates.State) error {
	err := s.StateStorage.SetState(ctx, userID, state)
	s.floor.Store(int64(state.Pts))
	return err
}

func (s ptsFloor) SetPts(ctx context.Context, userID int64, pts int) error {
	err := s.StateStorage.SetPts(ctx, userID, pts)
	s.floor.Store(int64(pts))
	return err
}

// leaveTimeout bounds the Redis calls of leaveOver, after the shutdown
// timeout.
const leaveTimeout = 5 * time.Second

// leaveOver has the submissions the shutdown cut short or kept from
// starting (left) processed again after a restart: it forgets the dedupe
// marks their handlers held (so that the next delivery is not taken for
// a duplicate) and moves the bot selfID's saved updates state back to the
// earliest of their positions (store.RewindPts), so that the next start's
// getDifference delivers them again, with what followed them: the
// conversation messages and submissions among those already handled are
// dropped by their dedupe marks. Run calls it once gotd's updates manager
// has stopped, which would otherwise store its own pts over it.
//
// When Redis cannot be reached the submissions are lost as before: the
// failure is logged at Error with their count.
func (b *Bot) leaveOver(ctx context.Context, selfID int64, left []leftover) {
	if len(left) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
	defer cancel()
	released, failed := 0, 0
	var forgetErr error
	for _, l := range left {
		if l.updateID == "" {
			continue // never started: no mark
		}
		if err := b.store.ForgetUpdate(ctx, l.userID, l.msgID, store.MarkedBy(l.updateID)); err != nil {
			failed++
			forgetErr = errors.Join(forgetErr, err)
			continue
		}
		released++
	}
	if forgetErr != nil {
		b.log.ErrorContext(ctx, "bot: cannot release the dedupe marks of submissions cut short by the shutdown; delivered again, they will be dropped as duplicates",
			slog.Int("submissions", failed), slog.String("error", forgetErr.Error()))
	}
	pos, ok := earliest(left)
	if !ok || selfID == 0 {
		b.log.ErrorContext(ctx, "bot: submissions cut short by the shutdown cannot be delivered again: their position in the updates (or the bot's ID) is unknown",
			slog.Int("submissions", len(left)))
		return
	}
	before, err := b.store.RewindPts(ctx, selfID, pos)
	if err != nil {
		b.log.ErrorContext(ctx, "bot: cannot roll the updates state back; submissions cut short by the shutdown will not be delivered again",
			slog.Int("submissions", len(left)), slog.Int("to_pts", pos), slog.String("error", err.Error()))
		return
	}
	b.log.WarnContext(ctx, "bot: the shutdown cut submissions short; the updates state is rolled back so that they are processed again after a restart",
		slog.Int("submissions", len(left)), slog.Int("marks_released", released),
		slog.Int("from_pts", before), slog.Int("to_pts", min(pos, before)))
}
