package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/gotd/td/mtproxy"
	"github.com/gotd/td/mtproxy/obfuscator"
	"github.com/gotd/td/proto/codec"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/transport"
)

// Every DC accepts every transport on its one port: the plain codecs and
// the obfuscated ones (what official apps, MTProxy and browser clients
// speak). A user signs up, sets its cloud password (SRP) and talks to a
// bot over each, and the servers count the connection under that
// transport.
func TestTransports(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 120*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_transport_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	for i, tc := range []struct {
		want       string
		protocol   transport.Protocol
		obfuscated bool
	}{
		{TransportAbridged, transport.Abridged, false},
		{TransportIntermediate, transport.Intermediate, false},
		{TransportPaddedIntermediate, transport.PaddedIntermediate, false},
		{TransportFull, transport.Full, false},
		{TransportObfuscatedAbridged, transport.Abridged, true},
		{TransportObfuscatedIntermediate, transport.Intermediate, true},
		{TransportObfuscatedPaddedIntermediate, transport.PaddedIntermediate, true},
	} {
		t.Run(tc.want, func(t *testing.T) {
			before := sb.Transports()
			remote := sb.Remote()
			remote.Resolver = dcs.Plain(dcs.PlainOptions{Protocol: tc.protocol, Obfuscated: tc.obfuscated})
			phone := "1555000090" + string(rune('0'+i))
			u, err := Connect(ctx, remote, UserSpec{Phone: phone, FirstName: "Ada", CloudPassword: "pw-transport"}, SimUserOptions{})
			if err != nil {
				t.Fatalf("sign up over %s: %v", tc.want, err)
			}
			t.Cleanup(func() { _ = u.Close() })
			if _, err := u.Start(ctx, bot.Username, "transport"); err != nil {
				t.Fatal(err)
			}
			in, err := b.next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.msg == nil || in.msg.Message != "/start transport" {
				t.Fatalf("the bot got %+v, want /start transport", in)
			}
			after := sb.Transports()
			if after[tc.want] <= before[tc.want] {
				t.Fatalf("connections by transport went from %v to %v: none over %s", before, after, tc.want)
			}
			for name, n := range after {
				if name != tc.want && name != TransportIntermediate && n != before[name] {
					// The bot and the other users connect with the
					// intermediate transport (sb.Resolver).
					t.Errorf("a connection over %s counted as %s", tc.want, name)
				}
			}
		})
	}
	if got := sb.Transports(); len(got) != len(TransportNames()) {
		t.Errorf("transports seen: %v, want every one of %v", got, TransportNames())
	}
}

// plainTransport tells the plain transports from the start of an
// obfuscation header by the first bytes, or asks for more.
func TestPlainTransport(t *testing.T) {
	t.Parallel()
	obfuscated := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0}
	for _, tc := range []struct {
		name     string
		head     []byte
		want     string
		complete bool
	}{
		{"nothing yet", nil, "", false},
		{"abridged", []byte{0xef}, TransportAbridged, true},
		{"three bytes", []byte{0xee, 0xee, 0xee}, "", false},
		{"intermediate", []byte{0xee, 0xee, 0xee, 0xee}, TransportIntermediate, true},
		{"padded intermediate", []byte{0xdd, 0xdd, 0xdd, 0xdd, 1}, TransportPaddedIntermediate, true},
		{"four bytes of something else", []byte{0x28, 0, 0, 0}, "", false},
		{"full: length and sequence number 0", []byte{0x28, 0, 0, 0, 0, 0, 0, 0}, TransportFull, true},
		{"obfuscation header", obfuscated[:8], "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, complete := plainTransport(tc.head)
			if got != tc.want || complete != tc.complete {
				t.Fatalf("plainTransport(% x) = %q, %v; want %q, %v", tc.head, got, complete, tc.want, tc.complete)
			}
		})
	}
}

// obfuscatedHeader returns what a client sends to open an obfuscated
// connection with protocol tag tag (and the MTProxy secret, when not
// nil) and then payload, as gotd's obfuscator writes it.
func obfuscatedHeader(t testing.TB, tag [4]byte, secret []byte, payload []byte) []byte {
	t.Helper()
	c1, c2 := net.Pipe()
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c2)
		out <- b
	}()
	o := obfuscator.Obfuscated2(rand.Reader, c1)
	if err := o.Handshake(tag, MainDC, mtproxy.Secret{Secret: secret}); err != nil {
		t.Fatal(err)
	}
	if len(payload) > 0 {
		if _, err := o.Write(payload); err != nil {
			t.Fatal(err)
		}
	}
	_ = c1.Close()
	return <-out
}

