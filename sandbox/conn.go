package sandbox

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gotd/log"
)

// gate serializes tgtest's work between socket reads (see gatedListener).
// holder is the connection whose serving goroutine holds mu. tgtest calls
// the request handler from that goroutine, between two reads, so the
// handler learns from holder which connection (and so which source
// address) a request came on. holder is only written with mu held and read
// by the goroutine holding it.
type gate struct {
	mu     sync.Mutex
	holder *gatedConn
}

func (g *gate) lock(c *gatedConn) {
	g.mu.Lock()
	g.holder = c
}

func (g *gate) unlock() {
	g.holder = nil
	g.mu.Unlock()
}

// gatedListener wraps the TCP listener of a DC so that every accepted
// connection goes through a gatedConn sharing one gate.
//
// Why the gate: tgtest (td v0.162.0) keeps auth keys in a map that is
// written under one mutex (users.addSession, sessionsMux) and read under
// another (users.getSession, connsMux). Two clients connecting at once is a
// data race that `go test -race` reports. Every access to that map happens
// in a connection's serving goroutine between two reads from the socket, so
// holding a gate from the end of one read to the start of the next one
// serializes them. The handlers themselves return at once (requests are
// processed on their own goroutines), so the gate only covers decryption,
// dispatch and the server's side of key exchanges.
//
// The gate also tells the request handler which connection a request came
// on (gate.holder), which is how the servers know the source address of
// every use of an auth key (AUTH_KEY_DUPLICATED, see keyState).
//
// Why the pre-read: transport.Listener.Accept reads the transport header
// itself, and tgtest's accept loop stops the whole server on any Accept
// error, so a client that connects and drops before sending a byte (a
// dropped connection, a test cancelled mid-dial) would kill the DC.
// Connections are handed over only once their transport header arrived
// (acceptTransport). The pre-read is also where the obfuscated transport
// is taken off: tgtest only knows the plain codecs, so an obfuscated
// connection reaches it deobfuscated, its codec's plain header first.
type gatedListener struct {
	net.Listener
	gate       *gate
	keys       *keyState
	transports *transportCounts
	log        log.Helper

	ready chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu    sync.Mutex
	conns map[*gatedConn]struct{}
}

// headerTimeout bounds the wait for a new connection's first bytes.
const headerTimeout = 30 * time.Second

func newGatedListener(l net.Listener, g *gate, keys *keyState, transports *transportCounts, lg log.Helper) *gatedListener {
	gl := &gatedListener{
		Listener: l, gate: g, keys: keys, transports: transports, log: lg,
		ready: make(chan net.Conn), done: make(chan struct{}),
		conns: map[*gatedConn]struct{}{},
	}
	go gl.acceptLoop()
	return gl
}

func (l *gatedListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			_ = l.Close()
			return
		}
		go l.preread(c)
	}
}

// preread waits for the first bytes of a connection, then hands it to
// Accept; connections that close or stay silent are dropped.
func (l *gatedListener) preread(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(headerTimeout))
	name, r, w, err := acceptTransport(bufio.NewReader(c), c)
	if err != nil {
		// Nothing personal: the error says what was wrong with the header.
		l.log.Debug(context.Background(), "Connection refused", log.Error(err))
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	l.transports.add(name)
	gc := &gatedConn{Conn: c, r: r, w: w, gate: l.gate, owner: l, ip: remoteIP(c)}
	l.mu.Lock()
	l.conns[gc] = struct{}{}
	l.mu.Unlock()
	select {
	case l.ready <- gc:
	case <-l.done:
		l.forget(gc)
		_ = c.Close()
	}
}

func (l *gatedListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *gatedListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// dropAll closes every open connection at the TCP level, as a network
// failure would. The serving goroutines notice on their next read.
func (l *gatedListener) dropAll() int {
	l.mu.Lock()
	conns := make([]*gatedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Conn.Close()
	}
	return len(conns)
}

func (l *gatedListener) forget(c *gatedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.keys.closed(c)
}

// remoteIP is the source address of a connection (IPv4 addresses
// unmapped), or the zero Addr when it is not TCP.
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// gatedConn holds the gate between reads. held is only touched by the
// goroutine reading the connection (the acceptor for the transport header,
// then the server's serving goroutine, which is also the only one closing it
// through Close: faults close the inner connection directly).
type gatedConn struct {
	net.Conn
	// r reads the connection (deobfuscated, for an obfuscated transport);
	// w, when set, writes it (obfuscating).
	r     io.Reader
	w     io.Writer
	gate  *gate
	owner *gatedListener
	// ip is the source address of the connection.
	ip   netip.Addr
	held bool
	// layer is the schema layer the connection last declared with
	// invokeWithLayer (0: none yet). Only the serving goroutine, in the
	// request handler, touches it.
	layer int
}

func (c *gatedConn) Read(p []byte) (int, error) {
	if c.held {
		c.held = false
		c.gate.unlock()
	}
	n, err := c.r.Read(p)
	c.gate.lock(c)
	c.held = true
	return n, err
}

// Write writes to the connection, through the obfuscation when the
// connection is obfuscated. tgtest's connections never write concurrently.
func (c *gatedConn) Write(p []byte) (int, error) {
	if c.w != nil {
		return c.w.Write(p)
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) Close() error {
	if c.held {
		c.held = false
		c.gate.unlock()
	}
	c.owner.forget(c)
	return c.Conn.Close()
}
