package demo

import (
	"errors"
	"net"
	"sync"
	"time"
)

// webListener holds the main instance's web address for the whole life of
// an Env. The links a user already got point there, so a restarted bot
// must serve the same address; closing the socket between two runs and
// listening again would let anything else on the machine take the port
// in between (an outgoing connection's ephemeral port, a listener on port
// 0), which made restarts fail now and then with "address already in
// use". Each run of the bot gets its own net.Listener from run: closing it
// ends that run's Accept and leaves the socket open. A connection that
// arrives while no run accepts is closed at once, so that the page is
// down while the bot is, as a stopped bot's would be.
type webListener struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	runs int           // runs not closed
	idle chan struct{} // closed while runs is 0
}

// listenWeb listens on addr and accepts until close.
func listenWeb(addr string) (*webListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	w := &webListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), idle: make(chan struct{})}
	close(w.idle)
	go w.pump()
	return w, nil
}

// pump accepts connections and hands each to the run that accepts next.
func (w *webListener) pump() {
	for {
		c, err := w.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: try again shortly, as
			// net/http does.
			select {
			case <-time.After(10 * time.Millisecond):
				continue
			case <-w.done:
				return
			}
		}
		w.handOver(c)
	}
}

// handOver gives c to the next Accept of a run, or closes it when no run
// is left or with the listener.
func (w *webListener) handOver(c net.Conn) {
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	select {
	case w.conns <- c:
	case <-idle:
		_ = c.Close()
	case <-w.done:
		_ = c.Close()
	}
}

// Addr is the address the listener holds.
func (w *webListener) Addr() net.Addr { return w.ln.Addr() }

// close closes the socket; the runs' Accept return net.ErrClosed.
func (w *webListener) close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		err = w.ln.Close()
	})
	return err
}

// run returns the listener of one run of the bot.
func (w *webListener) run() net.Listener {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs == 0 {
		w.idle = make(chan struct{})
	}
	w.runs++
	return &runListener{w: w, closed: make(chan struct{})}
}

// ended is called once by each run's Close.
func (w *webListener) ended() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs--; w.runs == 0 {
		close(w.idle)
	}
}

// runListener is a webListener seen by one run of the bot.
type runListener struct {
	w      *webListener
	closed chan struct{}
	once   sync.Once
}

// Accept waits for the next connection, until this run or the listener
// is closed.
func (r *runListener) Accept() (net.Conn, error) {
	select {
	case c := <-r.w.conns:
		select {
		case <-r.closed:
			// Closed while the connection came: another run's, if any.
			go r.w.handOver(c)
			return nil, r.errClosed()
		default:
			return c, nil
		}
	case <-r.closed:
		return nil, r.errClosed()
	case <-r.w.done:
		return nil, r.errClosed()
	}
}

func (r *runListener) errClosed() error {
	return &net.OpError{Op: "accept", Net: "tcp", Addr: r.w.Addr(), Err: net.ErrClosed}
}

// Close ends this run's Accept; the socket stays open for the next run.
func (r *runListener) Close() error {
	r.once.Do(func() {
		close(r.closed)
		r.w.ended()
	})
	return nil
}

// Addr is the address the listener holds.
func (r *runListener) Addr() net.Addr { return r.w.Addr() }
