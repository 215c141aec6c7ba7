package sandbox

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// faults are the failures tests ask for. Guarded by its own mutex.
type faults struct {
	mu    sync.Mutex
	flood map[uint32]*floodRule
	// bandwidth limits upload.getFile answers, in bytes per second per
	// MTProto session (one gotd connection); 0 is unlimited.
	bandwidth int
	busyUntil map[int64]time.Time
	hits      map[uint32]int
	// latency is the processing time of a method.
	latency map[uint32]time.Duration
}

type floodRule struct {
	seconds, remaining int
}

func newFaults() *faults {
	return &faults{
		flood: map[uint32]*floodRule{}, busyUntil: map[int64]time.Time{}, hits: map[uint32]int{},
		latency: map[uint32]time.Duration{},
	}
}

// before runs ahead of every request: it answers FLOOD_WAIT_X while a flood
// rule for the method has answers left.
func (f *faults) before(_ context.Context, c *call) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[c.method]++
	r, ok := f.flood[c.method]
	if !ok || r.remaining <= 0 {
		return nil
	}
	r.remaining--
	return tgerr.New(420, "FLOOD_WAIT_"+strconv.Itoa(r.seconds))
}

// count counts a request answered before the faults apply (Calls).
func (f *faults) count(method uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[method]++
}

// delay waits for the processing time of a method (SetLatency).
func (f *faults) delay(ctx context.Context, method uint32) error {
	f.mu.Lock()
	d := f.latency[method]
	f.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return tgerr.New(500, "TIMEOUT")
	}
}

// delaysItself reports whether a method waits for its latency itself, at
// its own point: messages.sendMessage claims its random_id first.
func delaysItself(method uint32) bool {
	return method == tg.MessagesSendMessageRequestTypeID
}

// throttle delays an answer of n bytes to keep the session under the
// bandwidth limit.
func (f *faults) throttle(ctx context.Context, c *call, n int) error {
	f.mu.Lock()
	bw := f.bandwidth
	if bw <= 0 || n == 0 {
		f.mu.Unlock()
		return nil
	}
	now := time.Now()
	start := f.busyUntil[c.session.ID]
	if start.Before(now) {
		start = now
	}
	done := start.Add(time.Duration(float64(n) / float64(bw) * float64(time.Second)))
	f.busyUntil[c.session.ID] = done
	f.mu.Unlock()

	t := time.NewTimer(time.Until(done))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return tgerr.New(500, "TIMEOUT")
	}
}

// FloodWait makes the next times calls of a method (by TL type ID, e.g.
// tg.MessagesSendMessageRequestTypeID) answer 420 FLOOD_WAIT_<seconds>,
// as Telegram does when a client calls a method too often. Later calls
// succeed again. times <= 0 removes the rule.
func (sb *Sandbox) FloodWait(method uint32, seconds, times int) {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	if times <= 0 {
		delete(sb.faults.flood, method)
		return
	}
	sb.faults.flood[method] = &floodRule{seconds: seconds, remaining: times}
}

// SetLatency makes the servers take d to process each call of a method (by
// TL type ID, e.g. tg.MessagesSendMessageRequestTypeID) before answering,
// as an overloaded Telegram does. A messages.sendMessage call holds its
// random_id meanwhile: a call repeating it answers 500 RANDOM_ID_DUPLICATE
// until the first one is done. Zero or less removes the delay.
func (sb *Sandbox) SetLatency(method uint32, d time.Duration) {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	if d <= 0 {
		delete(sb.faults.latency, method)
		return
	}
	sb.faults.latency[method] = d
}

// Calls reports how many requests of a method (by TL type ID) the servers
// received, flood-waited ones included.
func (sb *Sandbox) Calls(method uint32) int {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	return sb.faults.hits[method]
}

// SetBandwidth limits file downloads (upload.getFile) to bytesPerSecond
// for each connection, as a slow network would. Zero removes the limit.
func (sb *Sandbox) SetBandwidth(bytesPerSecond int) {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	sb.faults.bandwidth = bytesPerSecond
}

// DropConnections closes every TCP connection to a DC, as a network failure
// would, and returns how many were open. gotd clients reconnect by
// themselves; updates pushed meanwhile are fetched with
// updates.getDifference.
func (sb *Sandbox) DropConnections(dc int) int {
	d, ok := sb.dcs[dc]
	if !ok {
		return 0
	}
	return d.listener.dropAll()
}
