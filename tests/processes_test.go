package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// processUsers is how many simulated users TestInstancesAsProcesses plays
// on the single server (fewer with -short), and topologyUsers on a
// cluster or Sentinel, where the point is the topology, not the scale.
const (
	processUsers  = 100
	topologyUsers = 30
)

// TestInstancesAsProcesses is the pipeline end to end, with real
// processes: `kycbot sandbox serve` (the local Telegram), three `kycbot
// run` instances of one bot on one Redis, each with its own
// authorization and dialing Telegram from a loopback address of its own,
// behind a load balancer for the request pages, and `kycbot sandbox users`
// playing the users at once. While they share their documents, the
// instance that receives Telegram's updates is killed with SIGKILL and
// started again, then another instance, twice over. Every user gets
// exactly one verdict message and ends with one verified status, one
// verified audit event and one webhook event; no instance ever meets
// AUTH_KEY_DUPLICATED; the queue is empty at the end.
//
// It runs on the topology the environment names (testkit.RedisTopology):
// on a Redis Cluster it also checks that the keys spread over the
// masters; on Sentinel (the bot waiting for the replica,
// redis.wait_replicas 1) the Redis master fails over instead, once by
// SIGKILL and once by SENTINEL FAILOVER, while the instances keep
// running, and the master must have changed both times.
func TestInstancesAsProcesses(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	n, ramp, usersTimeout := processUsers, 40*time.Second, 10*time.Minute
	if top.Mode != "single" {
		n, ramp, usersTimeout = topologyUsers, 20*time.Second, 4*time.Minute
	}
	if top.Mode == "sentinel" {
		// The second failover waits for the master killed by the first to
		// be back as a replica (its restart, then up to 10 s until the
		// sentinels see it): the users must still be coming by then.
		ramp = 30 * time.Second
	}
	if testing.Short() {
		n, ramp = 20, 15*time.Second
	}
	dir := t.TempDir()
	lb := newBalancer(t)
	hook := newReceiver(t, time.Now)

	// The local Telegram, as a process of its own.
	cfgFile := filepath.Join(dir, "kycbot.yaml")
	serve := startProcess(t, bin, "serve", "Next, in other terminals", append([]string{"sandbox", "serve", "--config-out", cfgFile,
		"--public-url", "http://" + lb.addr, "--listen", "127.0.0.1:0"}, serveRedisFlags(top)...)...)
	defer serve.stop(t)
	cfg := deliverToHook(t, cfgFile, hook)
	botID, err := passport.BotIDFromToken(cfg.Telegram.BotToken.Value())
	if err != nil {
		t.Fatal(err)
	}
	prefix := cfg.Redis.Prefix

	// Three instances, each its own name, web port and source address.
	type instance struct {
		name, web, from string
		mu              sync.Mutex
		proc            *process // the running process, nil while it starts again
	}
	instances := []*instance{{name: "kyc-a", from: "127.0.0.2"}, {name: "kyc-b", from: "127.0.0.3"}, {name: "kyc-c", from: "127.0.0.4"}}
	logs := map[string]*testkit.Logs{}
	defer func() {
		if t.Failed() {
			for name, l := range logs {
				t.Logf("the warnings and errors of %s:\n%s", name, problemLines(l.String(), 40))
			}
		}
	}()
	args := func(in *instance) []string {
		return []string{"run", "--config", cfgFile, "--instance", in.name, "--listen", in.web, "--local-addr", in.from,
			"--log-format", "json", "--log-level", "debug"}
	}
	start := func(in *instance) {
		p := startProcessLogs(t, bin, in.name, "is running as instance", logs[in.name], args(in)...)
		in.mu.Lock()
		in.proc = p
		in.mu.Unlock()
	}
	running := func(in *instance) *process {
		in.mu.Lock()
		defer in.mu.Unlock()
		return in.proc
	}
	var restarts sync.WaitGroup
	// restart starts a killed instance again, in the background: after a
	// SIGKILL its name frees itself only after its lease (15 s).
	restart := func(in *instance) {
		in.mu.Lock()
		in.proc = nil
		in.mu.Unlock()
		restarts.Go(func() {
			p, err := launch(bin, in.name, "is running as instance", logs[in.name], args(in)...)
			if err != nil {
				t.Errorf("instance %s did not start again: %v", in.name, err)
				return
			}
			in.mu.Lock()
			in.proc = p
			in.mu.Unlock()
		})
	}
	for _, in := range instances {
		in.web = freeAddr(t)
		logs[in.name] = &testkit.Logs{}
		lb.add(in.web)
		start(in)
	}
	defer func() {
		restarts.Wait()
		for _, in := range instances {
			if p := running(in); p != nil {
				p.stop(t)
			}
		}
	}()

	// The users, as a process of their own, starting over a while so
	// that the kills below come while submissions flow.
	report := filepath.Join(dir, "report.json")
	users := startProcess(t, bin, "users", "", "sandbox", "users", "--config", cfgFile, "--users", strconv.Itoa(n),
		"--scenario", "happy", "--report", report, "--ramp", ramp.String(), "--timeout", usersTimeout.String())

	// Meanwhile, while the users are being verified: kill the receiver,
	// then another instance, twice over, each at a random moment once
	// another sixth of the users is verified, and start them again.
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	t.Logf("kill schedule seed %d", seed)
	auditFrom, err := bot.LoadPrivateKey(cfg.Passport.PrivateKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(rdb, store.WithPrefix(prefix), bot.AuditKeys(auditFrom))
	verifiedSoFar := func() int {
		stats, err := st.Statuses().Stats(context.Background(), time.Now())
		if err != nil {
			return 0
		}
		return stats.Total[cfg.DefaultLevelName][store.StateVerified]
	}
	var kills []string
	byName := func(name string) *instance {
		for _, in := range instances {
			if in.name == name {
				return in
			}
		}
		return nil
	}
	receiver := func() *instance {
		holder, _ := rdb.Get(context.Background(), prefix+"lease:receiver:"+strconv.FormatInt(botID, 10)).Result()
		name, _, _ := strings.Cut(holder, ":")
		return byName(name)
	}
	// waitFor waits until want users are verified, then a random moment
	// more; false when the users are done.
	waitFor := func(want int) bool {
		for verifiedSoFar() < want {
			select {
			case <-users.exited:
				return false
			case <-time.After(50 * time.Millisecond):
			}
		}
		select {
		case <-users.exited:
			return false
		case <-time.After(time.Duration(rng.IntN(1000)) * time.Millisecond):
			return true
		}
	}
	// victim picks the receiver (once one holds the lease and runs), or a
	// running instance that is neither the receiver nor last.
	victim := func(which string, last *instance) *instance {
		for {
			r := receiver()
			for _, in := range instances {
				if running(in) == nil {
					continue
				}
				if which == "receiver" && in == r || which == "other" && in != r && in != last {
					return in
				}
			}
			select {
			case <-users.exited:
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	var last *instance
	// The disruptions, each once another share of the users is verified.
	type disruption struct {
		what string
		do   func() bool // false when the users are done
	}
	var disruptions []disruption
	switch top.Mode {
	case "sentinel":
		sentinel := testkit.NewSentinel(top)
		// failover fails the master over by fail, which returns what to
		// do once another master is in place.
		failover := func(how string, fail func(ctx context.Context, master string) (func(string) error, error)) func() bool {
			return func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := sentinel.WaitReplica(ctx); err != nil { // one to promote
					t.Fatal(err)
				}
				before, err := sentinel.Master(ctx)
				if err != nil {
					t.Fatalf("the sentinels do not name the master: %v", err)
				}
				at := verifiedSoFar()
				if at >= n {
					t.Errorf("%s came after all %d users were verified: it proves nothing (make the ramp longer)", how, at)
				}
				then, err := fail(ctx, before)
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				after, err := sentinel.WaitMasterChange(ctx, before)
				if err != nil {
					t.Fatalf("after %s: %v", how, err)
				}
				if then != nil {
					if err := then(after); err != nil {
						t.Fatal(err)
					}
				}
				kills = append(kills, fmt.Sprintf("Redis master %s -> %s by %s with %d of %d users verified", before, after, how, at, n))
				return true
			}
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := sentinel.WaitReplica(ctx); err != nil {
				t.Error(err)
			}
		}()
		disruptions = []disruption{
			// The killed master starts again (empty: nothing persisted) as a
			// replica of the one that took over.
			{"SIGKILL of the master", failover("SIGKILL", testkit.KillServer)},
			// The demoted master becomes a replica only when the sentinels
			// next look at it (up to 10 s): last, so that the run need not
			// wait for it before another failover.
			{"SENTINEL FAILOVER", failover("SENTINEL FAILOVER", func(ctx context.Context, _ string) (func(string) error, error) {
				return nil, sentinel.Failover(ctx)
			})},
		}
	default:
		for round := range 2 {
			for _, which := range []string{"receiver", "other"} {
				disruptions = append(disruptions, disruption{"SIGKILL of the " + which, func() bool {
					v := victim(which, last)
					if v == nil {
						return false
					}
					kills = append(kills, fmt.Sprintf("round %d: %s (%s) with %d of %d users verified", round+1, v.name, which, verifiedSoFar(), n))
					running(v).kill()
					restart(v)
					last = v
					return true
				}})
			}
		}
	}
	for i, d := range disruptions {
		if !waitFor((i+1)*n/(len(disruptions)+2)) || !d.do() {
			break
		}
	}
	t.Logf("disruptions: %s", strings.Join(kills, "; "))
	if len(kills) < len(disruptions) {
		t.Errorf("the users were done before all %d disruptions: %v", len(disruptions), kills)
	}

	// Every user, once.
	select {
	case <-users.exited:
	case <-time.After(usersTimeout + 2*time.Minute):
		t.Fatal("the users did not finish")
	}
	if code := users.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("sandbox users exited %d:\n%s", code, users.logs.String())
	}
	lost, dup := wantEachVerifiedOnce(t, readReport(t, report, n), st, cfg.DefaultLevelName, hook)
	t.Logf("%s: %d users, %d lost (no verdict), %d with duplicate verdicts", top, n, lost, dup)
	viaLogger := 0
	for name, l := range logs {
		if strings.Contains(l.String(), "AUTH_KEY_DUPLICATED") {
			t.Errorf("instance %s met AUTH_KEY_DUPLICATED", name)
		}
		// go-redis's own lines (a Sentinel switching masters) come through
		// the instance's JSON logger, not bare on stderr.
		viaLogger += strings.Count(l.String(), `"component":"go-redis"`)
		for line := range strings.SplitSeq(l.String(), "\n") {
			if strings.HasPrefix(line, "redis: ") {
				t.Errorf("instance %s wrote a bare go-redis line into its JSON log: %q", name, line)
				break
			}
		}
	}
	if top.Mode == "sentinel" && viaLogger == 0 {
		t.Error("no go-redis line in the instances' logs after two failovers: is its logger wired?")
	}
	receivers, resumed, taken := 0, 0, 0
	for _, l := range logs {
		receivers += strings.Count(l.String(), "receiving Telegram's updates for every instance")
		resumed += strings.Count(l.String(), "resuming updates this instance held before it stopped")
		taken += strings.Count(l.String(), "taking over updates of an instance that stopped answering")
	}
	t.Logf("the receiver's lease changed hands %d times; updates resumed by a restarted instance %d times, taken over by another %d times",
		receivers-1, resumed, taken)
	if receivers < 2 && top.Mode != "sentinel" {
		t.Errorf("the receiver's lease changed hands %d times, want at least twice (a receiver was killed)", receivers-1)
	}
	if top.Mode == "cluster" {
		testkit.WantSpread(t, rdb, prefix)
	}
}

// serveRedisFlags are the flags of `kycbot sandbox serve` for the Redis
// topology top (on Sentinel, the bot waits for the replica).
func serveRedisFlags(top testkit.Topology) []string {
	flags := []string{"--redis", strings.Join(top.Addrs, ","), "--redis-mode", top.Mode}
	if top.Mode == "sentinel" {
		flags = append(flags, "--redis-master", top.MasterName, "--redis-wait-replicas", "1")
	}
	return flags
}

// deliverToHook changes the config `kycbot sandbox serve` wrote at
// cfgFile so that the results go to hook instead of nowhere (the
// sandbox's delivery.none), and returns it loaded.
func deliverToHook(t *testing.T, cfgFile string, hook *receiver) *config.Config {
	t.Helper()
	sandboxCfg, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	none := "delivery:\n  none: true\n"
	if !bytes.Contains(sandboxCfg, []byte(none)) {
		t.Fatalf("the sandbox's config lacks %q:\n%s", none, sandboxCfg)
	}
	sandboxCfg = bytes.Replace(sandboxCfg, []byte(none), fmt.Appendf(nil, "delivery:\n  webhook_url: %q\n  webhook_secret: %q\n  give_up_after: 24h\n", hook.srv.URL, webhookSecret), 1)
	if err := os.WriteFile(cfgFile, sandboxCfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// wantEachVerifiedOnce takes the report of `kycbot sandbox users` (users
// of the happy scenario), waits for the queue to empty
// and the webhook events of every user to reach hook, and wants each
// user verified exactly once: one verdict message, a verified status at
// level, one verified audit event and one webhook event. It returns how
// many users got no verdict and how many got more than one.
func wantEachVerifiedOnce(t *testing.T, rep demo.Report, st *store.Store, level string, hook *receiver) (lost, dup int) {
	t.Helper()
	n := len(rep.Users)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The queue empties and the webhook events arrive (an instance killed
	// while delivering hands the rest to another after the reclaim time).
	deadline := time.Now().Add(90 * time.Second)
	for {
		entries, _, err := st.Queue().Depth(ctx)
		hook.mu.Lock()
		delivered := len(hook.byUser)
		hook.mu.Unlock()
		if err == nil && entries == 0 && delivered >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after the users: %d updates left in the queue (%v), webhook events of %d of %d users", entries, err, delivered, n)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	verified := map[int64]int{}
	audited, err := handlerstest.AuditUsers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Audit().Events(ctx, func(e store.RecordedEvent) error {
		if e.Kind == "verified" {
			verified[e.UserID]++
		}
		return nil
	}, audited...); err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	eventsOf := map[int64]map[string]bool{}
	for id, ev := range hook.events {
		if hook.ok[id] > 0 {
			if eventsOf[ev.UserID] == nil {
				eventsOf[ev.UserID] = map[string]bool{}
			}
			eventsOf[ev.UserID][id] = true
		}
	}
	repeats := 0
	for _, c := range hook.ok {
		repeats += c - 1
	}
	hook.mu.Unlock()
	if repeats > 0 {
		t.Logf("%d webhook requests repeated an event already delivered (an instance killed mid-request, or an acknowledgement a Redis failover lost; receivers dedupe by event ID)", repeats)
	}
	bad := 0
	for _, u := range rep.Users {
		problems := []string{}
		if !u.OK || u.Outcome != store.StateVerified {
			problems = append(problems, fmt.Sprintf("outcome %q", u.Outcome))
		}
		if u.VerdictMessages != 1 {
			problems = append(problems, fmt.Sprintf("%d verdict messages", u.VerdictMessages))
		}
		if u.UserID != 0 {
			if s, err := st.Statuses().Get(ctx, u.UserID, level); err != nil || s.State != store.StateVerified {
				problems = append(problems, fmt.Sprintf("status %q (%v)", s.State, err))
			}
			if verified[u.UserID] != 1 {
				problems = append(problems, fmt.Sprintf("%d verified audit events", verified[u.UserID]))
			}
			if len(eventsOf[u.UserID]) != 1 {
				problems = append(problems, fmt.Sprintf("%d webhook events", len(eventsOf[u.UserID])))
			}
		}
		if len(problems) > 0 {
			bad++
			if bad <= 10 {
				t.Errorf("user %d (%d): %s", u.Index, u.UserID, strings.Join(problems, ", "))
			}
		}
	}
	for _, u := range rep.Users {
		switch {
		case u.VerdictMessages == 0:
			lost++
		case u.VerdictMessages > 1:
			dup++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d users did not end with exactly one verdict, status, audit event and webhook event", bad, n)
	}
	return lost, dup
}

// process is a kycbot process of a test.
type process struct {
	name   string
	cmd    *exec.Cmd
	logs   *testkit.Logs
	exited chan struct{}
	killed atomic.Bool
}

// startProcess runs kycbot (bin) with args and returns once a line of its
// output holds ready (at once when ready is empty).
func startProcess(t testing.TB, bin, name, ready string, args ...string) *process {
	t.Helper()
	return startProcessLogs(t, bin, name, ready, &testkit.Logs{}, args...)
}

// startProcessLogs is startProcess with the output appended to logs.
func startProcessLogs(t testing.TB, bin, name, ready string, logs *testkit.Logs, args ...string) *process {
	t.Helper()
	p, err := launch(bin, name, ready, logs, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch runs kycbot (bin) with args, its output appended to logs, and
// returns once a line of it holds ready (at once when ready is empty).
func launch(bin, name, ready string, logs *testkit.Logs, args ...string) (*process, error) {
	return launchIn(bin, name, ready, logs, "", nil, args...)
}

// launchIn is launch in the working directory dir (the test's when
// empty) with the environment env (the test's when nil).
func launchIn(bin, name, ready string, logs *testkit.Logs, dir string, env []string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{name: name, cmd: cmd, logs: logs, exited: make(chan struct{})}
	seen := make(chan struct{})
	var once sync.Once
	if ready == "" {
		once.Do(func() { close(seen) })
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if ready != "" && strings.Contains(sc.Text(), ready) {
				once.Do(func() { close(seen) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		close(p.exited)
	}()
	select {
	case <-seen:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("kycbot %s exited before it was ready:\n%s", name, logs.String())
	case <-time.After(3 * time.Minute):
		p.kill()
		return nil, fmt.Errorf("kycbot %s was not ready within 3 minutes:\n%s", name, logs.String())
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *process) kill() {
	p.killed.Store(true)
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop ends the process with SIGTERM (SIGKILL after a while) and waits.
func (p *process) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(45 * time.Second):
		t.Errorf("kycbot %s did not stop within 45 s of SIGTERM", p.name)
		p.kill()
	}
}

// balancer is the business's load balancer in front of the instances'
// request pages: it sends each request to the next instance that answers.
type balancer struct {
	addr string
	mu   sync.Mutex
	to   []string
	next int
}

func newBalancer(t testing.TB) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{addr: ln.Addr().String()}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return b
}

func (b *balancer) add(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.to = append(b.to, addr)
}

func (b *balancer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	to := append([]string(nil), b.to...)
	first := b.next
	b.next++
	b.mu.Unlock()
	for i := range to {
		target := to[(first+i)%len(to)]
		c, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			continue // a killed instance: the next one
		}
		_ = c.Close()
		failed := false
		proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
		proxy.ErrorHandler = func(http.ResponseWriter, *http.Request, error) { failed = true }
		rec := &recorder{header: http.Header{}}
		proxy.ServeHTTP(rec, r)
		if failed || rec.status == http.StatusServiceUnavailable {
			continue // starting or gone
		}
		for k, v := range rec.header {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.status)
		_, _ = rw.Write(rec.body.Bytes())
		return
	}
	http.Error(rw, "no instance answers", http.StatusBadGateway)
}

// recorder keeps a response until the balancer knows it is a good one.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// problemLines returns the last lines (at most last) of logs at level WARN or ERROR
// (JSON or text).
func problemLines(logs string, last int) string {
	var out []string
	for l := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return strings.Join(out[max(0, len(out)-last):], "\n")
}
