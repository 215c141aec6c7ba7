package testkit

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	time.Sleep(time.Millisecond)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("a still clock moved: Now = %v, want %v", got, start)
	}
	c.Advance(-time.Hour)
	if want := start.Add(-time.Hour); !c.Now().Equal(want) {
		t.Fatalf("after Advance: Now = %v, want %v", c.Now(), want)
	}
	c.Set(start.AddDate(0, 0, 1))
	if want := start.AddDate(0, 0, 1); !c.Now().Equal(want) {
		t.Fatalf("after Set: Now = %v, want %v", c.Now(), want)
	}

	var wall Clock // runs with the wall clock
	if d := wall.Now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("the zero Clock is %v off the wall clock", d)
	}
	wall.Advance(time.Hour)
	if d := wall.Now().Sub(time.Now()); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Fatalf("after Advance(1h) the zero Clock is %v ahead, want 1h", d)
	}
	wall.Set(start)
	if d := wall.Now().Sub(start); d < 0 || d > time.Second {
		t.Fatalf("after Set the zero Clock is %v past the time set", d)
	}

	var wg sync.WaitGroup // safe for concurrent use (run with -race)
	for range 8 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if want := start.AddDate(0, 0, 1).Add(8 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after 8 concurrent Advance(1s): Now = %v, want %v", c.Now(), want)
	}
}

func TestLogs(t *testing.T) {
	var l Logs
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, _ = l.Write([]byte("line " + strconv.Itoa(i) + "\n"))
			_ = l.String()
		})
	}
	wg.Wait()
	for i := range 8 {
		if !strings.Contains(l.String(), "line "+strconv.Itoa(i)+"\n") {
			t.Errorf("line %d is missing from %q", i, l.String())
		}
	}
	l.Logger().Debug("hello", "k", "v")
	if !strings.Contains(l.String(), `level=DEBUG msg=hello k=v`) {
		t.Errorf("Logger wrote %q, want a debug record as text", l.String())
	}
}

// TestOnlyTestsImport: testkit is test infrastructure; code that ships
// must not import it.
func TestOnlyTestsImport(t *testing.T) {
	OnlyTestsImport(t, "github.com/kycbot/kycbot/tests/testkit")
}
