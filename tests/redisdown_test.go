package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestRedisDownMidFlight: 20 users share at once while the bot's Redis
// hangs (SIGSTOP), then crashes (SIGKILL) and comes back from its
// append-only file. Every submission ends verified or with a clear
// message, none is left without an answer, and no user is told verified
// twice. Redis may run a command whose answer the bot never got (sent
// during the hang), so a retried submission must not be taken for a
// duplicate of itself (its dedupe mark is held by its update ID).
func TestRedisDownMidFlight(t *testing.T) {
	t.Parallel()
	const n = 20
	srv := testkit.StartServer(t)
	client, err := store.Open(testContext(t), store.Config{Addrs: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	w := newWorld(t, worldOptions{redis: client})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	users := w.users(n, "en")
	links := make([]string, n)
	for i, u := range users {
		page, _ := w.request(ctx, u, "")
		link, err := u.OpenURL(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		links[i] = link
	}

	verified := w.text("en", i18n.MsgResultVerified, nil)
	delayed := w.text("en", i18n.MsgSubmissionDelayed, nil)
	clear := map[string]bool{ // the answers that end a submission
		verified: true,
		w.text("en", i18n.MsgSubmissionFailed, nil): true,
		w.text("en", i18n.MsgErrorTryLater, nil):    true,
		w.text("en", i18n.MsgErrorInternal, nil):    true,
	}
	verdicts := make(chan int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			err := u.FillForm(ctx, links[i])
			<-sem
			if err != nil && !strings.Contains(err.Error(), "callback URL") {
				errs[i] = err // the web server may answer 503 while Redis is down
				return
			}
			if _, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return !m.Out && clear[m.Text] }); err != nil {
				errs[i] = fmt.Errorf("user %d got no verdict: %w", u.User.ID, err)
				return
			}
			verdicts <- u.User.ID
		}()
	}

	// The outage, once a few submissions are through: the server hangs,
	// then crashes, and comes back from its append-only file.
	for range 3 {
		select {
		case <-verdicts:
		case <-ctx.Done():
			t.Fatal("no submission went through before the outage")
		}
	}
	srv.Signal(t, syscall.SIGSTOP)
	time.Sleep(2 * time.Second)
	srv.Signal(t, syscall.SIGCONT)
	for range 2 {
		select {
		case <-verdicts:
		case <-ctx.Done():
			t.Fatal("no submission went through after the hang")
		}
	}
	srv.Kill()
	time.Sleep(2 * time.Second)
	srv.Start(t)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// Nothing more comes; then each user's last message is a clear
	// answer, and those told verified are verified, once.
	time.Sleep(2 * time.Second)
	events := w.auditByUser(ctx, "verified")
	var told, failed int
	for _, u := range users {
		var last string
		count := 0
		for _, m := range u.Messages() {
			if m.Out {
				continue
			}
			last = m.Text
			if m.Text == verified {
				count++
			}
		}
		switch {
		case last == delayed || !clear[last]:
			t.Errorf("user %d: the last message is %q, not a verdict: the submission was lost", u.User.ID, last)
		case last == verified:
			told++
		default:
			failed++
		}
		if count > 1 {
			t.Errorf("user %d was told verified %d times", u.User.ID, count)
		}
		st := w.status(ctx, u.User.ID)
		if count == 1 && (st.State != store.StateVerified || events[u.User.ID] != 1) {
			// The outcome is recorded, once, before the user is told: a
			// submission whose status or audit event Redis could not take
			// is processed again.
			t.Errorf("user %d was told verified, but the status is %q and %d verified audit events were recorded", u.User.ID, st.State, events[u.User.ID])
		}
	}
	t.Logf("%d of %d verified, %d asked to share again", told, n, failed)
}
