package sandbox

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// A simulated user made through the network only (Connect with settings
// read back from plain data, as another process would) signs up, and
// shares Passport data with a bot like any SimUser; later it signs in to
// the same account from another address.
func TestConnectSimUser(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	sb := startSandbox(t, Options{})
	bot, key, pem := addTestBot(t, sb, "kyc_remote_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	cfg, err := sb.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	file, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var read RemoteConfig
	if err := json.Unmarshal(file, &read); err != nil {
		t.Fatal(err)
	}
	remote, err := read.Remote()
	if err != nil {
		t.Fatal(err)
	}
	remote.Resolver = resolverFrom(t, "127.0.0.8")

	spec := UserSpec{Phone: "15550000701", FirstName: "Grace", LastName: "Hopper", LangCode: "de", CloudPassword: "pw-701"}
	profile := SampleProfile("remote-1")
	user, err := Connect(ctx, remote, spec, SimUserOptions{Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })
	if user.User.ID == 0 || user.User.FirstName != "Grace" || user.User.Phone != spec.Phone {
		t.Fatalf("Connect made %+v", user.User)
	}
	// Like AddUser, the account has the spec's cloud password from the start.
	if p, err := user.API().AccountGetPassword(ctx); err != nil || !p.HasPassword {
		t.Fatalf("cloud password after Connect: %v, %v", p, err)
	}

	if _, err := user.Start(ctx, bot.Username, "remote"); err != nil {
		t.Fatal(err)
	}
	in, err := b.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := in.entities.Users[user.User.ID]; in.msg == nil || in.msg.Message != "/start remote" || u == nil || u.LangCode != "de" {
		t.Fatalf("the bot got %+v from %+v", in.msg, u)
	}
	scope := fullScope()
	link := passportLink(t, bot.ID, pem, "nonce-remote", scope)
	got, err := user.OpenURL(ctx, requestPage(t, link).URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := user.FillForm(ctx, got); err != nil {
		t.Fatal(err)
	}
	sub, _, from := submission(ctx, t, b, key)
	if from != user.User.ID || sub.Nonce != "nonce-remote" {
		t.Fatalf("submission from %d with nonce %q", from, sub.Nonce)
	}
	checkSubmission(ctx, t, b, sub, profile, scope)
	if err := user.Close(); err != nil {
		t.Fatal(err)
	}

	// The number has an account now: Connect signs in (with the cloud
	// password) and the app starts from the account's current state.
	noPassword := spec
	noPassword.CloudPassword = ""
	if _, err := Connect(ctx, remote, noPassword, SimUserOptions{Profile: profile}); err == nil || !strings.Contains(err.Error(), "CloudPassword") {
		t.Fatalf("sign in without the cloud password: %v", err)
	}
	remote.Resolver = resolverFrom(t, "127.0.0.9")
	again, err := Connect(ctx, remote, spec, SimUserOptions{Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Close() })
	if again.User != user.User {
		t.Fatalf("signed in as %+v, signed up as %+v", again.User, user.User)
	}
	if _, err := b.Sender().Answer(in.entities, in.update).Text(ctx, "welcome back"); err != nil {
		t.Fatal(err)
	}
	if m, err := again.WaitMessage(ctx, nil); err != nil || m.Text != "welcome back" {
		t.Fatalf("after signing in the user got %+v, %v", m, err)
	}
	if n := len(again.Messages()); n != 1 {
		t.Fatalf("after signing in the user shows %d messages, want only the new one", n)
	}
}

func TestRemoteConfig(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, Options{})
	cfg, err := sb.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Remote()
	if err != nil {
		t.Fatal(err)
	}
	if r.DC != MainDC || len(r.PublicKeys) != 1 || !r.PublicKeys[0].RSA.Equal(sb.PublicKeys()[0].RSA) {
		t.Fatalf("round trip: %+v", r)
	}
	if o := r.DCList.Options; len(o) != 1 || o[0].ID != MainDC || o[0].IPAddress != "127.0.0.1" || o[0].Port != sb.Addr(MainDC).(*net.TCPAddr).Port {
		t.Fatalf("addresses: %+v", o)
	}
	for _, tc := range []struct {
		name string
		edit func(*RemoteConfig)
		want string
	}{
		{"no such DC", func(c *RemoteConfig) { c.DC = 9 }, "DCs 1 to 5"},
		{"no address for the DC", func(c *RemoteConfig) { c.Addrs = map[int]string{4: "127.0.0.1:1"} }, "no address for dc 2"},
		{"host name", func(c *RemoteConfig) { c.Addrs[2] = "localhost:443" }, "not an IP address"},
		{"no port", func(c *RemoteConfig) { c.Addrs[2] = "127.0.0.1" }, "not host:port"},
		{"bad port", func(c *RemoteConfig) { c.Addrs[2] = "127.0.0.1:70000" }, "1 to 65535"},
		{"no key", func(c *RemoteConfig) { c.PublicKeys = "" }, "no PEM block"},
		{"broken key", func(c *RemoteConfig) {
			c.PublicKeys = "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"
		}, "public_keys"},
	} {
		c := cfg
		c.Addrs = map[int]string{}
		for k, v := range cfg.Addrs {
			c.Addrs[k] = v
		}
		tc.edit(&c)
		if _, err := c.Remote(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}

	// Connect refuses what it cannot do, before any network use.
	if _, err := Connect(testContext(t, 5*time.Second), Remote{DC: 2}, UserSpec{Phone: "1"}, SimUserOptions{}); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("Connect without keys: %v", err)
	}
	if _, err := Connect(testContext(t, 5*time.Second), r, UserSpec{Phone: "1", Username: "ada"}, SimUserOptions{}); err == nil || !strings.Contains(err.Error(), "Username") {
		t.Errorf("Connect with a username: %v", err)
	}
}
