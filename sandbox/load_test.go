package sandbox

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kycbot/kycbot/passport"
)

var loadUsers = flag.Int("sandbox.users", defaultLoadUsers, "simulated users in TestConcurrentSubmissions (default 10, 5 under -race)")

type loadStats struct {
	users      int
	files      int
	uploaded   int64 // encrypted bytes
	elapsed    time.Duration
	submitting time.Duration // until the last user finished FillForm
}

func (s loadStats) String() string {
	return fmt.Sprintf("%d users, %d files (%.1f MB encrypted) in %v (all submitted after %v): %.1f submissions/s, %.1f files/s",
		s.users, s.files, float64(s.uploaded)/1e6, s.elapsed.Round(time.Millisecond), s.submitting.Round(time.Millisecond),
		float64(s.users)/s.elapsed.Seconds(), float64(s.files)/s.elapsed.Seconds())
}

// runLoad has n simulated users submit a full Passport form each, at the
// same time, to one bot that decrypts every submission and downloads and
// checks every file.
func runLoad(ctx context.Context, t testing.TB, n int) loadStats {
	sb := startSandbox(t, Options{})
	bot, key, pem := addTestBot(t, sb, "kyc_load_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)
	scope := fullScope()

	var (
		mu       sync.Mutex
		profiles = map[int64]Profile{}
		uploaded atomic.Int64
	)
	start := time.Now()
	users, uctx := errgroup.WithContext(ctx)
	for i := range n {
		users.Go(func() error {
			seed := fmt.Sprintf("load-%d", i)
			profile := smallScans(SampleProfile(seed))
			u, err := sb.NewSimUser(uctx, UserSpec{Phone: fmt.Sprintf("1555100%04d", i)}, SimUserOptions{Profile: profile})
			if err != nil {
				return err
			}
			defer func() { _ = u.Close() }()
			mu.Lock()
			profiles[u.User.ID] = profile
			mu.Unlock()
			if err := u.FillForm(uctx, passportLink(t, bot.ID, pem, "nonce-"+seed, scope)); err != nil {
				return fmt.Errorf("user %d: %w", i, err)
			}
			return nil
		})
	}
	submitted := make(chan error, 1)
	go func() {
		err := users.Wait()
		submitted <- err
	}()

	var (
		files     atomic.Int64
		submitEnd time.Duration
		checks, _ = errgroup.WithContext(ctx)
	)
	checks.SetLimit(8)
	for received := 0; received < n; {
		select {
		case err := <-submitted:
			if err != nil {
				t.Fatal(err)
			}
			submitEnd = time.Since(start)
			submitted = nil
			continue
		case in := <-b.in:
			if in.service == nil {
				continue
			}
			received++
			checks.Go(func() error {
				sub, _, from, err := decryptService(key, in)
				if err != nil {
					return err
				}
				mu.Lock()
				profile := profiles[from]
				mu.Unlock()
				if sub.Nonce == "" || len(sub.Elements) != len(scope.Elements) {
					return fmt.Errorf("user %d: %d elements, nonce %q", from, len(sub.Elements), sub.Nonce)
				}
				for _, el := range sub.Elements {
					pe := profile[el.Type]
					check := func(f *passport.File, s *Scan) error {
						var enc bytes.Buffer
						if _, err := b.Client().Download(f.Location()).Stream(ctx, &enc); err != nil {
							return fmt.Errorf("download: %w", err)
						}
						uploaded.Add(int64(enc.Len()))
						var plain bytes.Buffer
						r, err := passport.NewFileReader(&enc, f.Credentials)
						if err != nil {
							return err
						}
						if _, err := plain.ReadFrom(r); err != nil {
							return fmt.Errorf("decrypt file: %w", err)
						}
						want, err := s.JPEG()
						if err != nil {
							return err
						}
						if !bytes.Equal(plain.Bytes(), want) {
							return fmt.Errorf("user %d %s: file differs", from, el.Type)
						}
						files.Add(1)
						return nil
					}
					pairs := []struct {
						f *passport.File
						s *Scan
					}{{el.FrontSide, pe.FrontSide}, {el.ReverseSide, pe.ReverseSide}, {el.Selfie, pe.Selfie}}
					for i := range el.Files {
						pairs = append(pairs, struct {
							f *passport.File
							s *Scan
						}{&el.Files[i], &pe.Files[i]})
					}
					for i := range el.Translation {
						pairs = append(pairs, struct {
							f *passport.File
							s *Scan
						}{&el.Translation[i], &pe.Translation[i]})
					}
					for _, p := range pairs {
						if p.f == nil {
							continue
						}
						if err := check(p.f, p.s); err != nil {
							return err
						}
					}
				}
				return nil
			})
		case <-ctx.Done():
			t.Fatalf("%d of %d submissions received: %v", received, n, ctx.Err())
		}
	}
	if err := checks.Wait(); err != nil {
		t.Fatal(err)
	}
	if submitted != nil {
		if err := <-submitted; err != nil {
			t.Fatal(err)
		}
		submitEnd = time.Since(start)
	}
	return loadStats{users: n, files: int(files.Load()), uploaded: uploaded.Load(), elapsed: time.Since(start), submitting: submitEnd}
}

// Test 7: simulated users submitting at the same time all get through.
// Run more with -sandbox.users=50 (or the benchmark). It is not parallel
// with the other tests: it uses both cores by itself (mostly gotd's
// client-side key exchange of every new user), and would starve them.
func TestConcurrentSubmissions(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	stats := runLoad(ctx, t, *loadUsers)
	if stats.files != stats.users*6 {
		t.Fatalf("%d files checked, want %d", stats.files, stats.users*6)
	}
	t.Log(stats)
}

// BenchmarkConcurrentSubmissions runs 50 users per iteration.
func BenchmarkConcurrentSubmissions(b *testing.B) {
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		stats := runLoad(ctx, b, 50)
		cancel()
		b.ReportMetric(float64(stats.users)/stats.elapsed.Seconds(), "submissions/s")
		b.ReportMetric(float64(stats.files)/stats.elapsed.Seconds(), "files/s")
		b.Log(stats)
	}
}

// smallScans shrinks every generated scan of a profile (the load test is
// about the protocol, not about JPEG encoding).
func smallScans(p Profile) Profile {
	shrink := func(s *Scan) {
		if s != nil {
			s.Width, s.Height = 320, 200
		}
	}
	for _, e := range p {
		shrink(e.FrontSide)
		shrink(e.ReverseSide)
		shrink(e.Selfie)
		for i := range e.Files {
			shrink(&e.Files[i])
		}
		for i := range e.Translation {
			shrink(&e.Translation[i])
		}
	}
	return p
}
