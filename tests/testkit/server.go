package testkit

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server of a test's own, on a free port, with its data
// in an append-only file fsynced at every write (no RDB snapshots): a
// restart, even after a crash, loses nothing. Fault tests hang, stop,
// crash and restart it; the shared test Redis (Addr) is never touched.
type Server struct {
	bin, dir, port string
	cmd            *exec.Cmd
	done           chan struct{} // closed when the process exited
}

// StartServer starts a Server and waits until it answers. When
// redis-server is not installed it skips the test, or fails it when CI
// is set. The server is killed when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not installed and CI is set: %v", err)
		}
		t.Skip("redis-server is not installed (apt-get install redis-server): skipping")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	s := &Server{bin: bin, dir: t.TempDir(), port: port}
	s.Start(t)
	t.Cleanup(s.Kill)
	return s
}

// Addr is the server's address (127.0.0.1 and its port).
func (s *Server) Addr() string { return "127.0.0.1:" + s.port }

// Start starts the server again after Stop or Kill, on the same port and
// data, and waits until it answers (10 s at most).
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "--port", s.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--dir", s.dir, "--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	s.done = done
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := rawPing(s.Addr())
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("redis-server exited at start: %s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			s.Kill()
			t.Fatalf("redis-server does not answer after 10s: %v: %s", err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down as an orchestrator would (SIGTERM) and
// waits for it to exit (5 s at most).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.Signal(t, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("redis-server did not exit within 5s of SIGTERM: %s", s.Log())
	}
}

// Kill kills the server (SIGKILL, as a crash) and waits for it to exit;
// it does nothing when the server is not running.
func (s *Server) Kill() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Signal sends sig to the server: SIGSTOP hangs it (connections are
// accepted, nothing answers), SIGCONT resumes it.
func (s *Server) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// Log returns the end of the server's log, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// rawPing sends PING over a plain connection (go-redis would log every
// refused dial while the server starts).
func rawPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if got := string(buf[:n]); got != "+PONG\r\n" {
		return errors.New("not ready: " + strings.TrimSpace(got))
	}
	return nil
}
