package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// needle is one piece of a sample user's personal data that must not rest
// anywhere in clear.
type needle struct {
	what string
	b    []byte
}

// isoDate writes a Telegram Passport date (DD.MM.YYYY) as the webhook
// does since schema 3 (YYYY-MM-DD).
func isoDate(t *testing.T, s string) string {
	t.Helper()
	d, err := passport.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d.ISO()
}

// personalData lists what the users of seeds shared in scenario sc: names,
// birth date, document number, address, phone, email, and pieces of every
// scan (raw and in base64 at each alignment).
func personalData(t *testing.T, seed string, sc demo.Scenario, now time.Time) []needle {
	t.Helper()
	p, err := sc.Profile(seed, now)
	if err != nil {
		t.Fatal(err)
	}
	pd := p[passport.TypePersonalDetails].Fields
	dl := p[passport.TypeDriverLicense]
	addr := p[passport.TypeAddress].Fields
	out := []needle{
		{"last name", []byte(pd["last_name"])},
		{"native last name", []byte(pd["last_name_native"])},
		{"birth date", []byte(pd["birth_date"])},
		{"birth date as the webhook writes it", []byte(isoDate(t, pd["birth_date"]))},
		{"document number", []byte(dl.Fields["document_no"])},
		{"street", []byte(addr["street_line1"])},
		{"phone", []byte(p[passport.TypePhoneNumber].Phone)},
		{"email", []byte(p[passport.TypeEmail].Email)},
	}
	scans := []*sandbox.Scan{dl.FrontSide, dl.ReverseSide, dl.Selfie,
		{Text: "demo/selfie-2", Width: 480, Height: 480}} // the Fix scenario's new selfie
	for i := range dl.Translation {
		scans = append(scans, &dl.Translation[i])
	}
	for i := range p[passport.TypeUtilityBill].Files {
		scans = append(scans, &p[passport.TypeUtilityBill].Files[i])
	}
	for _, s := range scans {
		if s == nil {
			continue
		}
		jpeg, err := s.JPEG()
		if err != nil {
			t.Fatal(err)
		}
		mid := jpeg[len(jpeg)/2 : len(jpeg)/2+48]
		out = append(out, needle{"scan " + s.Text, mid})
		for shift := range 3 {
			enc := base64.StdEncoding.EncodeToString(mid[shift:])
			out = append(out, needle{"scan " + s.Text + " in base64", []byte(enc[4 : len(enc)-4])})
		}
	}
	return out
}

// findIn returns what of needles b holds, described with where.
func findIn(where string, b []byte, needles []needle) []string {
	var found []string
	for _, n := range needles {
		if bytes.Contains(b, n.b) {
			found = append(found, fmt.Sprintf("%s holds the %s in clear", where, n.what))
		}
	}
	return found
}

// redisContents returns every key under prefix with its value (strings,
// hashes, lists, sets, sorted sets and streams), as one byte slice per key.
func redisContents(t *testing.T, ctx context.Context, rdb redis.UniversalClient, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var keys []string
	if err := testkit.ScanAll(ctx, rdb, prefix, func(k string) { keys = append(keys, k) }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		var buf bytes.Buffer
		buf.WriteString(k + "\n")
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			v, _ := rdb.Get(ctx, k).Bytes()
			buf.Write(v)
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				buf.WriteString(f + "\x00" + v + "\x00")
			}
		case "list":
			for _, v := range rdb.LRange(ctx, k, 0, -1).Val() {
				buf.WriteString(v + "\x00")
			}
		case "set":
			for _, v := range rdb.SMembers(ctx, k).Val() {
				buf.WriteString(v + "\x00")
			}
		case "zset":
			for _, z := range rdb.ZRangeWithScores(ctx, k, 0, -1).Val() {
				fmt.Fprintf(&buf, "%v\x00", z.Member)
			}
		case "stream":
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					fmt.Fprintf(&buf, "%s\x00%v\x00", f, v)
				}
			}
		case "none": // expired meanwhile
		default:
			t.Errorf("redis key %s has type %s, which this test does not read", k, typ)
		}
		out[k] = buf.Bytes()
	}
	return out
}

