package tests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
)

// BenchmarkLoad200: 200 users share their documents at the same moment
// (the full scope: a driving licence with three scans); the bot on the
// sandbox and real Redis, with its default concurrency and Telegram rate
// limit. It reports verifications per second over the whole burst and
// the time from sharing to the verdict (median, p99, max), and the bot's
// CPU per verification against one RSA decryption. The users log
// in and upload their documents first (as the app does while the user
// fills the form), outside the measurement.
//
//	go test -run '^$' -bench Load -benchtime 1x ./tests
//
// Not run by go test without -bench; under -race it takes much longer
// and measures the race detector.
func BenchmarkLoad200(b *testing.B) { benchLoad(b, 200, worldOptions{}) }

// BenchmarkLoad200Unlimited: the same without the bot's rate limit on
// Telegram calls (runner.Options.RateLimit -1), to see what bounds the
// bot once its own limit does not.
func BenchmarkLoad200Unlimited(b *testing.B) {
	benchLoad(b, 200, worldOptions{runner: runner.Options{RateLimit: -1}})
}

// BenchmarkLoad50: the same with 50 users, fewer than the bot's handler
// slots (bot.DefaultConcurrency).
func BenchmarkLoad50(b *testing.B) { benchLoad(b, 50, worldOptions{}) }

// BenchmarkLoadInstances: 200 users at once, without the rate limit,
// against one, two and three instances of the bot (one Redis; one of
// them receives, every one handles updates). All run in this process on
// the same cores, with the sandbox: the numbers compare what the queue
// and the instances cost, not what more machines would bring.
//
//	go test -run '^$' -bench LoadInstances -benchtime 1x ./tests
func BenchmarkLoadInstances(b *testing.B) {
	for _, instances := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("%d", instances), func(b *testing.B) {
			benchLoad(b, 200, worldOptions{runner: runner.Options{RateLimit: -1}, instances: instances})
		})
	}
}

// loadStall is how long the burst may go without a verdict before the
// benchmark gives up: the bot hung.
const loadStall = 90 * time.Second

func benchLoad(b *testing.B, n int, wo worldOptions) {
	b.ReportAllocs()
	for range b.N {
		loadOnce(b, n, wo)
	}
}

func loadOnce(b *testing.B, n int, wo worldOptions) {
	{
		b.StopTimer()
		w := newWorld(b, wo)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		for i := 1; i < wo.instances; i++ {
			if _, err := w.StartInstance(ctx, fmt.Sprintf("load-%d", i)); err != nil {
				b.Fatal(err)
			}
		}
		setup := time.Now()
		users := w.users(n, "en")
		links := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				links[i], errs[i] = prepare(ctx, w, u)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d users logged in, requested and uploaded in %v", n, time.Since(setup).Round(time.Millisecond))

		verified := w.text("en", i18n.MsgResultVerified, nil)
		greeting := firstLine(w.text("en", i18n.MsgStartGreeting, nil))
		// The verdict: not the greeting, and not the "received" message
		// it is edited into.
		answer := func(m sandbox.ChatMessage) bool {
			return w.notReceived(m) && !strings.HasPrefix(m.Text, greeting)
		}
		took := make([]time.Duration, n)
		start := make(chan struct{})
		progress := make(chan struct{}, n)
		b.StartTimer()
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				defer func() { progress <- struct{}{} }()
				t0 := time.Now()
				if err := u.FillForm(ctx, links[i]); err != nil {
					errs[i] = err
					return
				}
				m, err := u.WaitMessage(ctx, answer)
				took[i] = time.Since(t0)
				if err == nil && m.Text != verified {
					err = fmt.Errorf("user %d: the bot said %q", u.User.ID, m.Text)
				}
				errs[i] = err
			}()
		}
		stopProfile := profileCPU(b)
		burst := time.Now()
		close(start)
		for done := 0; done < n; done++ {
			select {
			case <-progress:
			case <-time.After(loadStall):
				// As it did before TestBackPressure's fix.
				b.Fatalf("no verdict for %v after %d of %d: the bot hangs", loadStall, done, n)
			}
		}
		elapsed := time.Since(burst)
		wg.Wait()
		b.StopTimer()
		prof := stopProfile()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		slices.Sort(took)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(float64(n)/elapsed.Seconds(), "verifications/s")
		b.ReportMetric(ms(took[n/2]), "median-ms")
		b.ReportMetric(ms(took[n*99/100]), "p99-ms")
		b.ReportMetric(ms(took[n-1]), "max-ms")
		b.Logf("%d verifications in %v", n, elapsed.Round(time.Millisecond))
		reportBotCPU(b, prof, n)
	}
}

// prepare sends /start, opens the request page and uploads the user's
// documents; it returns the Passport link to share.
func prepare(ctx context.Context, w *world, u *sandbox.SimUser) (string, error) {
	if _, err := u.Start(ctx, w.Account.Username, ""); err != nil {
		return "", err
	}
	m, err := u.WaitMessage(ctx, hasURLButton)
	if err != nil {
		return "", fmt.Errorf("user %d: no request: %w", u.User.ID, err)
	}
	b, _ := urlButton(m)
	link, err := u.OpenURL(ctx, b.URL)
	if err != nil {
		return "", err
	}
	for typ := range u.Profile() {
		if w.Config.Levels[w.Config.DefaultLevelName].Scope.Contains(typ) {
			if err := u.Fix(ctx, typ, func(*sandbox.ProfileElement) {}); err != nil {
				return "", err
			}
		}
	}
	return link, nil
}
