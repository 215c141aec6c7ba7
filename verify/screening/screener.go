package screening

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// List is one watchlist file to screen against.
type List struct {
	// Name names the list in hits and logs ("ofac", "eu"); unique.
	Name string
	// Format is the file's format.
	Format Format
	// File is the path of the file.
	File string
}

// Load reads a list's file whole and returns its entries, each carrying
// the list's name. A file that cannot be opened or does not follow the
// format is an error naming the file (and the line).
func Load(ctx context.Context, l List) ([]Entry, error) {
	f, err := os.Open(l.File)
	if err != nil {
		return nil, fmt.Errorf("screening: list %s: %w", l.Name, err)
	}
	defer f.Close()
	entries, err := read(ctx, l, f)
	if err != nil {
		return nil, fmt.Errorf("screening: list %s: %w", l.Name, err)
	}
	return entries, nil
}

func read(ctx context.Context, l List, r io.Reader) ([]Entry, error) {
	var entries []Entry
	err := Parse(ctx, l.Format, l.File, r, func(e Entry) error {
		e.List = l.Name
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// Screener screens subjects against a set of lists, keeping them current:
// Reload reads every list again (kycbot does on SIGHUP), Refresh only
// those whose file changed (modification time or size), and Watch calls
// Refresh periodically. A list that fails to load keeps its previous
// entries, and the failure is logged (the file, the line, what is wrong)
// and returned. Checks never wait for a reload: the index is swapped
// whole once built.
//
// A Screener is safe for concurrent use.
type Screener struct {
	mu     sync.Mutex // serializes loads and settings
	log    *slog.Logger
	every  time.Duration
	lists  []List
	params Params
	loaded map[string]*loaded // by List.Name
	state  atomic.Pointer[state]
	poke   chan struct{} // tells Watch the poll interval changed
}

// state is what Check reads: swapped whole.
type state struct {
	index  *Index
	params Params
}

// loaded is a list as last read.
type loaded struct {
	list    List
	entries []Entry
	size    int64
	mtime   time.Time
}

// Option configures a Screener.
type Option func(*settings)

// settings are what the options set.
type settings struct {
	params Params
	log    *slog.Logger
	every  time.Duration
}

// WithThreshold sets the score from which an entry is a hit (default
// DefaultThreshold), in (0, 1].
func WithThreshold(t float64) Option { return func(s *settings) { s.params.Threshold = t } }

// WithBirthDateRule sets how dates of birth weigh (default
// BirthDateRequiredMatch).
func WithBirthDateRule(r BirthDateRule) Option { return func(s *settings) { s.params.BirthDate = r } }

// WithLogger sets where reloads are logged (default: nowhere).
// Logs name lists, files and counts, never a name or a date.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.log = l } }

// WithPollInterval sets how often Watch looks at the files (default 1
// minute).
func WithPollInterval(d time.Duration) Option { return func(s *settings) { s.every = d } }

// newSettings applies opts to the defaults and checks the result and the
// lists.
func newSettings(lists []List, opts []Option) (settings, error) {
	st := settings{log: slog.New(slog.DiscardHandler), every: time.Minute}
	for _, o := range opts {
		o(&st)
	}
	if st.params.Threshold == 0 {
		st.params.Threshold = DefaultThreshold
	}
	if st.params.BirthDate == "" {
		st.params.BirthDate = BirthDateRequiredMatch
	}
	switch {
	case st.params.Threshold < 0 || st.params.Threshold > 1:
		return st, fmt.Errorf("%w: threshold %v is not within (0, 1]", ErrBadSettings, st.params.Threshold)
	case st.params.BirthDate != BirthDateRequiredMatch && st.params.BirthDate != BirthDateModifier:
		return st, fmt.Errorf("%w: birth date rule %.40q is neither %s nor %s", ErrBadSettings, st.params.BirthDate, BirthDateRequiredMatch, BirthDateModifier)
	case st.every <= 0:
		return st, fmt.Errorf("%w: poll interval %v is not positive", ErrBadSettings, st.every)
	}
	seen := make(map[string]bool)
	for _, l := range lists {
		if l.Name == "" || seen[l.Name] {
			return st, fmt.Errorf("%w: list names must be set and unique (%.40q)", ErrBadSettings, l.Name)
		}
		seen[l.Name] = true
	}
	return st, nil
}

// ErrBadSettings is wrapped by New's errors for settings out of range.
var ErrBadSettings = errors.New("screening: bad settings")

// New loads every list and returns a Screener over them. Any list that
// fails to load is an error: at start there is no previous version to
// keep.
func New(ctx context.Context, lists []List, opts ...Option) (*Screener, error) {
	st, err := newSettings(lists, opts)
	if err != nil {
		return nil, err
	}
	s := &Screener{loaded: make(map[string]*loaded), poke: make(chan struct{}, 1)}
	s.apply(lists, st)
	if err := s.load(ctx, true, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Configure puts new lists and settings in force (a config reload) and
// reads every list again. A list that fails to load keeps the entries it
// had under the same name, if any (a new list is screened once it loads:
// Refresh and Watch try again); lists no longer named are dropped. Bad
// settings are an error and change nothing.
func (s *Screener) Configure(ctx context.Context, lists []List, opts ...Option) error {
	st, err := newSettings(lists, opts)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.apply(lists, st)
	for name := range s.loaded {
		if !slices.ContainsFunc(lists, func(l List) bool { return l.Name == name }) {
			delete(s.loaded, name)
		}
	}
	s.mu.Unlock()
	select {
	case s.poke <- struct{}{}:
	default:
	}
	return s.load(ctx, true, false)
}

// apply sets the lists and settings; s.mu is held or s is new.
func (s *Screener) apply(lists []List, st settings) {
	s.lists = slices.Clone(lists)
	s.params, s.log, s.every = st.params, st.log, st.every
}

// Lists returns the lists screened and how many people each holds.
func (s *Screener) Lists() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.loaded))
	for n, l := range s.loaded {
		out[n] = len(l.entries)
	}
	return out
}

// Check screens a subject and returns the hits, best first; none when
// nothing reaches the threshold. A hit is a reason for a person to look,
// never a verdict.
func (s *Screener) Check(ctx context.Context, subj Subject) []Hit {
	st := s.state.Load()
	return st.index.Match(subj, st.params)
}

// Reload reads every list again.
func (s *Screener) Reload(ctx context.Context) error { return s.load(ctx, true, false) }

// Refresh reads again the lists whose file changed since last read
// (modification time or size), or that failed last time.
func (s *Screener) Refresh(ctx context.Context) error { return s.load(ctx, false, false) }

// Watch calls Refresh every poll interval until ctx ends (the errors are
// logged by Refresh).
func (s *Screener) Watch(ctx context.Context) {
	interval := func() time.Duration {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.every
	}
	t := time.NewTicker(interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
			t.Reset(interval())
		case <-t.C:
			_ = s.Refresh(ctx)
		}
	}
}

// load reads the lists (all, or those that changed) and swaps the index
// in when one changed. At start (first) any failure is returned at once.
func (s *Screener) load(ctx context.Context, all, first bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		errs    []error
		changed = true // the settings may have changed: the state is built anew
	)
	if !all && !first {
		changed = false
	}
	for _, l := range s.lists {
		prev := s.loaded[l.Name]
		fi, err := os.Stat(l.File)
		if err == nil && !all && prev != nil && fi.Size() == prev.size && fi.ModTime().Equal(prev.mtime) {
			continue
		}
		var entries []Entry
		if err == nil {
			entries, err = Load(ctx, l)
		} else {
			err = fmt.Errorf("screening: list %s: %w", l.Name, err)
		}
		if err != nil {
			if first {
				return err
			}
			errs = append(errs, err)
			if prev == nil {
				s.log.ErrorContext(ctx, "screening: list not loaded, not screened until it loads",
					slog.String("list", l.Name), slog.String("error", err.Error()))
				continue
			}
			// Keep the previous version, but look again next time.
			prev.size, prev.mtime = -1, time.Time{}
			s.log.ErrorContext(ctx, "screening: list not reloaded, the previous version stays",
				slog.String("list", l.Name), slog.String("error", err.Error()))
			continue
		}
		s.loaded[l.Name] = &loaded{list: l, entries: entries, size: fi.Size(), mtime: fi.ModTime()}
		changed = true
		if !first {
			s.log.InfoContext(ctx, "screening: list reloaded", slog.String("list", l.Name), slog.Int("entries", len(entries)))
		}
	}
	if changed {
		var all []Entry
		for _, l := range s.lists {
			if ld := s.loaded[l.Name]; ld != nil {
				all = append(all, ld.entries...)
			}
		}
		s.state.Store(&state{index: NewIndex(all), params: s.params})
	}
	return errors.Join(errs...)
}
