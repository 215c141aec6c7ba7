package tests

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// digits splits a string into its runs of digits.
var digits = regexp.MustCompile(`[0-9]+`)

// mentions reports whether s holds the number id as a whole token.
func mentions(s string, id int64) bool {
	want := strconv.FormatInt(id, 10)
	for _, d := range digits.FindAllString(s, -1) {
		if d == want {
			return true
		}
	}
	return false
}

// recordsAbout lists the keys under prefix that name a user, and the
// values, hash fields, set members and stream entries that hold the user
// ID, and the audit events that contain it.
func recordsAbout(ctx context.Context, t *testing.T, c redis.UniversalClient, prefix string, id int64) []string {
	t.Helper()
	var keys []string
	if err := testkit.ScanAll(ctx, c, prefix, func(k string) { keys = append(keys, k) }); err != nil {
		t.Fatal(err)
	}
	uid := strconv.FormatInt(id, 10)
	var found []string
	for _, k := range keys {
		name := strings.TrimPrefix(k, prefix)
		if name == "{audit}:stream" {
			for _, m := range c.XRange(ctx, k, "-", "+").Val() {
				if e, _ := m.Values["e"].(string); strings.Contains(e, uid) {
					found = append(found, "audit event "+m.ID)
				}
			}
			continue
		}
		if mentions(name, id) {
			found = append(found, "key "+name)
			continue
		}
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			if v, _ := c.Get(ctx, k).Result(); v == uid {
				found = append(found, "the value of "+name)
			}
		case "hash":
			m, _ := c.HGetAll(ctx, k).Result()
			for f, v := range m {
				if f == uid || v == uid {
					found = append(found, "field "+f+" of "+name)
				}
			}
		case "set":
			if ok, _ := c.SIsMember(ctx, k, uid).Result(); ok {
				found = append(found, "a member of "+name)
			}
		case "zset":
			if _, err := c.ZScore(ctx, k, uid).Result(); err == nil {
				found = append(found, "a member of "+name)
			}
		case "stream":
			entries, _ := c.XRange(ctx, k, "-", "+").Result()
			for _, e := range entries {
				if e.Values["uid"] == uid {
					found = append(found, "entry "+e.ID+" of "+name)
				}
			}
		}
	}
	return found
}