// dirContents returns every regular file under dir with its content.
func dirContents(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while we walk
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		out[path] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNoPersonalDataAtRest runs `kycbot run` as a process against the
// sandbox, with scans delivered (include_files and include_data on), and
// users playing the three scenarios with the sample data: verified after
// a fix, verified, rejected. Then one more user shares while downloads
// crawl, and the bot is killed with SIGKILL while it holds that user's
// scans, and started again; the user is verified all the same. At each
// point, every Redis key and value under the bot's prefix (streams
// included), the bot's temp and working directories, its logs and its
// /metrics are searched for the users' names, birth dates, document
// numbers, addresses, phone numbers, emails and pieces of their scans:
// none may be there in clear. The staging directory of the killed process
// is gone once it is back.
func TestNoPersonalDataAtRest(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	tmp, work := filepath.Join(dir, "tmp"), filepath.Join(dir, "work")
	for _, d := range []string{tmp, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}

	served, server, keyFile := serveInProcess(t, ctx, dir)
	prefix := demo.NewPrefix()
	t.Cleanup(func() { _, _ = demo.DeleteKeys(context.Background(), rdb, prefix) })
	web, ops := freeAddr(t), freeAddr(t)
	hook := newReceiver(t, time.Now)
	raw, err := demo.ProcessConfig{BotToken: served.Account.Token, Server: server, PrivateKeyFile: keyFile,
		PublicURL: "http://" + web, Listen: web, RedisAddr: strings.Join(top.Addrs, ","), RedisMode: top.Mode, RedisMasterName: top.MasterName, RedisPrefix: prefix}.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["web"].(map[string]any)["ops_listen"] = ops
	// Every scan on disk, as large ones are: the temp directory is
	// searched (the default keeps small scans in memory, TestScansInMemory).
	doc["passport"].(map[string]any)["scan_memory_mb"] = 0
	doc["delivery"] = map[string]any{"webhook_url": hook.srv.URL, "webhook_secret": webhookSecret,
		"include_data": true, "include_files": true, "give_up_after": "24h"}
	if raw, err = yaml.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "kycbot.yaml")
	if err := os.WriteFile(cfgFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := demo.Texts(cfg)
	if err != nil {
		t.Fatal(err)
	}

	logs := &testkit.Logs{}
	env := append(os.Environ(), "TMPDIR="+tmp)
	runArgs := []string{"run", "--config", cfgFile, "--instance", "atrest", "--log-format", "json", "--log-level", "debug"}
	p, err := launchIn(bin, "atrest", "is running as instance", logs, work, env, runArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.stop(t) }()

	var needles []needle
	play := func(ctx context.Context, i int, seed string, sc demo.Scenario) error {
		profile, err := sc.Profile(seed, time.Now())
		if err != nil {
			return err
		}
		u, err := sandbox.Connect(ctx, served.Sandbox.Remote(), sandbox.UserSpec{Phone: fmt.Sprintf("4916%09d", time.Now().UnixNano()%1e8+int64(i)),
			FirstName: "Sim", LastName: fmt.Sprintf("User%d", i), LangCode: "en", CloudPassword: "atrest"},
			sandbox.SimUserOptions{Profile: profile})
		if err != nil {
			return err
		}
		defer func() { _ = u.Close() }()
		_, err = demo.Play(ctx, u, sc, demo.PlayOptions{Texts: texts, Scope: cfg.DefaultLevel().Scope})
		return err
	}
	seeds := map[string]demo.Scenario{"PIIFIX01": demo.Fix, "PIIHAP02": demo.Happy, "PIIFIN03": demo.Final, "PIIKIL04": demo.Happy}
	for seed, sc := range seeds {
		needles = append(needles, personalData(t, seed, sc, time.Now())...)
	}

	// check searches everything the bot keeps for the users' data.
	check := func(t *testing.T, when string, withMetrics bool) {
		t.Helper()
		var found []string
		for k, v := range redisContents(t, ctx, rdb, prefix) {
			found = append(found, findIn("redis key "+k, v, needles)...)
		}
		for _, d := range []string{tmp, work} {
			for path, b := range dirContents(t, d) {
				found = append(found, findIn(path, b, needles)...)
			}
		}
		found = append(found, findIn("the bot's logs", []byte(logs.String()), needles)...)
		if withMetrics {
			resp, err := http.Get("http://" + ops + "/metrics")
			if err != nil {
				t.Fatalf("%s: /metrics: %v", when, err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("kycbot_")) {
				t.Fatalf("%s: /metrics answered %d without kycbot series", when, resp.StatusCode)
			}
			found = append(found, findIn("/metrics", body, needles)...)
		}
		for _, f := range found {
			t.Errorf("%s: %s", when, f)
		}
	}

	// The three scenarios, one after the other, each with every scan.
	for i, seed := range []string{"PIIFIX01", "PIIHAP02", "PIIFIN03"} {
		if err := play(ctx, i, seed, seeds[seed]); err != nil {
			t.Fatalf("%s (%s): %v", seeds[seed], seed, err)
		}
	}
	hook.wait(t, ctx, "the webhook events of both verified users and the rejected one", func() bool { return len(hook.ok) >= 3 }, nil)
	// The search finds what is there: the webhook events (include_data)
	// hold the users' names, birth dates and document numbers in clear.
	hook.mu.Lock()
	events, err := json.Marshal(hook.events)
	hook.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := findIn("the webhook events", events, needles); len(got) < 3 {
		t.Fatalf("the search finds too little of the users' data in the webhook events, which hold it: %q", got)
	}
	check(t, "after verified, fix and rejected", true)

	// A user shares while downloads crawl; the bot is killed while it
	// holds the scans.
	served.Sandbox.SetBandwidth(64 << 10)
	played := make(chan error, 1)
	go func() { played <- play(ctx, 3, "PIIKIL04", seeds["PIIKIL04"]) }()
	staged := func() []string {
		var files []string
		for path, b := range dirContents(t, tmp) {
			if len(b) > 0 && strings.Contains(filepath.Base(path), "scan") {
				files = append(files, path)
			}
		}
		return files
	}
	var before []string
	for before == nil {
		select {
		case err := <-played:
			t.Fatalf("the user finished before the bot staged a scan: %v", err)
		case <-ctx.Done():
			t.Fatal("the bot staged no scan")
		case <-time.After(20 * time.Millisecond):
		}
		before = staged()
	}
	p.kill()
	check(t, "right after SIGKILL with "+fmt.Sprint(len(before))+" scans staged", false)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var leftovers []string
	for _, e := range entries {
		leftovers = append(leftovers, e.Name())
	}
	if len(leftovers) == 0 {
		t.Fatal("the killed process left nothing in the temp directory, although it was staging scans")
	}
	t.Logf("killed with %d scans staged; in the temp directory: %q", len(before), leftovers)
	served.Sandbox.SetBandwidth(0)
	if p, err = launchIn(bin, "atrest", "is running as instance", logs, work, env, runArgs...); err != nil {
		t.Fatal(err)
	}
	if err := <-played; err != nil {
		t.Fatalf("the user whose submission the SIGKILL cut: %v", err)
	}
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(tmp, name)); err == nil {
			t.Errorf("%s, left by the killed process, is still in the temp directory after the restart", name)
		}
	}
	st := store.New(rdb, store.WithPrefix(prefix))
	stats, err := st.Statuses().Stats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.Total[cfg.DefaultLevelName][store.StateVerified]; got != 3 {
		t.Errorf("%d users verified, want 3", got)
	}
	hook.wait(t, ctx, "the webhook event of the user whose submission the SIGKILL cut", func() bool { return len(hook.ok) >= 4 }, nil)
	check(t, "after the restart", true)
}
