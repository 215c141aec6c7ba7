package sandbox

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePort returns a TCP port of host nothing listens on.
func freePort(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp4", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// Options.Listen puts DC 2 at a fixed address, which a user reaches as
// the sandbox tells it, and which the next sandbox can take again after
// Close (a config written for other processes stays right across runs).
// Messages carry when the user's app got them, by the user's clock.
func TestListenFixedAddress(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	port := freePort(t, "127.0.0.1")
	addr := "127.0.0.1:" + strconv.Itoa(port)
	sb := startSandbox(t, Options{Listen: map[int]string{MainDC: addr}})
	if got := sb.Addr(MainDC).String(); got != addr {
		t.Fatalf("DC 2 listens on %s, want %s", got, addr)
	}
	rc, err := sb.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	if rc.Addrs[MainDC] != addr {
		t.Fatalf("the remote config tells DC 2 at %q, want %q", rc.Addrs[MainDC], addr)
	}

	bot, _, _ := addTestBot(t, sb, "kyc_listen_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)
	remote, err := rc.Remote()
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	u, err := Connect(ctx, remote, UserSpec{Phone: "15550000801", FirstName: "Ada"},
		SimUserOptions{Now: func() time.Time { return received }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	if _, err := u.Start(ctx, bot.Username, ""); err != nil {
		t.Fatal(err)
	}
	in, err := b.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sender().Answer(in.entities, in.update).Text(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	m, err := u.WaitMessage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "hello" || !m.Received.Equal(received) {
		t.Fatalf("the user got %q received at %v, want %q at %v", m.Text, m.Received, "hello", received)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	b.stop()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	again, err := Start(context.Background(), Options{ServerKey: sb.opts.ServerKey, Listen: map[int]string{MainDC: addr}})
	if err != nil {
		t.Fatalf("a second sandbox on the address of a closed one: %v", err)
	}
	t.Cleanup(func() { _ = again.Close() })
	if got := again.Addr(MainDC).String(); got != addr {
		t.Fatalf("the second sandbox's DC 2 listens on %s, want %s", got, addr)
	}
	// The address is taken now.
	if _, err := Start(context.Background(), Options{ServerKey: sb.opts.ServerKey, Listen: map[int]string{MainDC: addr}}); err == nil ||
		!strings.Contains(err.Error(), "DC 2: listen on "+addr) {
		t.Fatalf("a sandbox on a taken address: %v, want an error naming DC 2 and the address", err)
	}
}

// Listen may name another loopback host and port 0 (a free port), and
// puts the files DC where it says too.
func TestListenHostAndFilesDC(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, Options{FilesDC: 4, Listen: map[int]string{MainDC: "127.0.0.3:0", 4: "127.0.0.4:0"}})
	for dc, host := range map[int]string{MainDC: "127.0.0.3", 4: "127.0.0.4"} {
		a := sb.Addr(dc).(*net.TCPAddr)
		if a.IP.String() != host || a.Port == 0 {
			t.Errorf("DC %d listens on %s, want %s and a port", dc, a, host)
		}
	}
	rc, err := sb.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rc.Addrs[MainDC], "127.0.0.3:") || !strings.HasPrefix(rc.Addrs[4], "127.0.0.4:") {
		t.Fatalf("the remote config tells %v", rc.Addrs)
	}
}

// Start refuses a Listen it cannot honour, before listening anywhere.
func TestListenInvalid(t *testing.T) {
	t.Parallel()
	key, err := serverKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		listen map[int]string
		want   string
	}{
		{"a DC the sandbox does not run", map[int]string{4: "127.0.0.1:0"}, "runs no DC 4"},
		{"no port", map[int]string{MainDC: "127.0.0.1"}, "not host:port"},
		{"host name", map[int]string{MainDC: "localhost:0"}, "not an IPv4 address"},
		{"unspecified host", map[int]string{MainDC: "0.0.0.0:4000"}, "not 0.0.0.0"},
		{"IPv6", map[int]string{MainDC: "[::1]:0"}, "not an IPv4 address"},
		{"bad port", map[int]string{MainDC: "127.0.0.1:99999"}, "0 (any free port) to 65535"},
	} {
		sb, err := Start(context.Background(), Options{ServerKey: key, Listen: tc.listen})
		if err == nil {
			_ = sb.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
