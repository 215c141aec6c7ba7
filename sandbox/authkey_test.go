package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"math/bits"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
)

func TestFactorPQ(t *testing.T) {
	prime := func(bits int) uint64 {
		p, err := rand.Prime(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return p.Uint64()
	}
	p31, q31 := prime(31), prime(32)
	for _, tt := range []struct {
		name string
		pq   uint64
		p, q uint64
		ok   bool
	}{
		// The sample of https://core.telegram.org/mtproto/samples-auth_key,
		// which gotd's test server sends.
		{"telegram sample", 0x17ED48941A08F981, 0x494C553B, 0x53911073, true},
		{"small", 15, 3, 5, true},
		{"even", 2 * 1000000007, 2, 1000000007, true},
		{"square", 65521 * 65521, 65521, 65521, true},
		{"random 31 and 32 bits", p31 * q31, min(p31, q31), max(p31, q31), true},
		{"prime", 1000000007, 0, 0, false},
		{"three primes", 3 * 5 * 7, 0, 0, false},
		{"power of two", 1 << 62, 0, 0, false},
		{"zero", 0, 0, 0, false},
		{"one", 1, 0, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, q, ok := factorPQ(tt.pq)
			if ok != tt.ok || p != tt.p || q != tt.q {
				t.Fatalf("factorPQ(%d) = %d, %d, %v; want %d, %d, %v", tt.pq, p, q, ok, tt.p, tt.q, tt.ok)
			}
		})
	}
}

func TestIsPrime64(t *testing.T) {
	for n := uint64(0); n < 2000; n++ {
		if got, want := isPrime64(n), big.NewInt(int64(n)).ProbablyPrime(20); got != want {
			t.Fatalf("isPrime64(%d) = %v, want %v", n, got, want)
		}
	}
	for _, n := range []uint64{
		18446744073709551557, // the largest 64-bit prime
		3825123056546413051,  // a strong pseudoprime to bases 2 to 23
		4611686014132420609,  // (2^31-1)^2
		1<<61 - 1,            // Mersenne prime
	} {
		if got, want := isPrime64(n), new(big.Int).SetUint64(n).ProbablyPrime(20); got != want {
			t.Fatalf("isPrime64(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestUserAuthKey checks the key a simulated user's app starts with: the
// servers know it, a client given the session logs in over it (not over a
// key of its own), and each session has its own key.
func TestUserAuthKey(t *testing.T) {
	sb := startSandbox(t, Options{})
	ctx := testContext(t, time.Minute)
	r := sb.Remote()
	other, err := r.newAuthKey(ctx, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	storage, err := r.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := (&session.Loader{Storage: storage}).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var key crypto.Key
	copy(key[:], data.AuthKey)
	id := key.ID()
	if string(id[:]) != string(data.AuthKeyID) || data.DC != MainDC {
		t.Fatalf("session: key ID %x for a key whose ID is %x, DC %d", data.AuthKeyID, id, data.DC)
	}
	if string(data.AuthKey) == string(other.AuthKey) {
		t.Fatal("two exchanges made the same key")
	}
	// Servers whose key the app does not know: a clear refusal.
	foreign, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	unknown := r
	unknown.PublicKeys = []exchange.PublicKey{{RSA: &foreign.PublicKey}}
	if _, err := unknown.NewSession(ctx, nil); err == nil || !strings.Contains(err.Error(), "none of the server's key fingerprints is a known public key") {
		t.Errorf("NewSession with another server key: %v, want the fingerprints refused", err)
	}
	bot, _, _ := addTestBot(t, sb, "key_test_bot")
	client := telegram.NewClient(1, "test", r.Options(storage))
	if err := client.Run(ctx, func(ctx context.Context) error {
		_, err := client.Auth().Bot(ctx, bot.Token)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	owner, ok := sb.w.authKeys[authKeyRef{dc: MainDC, key: id}]
	sb.mu.Unlock()
	if !ok || owner != bot.ID {
		t.Fatalf("the key of the session is bound to account %d (%v), want the bot %d: the client logged in over another key", owner, ok, bot.ID)
	}
}

// FuzzFactorPQ: whatever pq the servers send, factorPQ returns (and does
// not spin), and what it returns are two primes whose product is pq.
func FuzzFactorPQ(f *testing.F) {
	for _, pq := range []uint64{0x17ED48941A08F981, 15, 1 << 62, 1000000007, 65521 * 65521, 0, 1, 1<<64 - 1} {
		f.Add(pq)
	}
	f.Fuzz(func(t *testing.T, pq uint64) {
		p, q, ok := factorPQ(pq)
		if !ok {
			return
		}
		if hi, lo := bits.Mul64(p, q); hi != 0 || lo != pq || p > q || !isPrime64(p) || !isPrime64(q) {
			t.Fatalf("factorPQ(%d) = %d, %d: not two primes p <= q whose product is pq", pq, p, q)
		}
	})
}
