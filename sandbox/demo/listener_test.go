package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestWebListenerAcrossRuns: a restarted bot serves the address of the
// links already sent, and the socket stays taken between two runs
// (nothing else can listen there) while the page is down.
func TestWebListenerAcrossRuns(t *testing.T) {
	w, err := listenWeb("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	url := "http://" + w.Addr().String() + "/"
	serve := func(name string) *http.Server {
		srv := &http.Server{
			Handler:           http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, name) }),
			ReadHeaderTimeout: 5 * time.Second,
		}
		ln := w.run()
		if ln.Addr().String() != w.Addr().String() {
			t.Fatalf("a run listens on %s, want %s", ln.Addr(), w.Addr())
		}
		go func() { _ = srv.Serve(ln) }()
		return srv
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	get := func() (string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	first := serve("first")
	if got, err := get(); err != nil || got != "first" {
		t.Fatalf("first run: %q, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// Between the runs the address stays held, and the page is down.
	if ln, err := net.Listen("tcp", w.Addr().String()); err == nil {
		_ = ln.Close()
		t.Fatal("the address was free between two runs")
	}
	if got, err := get(); err == nil {
		t.Fatalf("answered with no run accepting: %q", got)
	}
	second := serve("second")
	defer second.Close()
	if got, err := get(); err != nil || got != "second" {
		t.Fatalf("second run: %q, %v", got, err)
	}

	// Closed for good: a run's Accept ends with net.ErrClosed.
	ln := w.run()
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after close: %v, want net.ErrClosed", err)
	}
}