// TestAdminCommands: an admin reads the stats and a user's status, resets
// the user and deletes them with the confirmation button; nothing about
// the user is left in Redis but the audit trail, and the user is told. A
// non-admin gets the answer to an unknown command. Then `kycbot audit
// verify` checks the run's audit trail, and finds the event changed.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	admin := w.admin(ctx)
	u := w.user("en", nil)
	w.verifyUser(ctx, u, "crm-9")
	uid := strconv.FormatInt(u.User.ID, 10)
	en := func(id string, data map[string]any) string { return w.text("en", id, data) }
	stateVerified := en(i18n.MsgAdminStateVerified, nil)

	// The admin is told of the verification.
	notice := en(i18n.MsgAdminVerified, map[string]any{"User": uid, "Level": w.Config.DefaultLevelName, "Ref": "crm-9"})
	// It says where the result went (this bot's OnVerified hook) and how
	// to look the user up.
	if !strings.Contains(notice, "OnVerified") || !strings.HasSuffix(notice, "/kyc_status "+uid) {
		t.Errorf("the admin's notice %q does not say where the result went and how to look it up", notice)
	}
	if _, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == notice }); err != nil {
		t.Fatalf("the admin was not told of the verification %q: %v", notice, err)
	}
	say := func(who *sandbox.SimUser, text string) sandbox.ChatMessage {
		t.Helper()
		if err := who.Send(ctx, w.Account.ID, text); err != nil {
			t.Fatal(err)
		}
		return w.next(ctx, who)
	}

	t.Run("not an admin", func(t *testing.T) {
		for _, cmd := range []string{"/kyc_stats", "/kyc_delete " + uid} {
			if m := say(u, cmd); m.Text != en(i18n.MsgHelpNotUnderstood, nil) {
				t.Errorf("%s from a non-admin: the bot said %q, want the answer to an unknown command", cmd, m.Text)
			}
		}
		if n := countKind(w.events(ctx, u.User.ID), "admin_denied"); n != 2 {
			t.Errorf("%d admin_denied events, want 2", n)
		}
		if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
			t.Errorf("status %s after a non-admin's /kyc_delete", st.State)
		}
	})

	t.Run("stats", func(t *testing.T) {
		m := say(admin, "/kyc_stats")
		line := en(i18n.MsgAdminStatsLine, map[string]any{"Level": w.Config.DefaultLevelName, "State": stateVerified, "Count": 1})
		if strings.Count(m.Text, line) != 2 { // today's transitions, and the users now verified
			t.Errorf("/kyc_stats answered %q, want %q twice", m.Text, line)
		}
	})

	t.Run("status", func(t *testing.T) {
		m := say(admin, "/kyc_status "+uid)
		// The time of the verdict as the admin's language writes it (CLDR).
		updated := w.Bot().Catalog().Language("en").DateTime(w.status(ctx, u.User.ID).UpdatedAt)
		for _, want := range []string{uid, stateVerified, "crm-9", w.Config.DefaultLevelName, "updated " + updated} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("/kyc_status answered %q, which lacks %q", m.Text, want)
			}
		}
	})

	t.Run("reset", func(t *testing.T) {
		m := say(admin, "/kyc_reset "+uid)
		item := en(i18n.MsgAdminResetItem, map[string]any{"Level": w.Config.DefaultLevelName, "State": stateVerified})
		if want := en(i18n.MsgAdminResetDone, map[string]any{"User": uid, "Levels": item}); m.Text != want {
			t.Errorf("/kyc_reset answered %q, want %q", m.Text, want)
		}
		if st := w.status(ctx, u.User.ID); st.State != store.StateNone {
			t.Errorf("status %s after the reset, want none", st.State)
		}
		// The user can start again: a new request (one more thing to delete).
		if m := say(u, "/verify"); !hasURLButton(m) {
			if _, err := u.WaitMessage(ctx, hasURLButton); err != nil {
				t.Fatalf("no request after the reset (the bot said %q): %v", m.Text, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		m := say(admin, "/kyc_delete "+uid)
		button, ok := m.Button(en(i18n.MsgButtonDeleteUser, map[string]any{"User": uid}))
		if !ok || len(button.Data) == 0 {
			t.Fatalf("/kyc_delete answered %q without the confirmation button", m.Text)
		}
		if recordsAbout(ctx, t, w.Redis, w.Config.Redis.Prefix, u.User.ID) == nil {
			t.Fatal("nothing about the user in Redis before the deletion: the check below would prove nothing")
		}
		kinds := w.events(ctx, u.User.ID)
		for _, k := range []string{"verified", "admin_status", "admin_reset"} {
			if !contains(kinds, k) {
				t.Errorf("audit events %v lack %s", kinds, k)
			}
		}
		if _, err := admin.Press(ctx, m, button); err != nil {
			t.Fatal(err)
		}
		done := w.next(ctx, admin)
		if !strings.HasPrefix(done.Text, strings.SplitN(en(i18n.MsgAdminDeleteDone, map[string]any{"User": uid, "Count": 0}), "0", 2)[0]) {
			t.Errorf("after the confirmation the admin got %q, want the deletion done", done.Text)
		}
		if m := w.next(ctx, u); m.Text != en(i18n.MsgDeletedNotice, nil) {
			t.Errorf("the deleted user got %q, want the deletion notice", m.Text)
		}
		// Nothing about the user, and nothing comes back a moment later
		// (the notice's result carries the user: the bot must not store
		// the access hash again).
		for range 5 {
			if left := recordsAbout(ctx, t, w.Redis, w.Config.Redis.Prefix, u.User.ID); len(left) > 0 {
				t.Fatalf("after the deletion Redis still holds about the user: %s", strings.Join(left, "; "))
			}
			time.Sleep(200 * time.Millisecond)
		}
		// The user's events stay, unlinked: none resolves to the user any
		// more, and the deletion is in the trail.
		if kinds := w.events(ctx, u.User.ID); len(kinds) != 0 {
			t.Errorf("after the deletion the audit events %v still resolve to the user", kinds)
		}
		var all []string
		if err := store.New(w.Redis, store.WithPrefix(w.Config.Redis.Prefix)).Audit().Events(ctx, func(e store.RecordedEvent) error {
			all = append(all, e.Kind)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"verified", "admin_status", "admin_reset", "deleted", "admin_delete"} {
			if !contains(all, k) {
				t.Errorf("audit events %v lack %s", all, k)
			}
		}
		if st := w.status(ctx, u.User.ID); st.State != store.StateNone {
			t.Errorf("status %s after the deletion", st.State)
		}
	})

	t.Run("audit verify", func(t *testing.T) {
		if err := w.StopBot(); err != nil { // nothing appends while we look
			t.Fatal(err)
		}
		yml := strings.NewReplacer("{{BOT_TOKEN}}", w.Account.Token, "{{PUBLIC_URL}}", "http://127.0.0.1:1",
			"{{REDIS_ADDR}}", testkit.Addr, "{{REDIS_PREFIX}}", w.Config.Redis.Prefix).Replace(demo.DefaultConfig())
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "bot.pem") // the audit key derives from it
		if err := os.WriteFile(keyFile, passport.MarshalPrivateKey(w.Key), 0o600); err != nil {
			t.Fatal(err)
		}
		yml = strings.Replace(yml, "passport:\n", "passport:\n  private_key_file: "+keyFile+"\n", 1)
		file := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := runKycbot(t, "audit", "verify", "--config", file)
		if code != 0 || !strings.Contains(out, "verifies") {
			t.Fatalf("kycbot audit verify exited %d:\n%s", code, out)
		}

		// Change one event in the middle of the trail: a verification
		// becomes a rejection, the rest untouched.
		stream := w.Config.Redis.Prefix + "{audit}:stream"
		entries, err := w.Redis.XRange(ctx, stream, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var id, changed string
		for _, e := range entries {
			rec, _ := e.Values["e"].(string)
			if strings.Contains(rec, `"kind":"verified"`) && id == "" {
				id, changed = e.ID, strings.Replace(rec, `"kind":"verified"`, `"kind":"rejected"`, 1)
			}
		}
		if id == "" || id == entries[len(entries)-1].ID {
			t.Fatalf("no verified event in the middle of the %d events", len(entries))
		}
		// Streams cannot be edited: rewrite the whole stream, same IDs.
		rewrite := redis.NewScript(`
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
for _, e in ipairs(entries) do
  local f = e[2]
  if e[1] == ARGV[1] then
    for i = 1, #f, 2 do
      if f[i] == 'e' then f[i + 1] = ARGV[2] end
    end
  end
  redis.call('XADD', KEYS[1], e[1], unpack(f))
end
return #entries`)
		if n, err := rewrite.Run(ctx, w.Redis, []string{stream}, id, changed).Int(); err != nil || n != len(entries) {
			t.Fatalf("rewrite the audit stream: %d entries, %v", n, err)
		}
		out, code = runKycbot(t, "audit", "verify", "--config", file)
		if code != 1 || !strings.Contains(out, "BROKEN at event "+id) {
			t.Fatalf("after changing event %s, kycbot audit verify exited %d:\n%s\nwant 1, naming the event", id, code, out)
		}
	})
}
