package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// go-redis's lines come through the logger of 'kycbot run', in its format.
func TestRedisLog(t *testing.T) {
	var out bytes.Buffer
	rl := &redisLog{}
	rl.to.Store(slog.New(slog.NewJSONHandler(&out, nil)))
	rl.Printf(context.Background(), "sentinel: new master=%q addr=%q\n", "kycbot-test", "127.0.0.1:26379")
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q (%v)", out.String(), err)
	}
	if line["msg"] != `redis: sentinel: new master="kycbot-test" addr="127.0.0.1:26379"` || line["level"] != "WARN" || line["component"] != "go-redis" {
		t.Errorf("logged %v", line)
	}
}
