package screening

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	log    *slog.Logger
	params Params
	every  time.Duration

	mu     sync.Mutex // serializes loads
	lists  []List
	loaded map[string]*loaded // by List.Name
	index  atomic.Pointer[Index]
}

// loaded is a list as last read.
type loaded struct {
	list    List
	entries []Entry
	size    int64
	mtime   time.Time
}

// Option configures a Screener.
type Option func(*Screener)

// WithThreshold sets the score from which an entry is a hit (default
// DefaultThreshold), in (0, 1].
func WithThreshold(t float64) Option { return func(s *Screener) { s.params.Threshold = t } }

// WithBirthDateRule sets how dates of birth weigh (default
// BirthDateRequiredMatch).
func WithBirthDateRule(r BirthDateRule) Option { return func(s *Screener) { s.params.BirthDate = r } }

// WithLogger sets where reloads are logged (default: slog.Default()).
// Logs name lists, files and counts, never a name or a date.
func WithLogger(l *slog.Logger) Option { return func(s *Screener) { s.log = l } }

// WithPollInterval sets how often Watch looks at the files (default 1
// minute).
func WithPollInterval(d time.Duration) Option { return func(s *Screener) { s.every = d } }

// ErrBadSettings is wrapped by New's errors for settings out of range.
var ErrBadSettings = errors.New("screening: bad settings")

// New loads every list and returns a Screener over them. Any list that
// fails to load is an error: at start there is no previous version to
// keep.
func New(ctx context.Context, lists []List, opts ...Option) (*Screener, error) {
	s := &Screener{log: slog.Default(), every: time.Minute, loaded: make(map[string]*loaded)}
	for _, o := range opts {
		o(s)
	}
	if s.params.Threshold == 0 {
		s.params.Threshold = DefaultThreshold
	}
	if s.params.BirthDate == "" {
		s.params.BirthDate = BirthDateRequiredMatch
	}
	switch {
	case s.params.Threshold < 0 || s.params.Threshold > 1:
		return nil, fmt.Errorf("%w: threshold %v is not within (0, 1]", ErrBadSettings, s.params.Threshold)
	case s.params.BirthDate != BirthDateRequiredMatch && s.params.BirthDate != BirthDateModifier:
		return nil, fmt.Errorf("%w: birth date rule %.40q is neither %s nor %s", ErrBadSettings, s.params.BirthDate, BirthDateRequiredMatch, BirthDateModifier)
	case s.every <= 0:
		return nil, fmt.Errorf("%w: poll interval %v is not positive", ErrBadSettings, s.every)
	}
	seen := make(map[string]bool)
	for _, l := range lists {
		if l.Name == "" || seen[l.Name] {
			return nil, fmt.Errorf("%w: list names must be set and unique (%.40q)", ErrBadSettings, l.Name)
		}
		seen[l.Name] = true
	}
	s.lists = lists
	if err := s.load(ctx, true, true); err != nil {
		return nil, err
	}
	return s, nil
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
	return s.index.Load().Match(subj, s.params)
}

// Reload reads every list again.
func (s *Screener) Reload(ctx context.Context) error { return s.load(ctx, true, false) }

// Refresh reads again the lists whose file changed since last read
// (modification time or size), or that failed last time.
func (s *Screener) Refresh(ctx context.Context) error { return s.load(ctx, false, false) }

// Watch calls Refresh every poll interval until ctx ends (the errors are
// logged by Refresh).
func (s *Screener) Watch(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
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
		changed = first
	)
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
			if prev != nil {
				// Keep the previous version, but look again next time.
				prev.size, prev.mtime = -1, time.Time{}
			}
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
		s.index.Store(NewIndex(all))
	}
	return errors.Join(errs...)
}
