package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
)

// Run refuses what it cannot work with, with errors saying what is wrong.
func TestRunRefused(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBot(t, "a", "", "")
	noSelf := newFakeTransport()
	noSelf.selfErr = errors.New("AUTH_KEY_UNREGISTERED")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		t    Transport
		want string
	}{
		{"no transport", nil, "bot: Run needs a transport"},
		{"who am I fails", noSelf, "bot: who am I: AUTH_KEY_UNREGISTERED"},
	} {
		if err := b.Run(ctx, tc.t); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Run: %v, want %q", tc.name, err, tc.want)
		}
	}
	b.start(t, newFakeTransport())
	if err := b.Run(ctx, newFakeTransport()); err == nil || !strings.Contains(err.Error(), "bot: already running") {
		t.Errorf("Run twice: %v", err)
	}
	if err := b.Ready(ctx); err != nil {
		t.Errorf("the second Run stopped the first: %v", err)
	}
}

// instanceLeaseName is the lease HoldInstance takes for b.
func instanceLeaseName(b *testBot) string { return "instance:7000001:" + b.Instance() }

// A name given back by its holder is taken at once; a Bot that holds its
// name holds it again without giving it up; other names and other bots
// do not conflict.
func TestHoldInstance(t *testing.T) {
	env := newTestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a1, a2, b := env.newBot(t, "a", "", ""), env.newBot(t, "a", "", ""), env.newBot(t, "b", "", "")
	leases := a1.Store().Leases()

	release, err := a1.HoldInstance(ctx, testBotID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a1.HoldInstance(ctx, testBotID)
	if err != nil {
		t.Fatal(err)
	}
	again() // does nothing: the first hold still holds
	holder, _, err := leases.Holder(ctx, instanceLeaseName(a1))
	if err != nil || holder == "" {
		t.Fatalf("after releasing the second hold the name is free (%q, %v)", holder, err)
	}
	// Another name, and the same name of another bot.
	for _, hold := range []func() (func(), error){
		func() (func(), error) { return b.HoldInstance(ctx, testBotID) },
		func() (func(), error) { return a2.HoldInstance(ctx, testBotID+1) },
	} {
		r, err := hold()
		if err != nil {
			t.Fatal(err)
		}
		r()
	}

	release()
	if holder, _, err := leases.Holder(ctx, instanceLeaseName(a1)); err != nil || holder != "" {
		t.Fatalf("after release the name is held by %q (%v)", holder, err)
	}
	r2, err := a2.HoldInstance(ctx, testBotID)
	if err != nil {
		t.Fatal(err)
	}
	defer r2()
	if a2.logged("instance name is taken") {
		t.Errorf("a name given back was waited for:\n%s", a2.logs)
	}
}

// A process that takes a name another one holds waits for it (the other
// may have just stopped) and gets it as soon as it is given back.
func TestHoldInstanceWaitsForHolder(t *testing.T) {
	env := newTestEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a1, a2 := env.newBot(t, "a", "", ""), env.newBot(t, "a", "", "")
	release, err := a1.HoldInstance(ctx, testBotID)
	if err != nil {
		t.Fatal(err)
	}
	type held struct {
		release func()
		err     error
	}
	got := make(chan held, 1)
	go func() {
		r, err := a2.HoldInstance(ctx, testBotID)
		got <- held{r, err}
	}()
	if !testkit.Eventually(5*time.Second, func() bool { return a2.logged("the instance name is taken; waiting") }) {
		t.Fatalf("the second process does not wait:\n%s", a2.logs)
	}
	select {
	case h := <-got:
		t.Fatalf("the second process took a held name: %v", h.err)
	default:
	}
	release()
	select {
	case h := <-got:
		if h.err != nil {
			t.Fatal(h.err)
		}
		h.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the name given back was not taken")
	}
}

// A second process running under a name a running process holds waits
// for a lease time, then fails saying what to do; the first keeps
// working.
func TestRunInstanceNameInUse(t *testing.T) {
	t.Parallel() // it waits for 17 s
	env := newTestEnv(t)
	a1, a2 := env.newBot(t, "a", "", ""), env.newBot(t, "a", "", "")
	a1.start(t, newFakeTransport())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tr := newFakeTransport()
	began := time.Now()
	err := a2.Run(ctx, tr)
	if err == nil {
		t.Fatal("two processes run under one instance name")
	}
	for _, want := range []string{`instance name "a" is in use by another running process`, "bot.WithInstance", "--instance"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if waited := time.Since(began); waited < instanceLease {
		t.Errorf("gave up after %v, before the lease time %v", waited, instanceLease)
	}
	if a2.Ready(ctx) == nil || a2.wiring() != nil {
		t.Error("the refused process works the queue")
	}
	if err := a1.Ready(ctx); err != nil {
		t.Errorf("the holder stopped: %v", err)
	}
}
