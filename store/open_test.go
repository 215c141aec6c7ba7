package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const testPassword = "s3cret-Pa55word"

func TestOpenInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"unknown mode", Config{Mode: "ring"}, "single, sentinel or cluster"},
		{"sentinel without master", Config{Mode: ModeSentinel}, "master_name"},
		{"master name in single mode", Config{MasterName: "m"}, "sentinel mode only"},
		{"two addresses in single mode", Config{Addrs: []string{"a:1", "b:2"}}, "exactly one address"},
		{"cluster with a database", Config{Mode: ModeCluster, DB: 2}, "database 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Password = testPassword
			_, err := Open(context.Background(), tt.c)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInvalid saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Fatal("error holds the password")
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := Open(ctx, Config{Addrs: []string{"127.0.0.1:1"}, Username: "kycbot", Password: testPassword})
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("error %v does not wrap ErrUnavailable", err)
	}
	msg := err.Error()
	for _, want := range []string{"redis at 127.0.0.1:1 is unreachable", "start redis-server or fix redis.addrs"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, testPassword) {
		t.Fatal("error holds the password")
	}
}

func TestOpen(t *testing.T) {
	needRedis(t)
	c, err := Open(context.Background(), Config{Mode: ModeSingle, Addrs: []string{testRedisAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*redis.Client); !ok {
		t.Fatalf("single mode gave a %T", c)
	}
	// Wrong credentials are told apart from an unreachable server.
	_, err = Open(context.Background(), Config{Addrs: []string{testRedisAddr}, Username: "no-such-user", Password: testPassword})
	if err == nil {
		t.Skip("the test Redis accepts any user")
	}
	if !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), testPassword) {
		t.Fatalf("error %q", err)
	}
}

func TestConfigPrintsNoPassword(t *testing.T) {
	c := Config{Mode: ModeSentinel, Addrs: []string{"h:1"}, MasterName: "m", Username: "u", Password: testPassword}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, testPassword) || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s prints %q", format, out)
		}
	}
}

func TestRedact(t *testing.T) {
	base := errors.New("dial: AUTH " + testPassword + " failed")
	err := redact(fmt.Errorf("wrapped: %w", context.DeadlineExceeded), testPassword)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("redact lost errors.Is")
	}
	err = redact(base, testPassword)
	if strings.Contains(err.Error(), testPassword) || errors.Unwrap(err) != nil {
		t.Fatalf("redacted error %q still shows the secret", err)
	}
	if !errors.Is(err, base) {
		t.Fatal("redact lost errors.Is")
	}
}