// A connection whose start names no transport the servers know, or that
// stops before it does, is closed; the DC goes on serving the others.
func TestTransportRefused(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 60*time.Second)
	sb := startSandbox(t, Options{})
	addr := sb.Addr(MainDC).String()
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"obfuscation header naming no codec", obfuscatedHeader(t, [4]byte{1, 2, 3, 4}, nil, nil)},
		{"obfuscation header under an MTProxy secret", obfuscatedHeader(t, codec.Intermediate{}.ObfuscatedTag(), bytes.Repeat([]byte{0x5a}, 16), nil)},
		{"half an obfuscation header", obfuscatedHeader(t, codec.Intermediate{}.ObfuscatedTag(), nil, nil)[:40]},
		{"three bytes", []byte{0xee, 0xee, 0xee}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp4", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			if len(tc.send) < obfuscatedHeaderLen {
				// The server waits for the rest: stop sending.
				_ = c.(*net.TCPConn).CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			n, err := c.Read(make([]byte, 16))
			if n != 0 || (!errors.Is(err, io.EOF) && !isReset(err)) {
				t.Fatalf("the server answered %d bytes, %v; want the connection closed", n, err)
			}
		})
	}
	if got := sb.Transports(); len(got) != 0 {
		t.Errorf("refused connections counted: %v", got)
	}
	// The DC still serves.
	remote := sb.Remote()
	remote.Resolver = dcs.Plain(dcs.PlainOptions{Protocol: transport.Abridged, Obfuscated: true})
	u, err := Connect(ctx, remote, UserSpec{Phone: "15550000911", FirstName: "Ada"}, SimUserOptions{})
	if err != nil {
		t.Fatalf("sign up after the refused connections: %v", err)
	}
	_ = u.Close()
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// A client declaring a layer the servers do not speak gets
// CONNECTION_LAYER_INVALID_<the layer they speak> at its first
// invokeWithLayer(initConnection), and nothing else: no half-parsed
// answer. A request of a layer-229 client that declares another layer
// inside is refused the same way, and the client's next request, declaring
// 229 again, is served.
func TestLayerRefused(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 60*time.Second)
	sb := startSandbox(t, Options{})
	if got := Layers(); !slices.Equal(got, []int{tg.Layer}) {
		t.Fatalf("Layers() = %v, want [%d]", got, tg.Layer)
	}
	// One auth key for all (a key exchange is slow on a loaded machine).
	storage := &session.StorageMemory{}
	for _, layer := range []int{198, tg.Layer - 1, tg.Layer + 1} {
		t.Run("layer "+strconv.Itoa(layer), func(t *testing.T) {
			opts := sb.Options(storage)
			opts.Layer = layer
			opts.ReconnectionBackoff = func() backoff.BackOff { return &backoff.StopBackOff{} }
			client := telegram.NewClient(1, "test", opts)
			ran := false
			err := client.Run(ctx, func(context.Context) error {
				ran = true
				return nil
			})
			if ran {
				t.Fatal("the client of another layer got a connection that works")
			}
			rpcErr, ok := tgerr.As(err)
			if !ok {
				t.Fatalf("got %v, want an RPC error", err)
			}
			if rpcErr.Code != 400 || rpcErr.Type != "CONNECTION_LAYER_INVALID" || rpcErr.Argument != tg.Layer || rpcErr.Message != ErrLayer {
				t.Fatalf("got %d %s (type %s, argument %d), want 400 %s", rpcErr.Code, rpcErr.Message, rpcErr.Type, rpcErr.Argument, ErrLayer)
			}
		})
	}
	if n := sb.Calls(tg.HelpGetConfigRequestTypeID); n == 0 {
		t.Error("the refused help.getConfig were not counted")
	}

	u, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000921"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	var users tg.UserClassVector
	err = u.client.Invoke(ctx, &tg.InvokeWithLayerRequest{Layer: 198, Query: &tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}}}, &users)
	if !tgerr.Is(err, "CONNECTION_LAYER_INVALID") {
		t.Fatalf("users.getUsers in layer 198: got %v, want %s", err, ErrLayer)
	}
	got, err := u.API().UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	if err != nil {
		t.Fatalf("users.getUsers in layer %d after the refused one: %v", tg.Layer, err)
	}
	if len(got) != 1 {
		t.Fatalf("users.getUsers answered %d users", len(got))
	}
	if self, ok := got[0].(*tg.User); !ok || self.ID != u.User.ID {
		t.Fatalf("users.getUsers answered %v, want user %d", got[0], u.User.ID)
	}
}

// FuzzAcceptTransport: whatever a connection starts with, the transport
// detection answers a known transport or an error, never a panic.
func FuzzAcceptTransport(f *testing.F) {
	f.Add([]byte{0xef, 0x0a})
	f.Add([]byte{0xee, 0xee, 0xee, 0xee, 0x28, 0, 0, 0})
	f.Add([]byte{0xdd, 0xdd, 0xdd, 0xdd, 0x28, 0, 0, 0})
	f.Add([]byte{0x28, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add(obfuscatedHeader(f, codec.Abridged{}.ObfuscatedTag(), nil, []byte{1, 2, 3}))
	f.Add(obfuscatedHeader(f, codec.PaddedIntermediate{}.ObfuscatedTag(), nil, nil))
	f.Add(obfuscatedHeader(f, [4]byte{1, 2, 3, 4}, nil, nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		name, r, _, err := acceptTransport(bufio.NewReader(bytes.NewReader(data)), io.Discard)
		if err != nil {
			return
		}
		if !slices.Contains(TransportNames(), name) {
			t.Fatalf("unknown transport %q", name)
		}
		if _, err := io.ReadAll(io.LimitReader(r, 1<<16)); err != nil {
			t.Fatalf("read after the header: %v", err)
		}
	})
}
