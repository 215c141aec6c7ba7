package testkit

import (
	"sync"
	"time"
)

// Clock is a clock a test sets, safe for concurrent use; hand Clock.Now
// to what takes a clock. The zero Clock runs with the wall clock, moved
// ahead or back by Advance and Set; a clock of NewClock stands still
// between them.
type Clock struct {
	mu     sync.Mutex
	still  bool
	now    time.Time     // when still
	offset time.Duration // added to the wall clock when running
}

// NewClock returns a Clock that stands at now until Set or Advance move it.
func NewClock(now time.Time) *Clock { return &Clock{still: true, now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.still {
		return c.now
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.still {
		c.now = c.now.Add(d)
		return
	}
	c.offset += d
}

// Set moves the clock to t (a running clock runs on from there).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.still {
		c.now = t
		return
	}
	c.offset = time.Until(t)
}
