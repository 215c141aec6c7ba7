package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestDescribePersistence(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ps      []persistence
		err     error
		want    string // in the warning; "" for none
		checked bool
	}{
		{"AOF", []persistence{{appendonly: "yes"}}, nil, "", true},
		{"RDB", []persistence{{save: "3600 1 300 100", appendonly: "no"}}, nil, "", true},
		{"neither", []persistence{{save: "", appendonly: "no"}}, nil, `Redis keeps its data in memory only (appendonly no, save "")`, true},
		{"one master of a cluster without", []persistence{{appendonly: "yes"}, {appendonly: "no"}}, nil, "in memory only", true},
		{"CONFIG disabled", nil, errors.New("ERR unknown command 'CONFIG', with args beginning with: 'GET' 'save'"), "the server refuses CONFIG GET, as managed Redis services often do", false},
		{"ACL", nil, errors.New("NOPERM this user has no permissions to run the 'config|get' command"), "refuses CONFIG GET", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, checked := describePersistence(tt.ps, tt.err)
			if checked != tt.checked || (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("describePersistence = %q, %v; want %q, %v", got, checked, tt.want, tt.checked)
			}
			if got != "" && !strings.Contains(got, "audit trail") {
				t.Errorf("the warning %q does not say what would be lost", got)
			}
		})
	}
}

// check-config asks the Redis of the config whether it persists, and says
// what it found: on this machine's Redis, whatever it is set to; on a
// Redis that does not answer, that it could not check.
func TestCheckConfigRedisPersistence(t *testing.T) {
	clearSecretEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	save, err1 := rdb.ConfigGet(context.Background(), "save").Result()
	aof, err2 := rdb.ConfigGet(context.Background(), "appendonly").Result()
	if err1 != nil || err2 != nil {
		t.Skipf("no Redis with CONFIG GET on 127.0.0.1:6379: %v %v", err1, err2)
	}
	want := "Redis persistence: on"
	if !(persistence{save: save["save"], appendonly: aof["appendonly"]}).durable() {
		want = "Warning: Redis keeps its data in memory only"
	}
	p := writeConfig(t, "levels: {a: {scope: [email]}}\ndelivery: {none: true}\n")
	if r := runCLI(t, nil, "check-config", "--config", p); r.code != exitOK || !strings.Contains(r.stdout, want) {
		t.Errorf("exit status %d, stdout lacks %q:\n%s", r.code, want, r.stdout)
	}
	p = writeConfig(t, "levels: {a: {scope: [email]}}\ndelivery: {none: true}\nredis: {addrs: [\"127.0.0.1:1\"]}\n")
	if r := runCLI(t, nil, "check-config", "--config", p); r.code != exitOK || !strings.Contains(r.stdout, "Redis persistence: not checked: could not ask Redis") {
		t.Errorf("exit status %d, stdout lacks the unchecked persistence:\n%s", r.code, r.stdout)
	}
}

// kycbot run logs the same warning at start, before it needs anything
// else (here it then stops: the key file is missing).
func TestRunWarnsOfRedisWithoutPersistence(t *testing.T) {
	clearSecretEnv(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	save, err1 := rdb.ConfigGet(context.Background(), "save").Result()
	aof, err2 := rdb.ConfigGet(context.Background(), "appendonly").Result()
	if err1 != nil || err2 != nil {
		t.Skipf("no Redis with CONFIG GET on 127.0.0.1:6379: %v %v", err1, err2)
	}
	durable := (persistence{save: save["save"], appendonly: aof["appendonly"]}).durable()
	p := writeConfig(t, `telegram: {app_id: 1, app_hash: 0123456789abcdef0123456789abcdef, bot_token: "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
passport: {privacy_policy_url: "https://acme.example/privacy", private_key_file: missing.pem}
levels: {basic: {scope: [pd]}}
web: {public_url: "https://kyc.acme.example"}
delivery: {none: true}
`)
	r := runCLI(t, nil, "run", "--config", p)
	warned := strings.Contains(r.stderr, "level=WARN") && strings.Contains(r.stderr, "Redis keeps its data in memory only")
	if r.code != exitFailure || warned == durable {
		t.Errorf("exit status %d, warned %v with a Redis that persists: %v; stderr:\n%s", r.code, warned, durable, r.stderr)
	}
}
