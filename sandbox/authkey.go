package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/proto"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/transport"
)

// A simulated user's app comes with an auth key: the sandbox makes it with
// the DC before the user's gotd client starts, and the client starts from
// it as a Telegram app starts from the key it stored at install. The
// servers' side of that key exchange is the real one (tgtest's); the app's
// side is this file's, which does what gotd's client does with two costs
// cut, because every simulated user pays them and the tests create
// hundreds (a third of the end-to-end tests' CPU under the race detector
// went to gotd's client exchange):
//   - pq is factored with 64-bit integers (Pollard's rho with Brent's
//     cycle finding) instead of big.Int;
//   - the DH prime is checked with one Baillie-PSW test of p and of
//     (p-1)/2 (no composite is known to pass it) instead of 64
//     Miller-Rabin rounds of each.
// The bots under test (kycbot, host bots) keep gotd's own exchange.

// exchangeTimeout bounds each step of the exchange.
const exchangeTimeout = 30 * time.Second

// NewSession makes an auth key with r's DC, as a Telegram app does once
// at install, over a connection of r's resolver (the same source address
// and transport as the client that will use it), and returns a session
// storage holding it: a gotd client given it (Options) starts from that
// key instead of making one. random is the source of the exchange's
// secrets (crypto/rand when nil). Simulated users and the Bot API front's
// clients start this way; the key exchange of the bots under test stays
// gotd's own.
func (r Remote) NewSession(ctx context.Context, random io.Reader) (*session.StorageMemory, error) {
	if random == nil {
		random = rand.Reader
	}
	data, err := r.newAuthKey(ctx, random)
	if err != nil {
		return nil, err
	}
	storage := &session.StorageMemory{}
	if err := (&session.Loader{Storage: storage}).Save(ctx, data); err != nil {
		return nil, fmt.Errorf("sandbox: store the auth key: %w", err)
	}
	return storage, nil
}

// newAuthKey makes an auth key with r's DC and returns the session data a
// gotd client starts from.
func (r Remote) newAuthKey(ctx context.Context, rnd io.Reader) (*session.Data, error) {
	resolver := r.Resolver
	if resolver == nil {
		resolver = dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate})
	}
	conn, err := resolver.Primary(ctx, r.DC, r.DCList)
	if err != nil {
		return nil, fmt.Errorf("sandbox: connect to DC %d to make an auth key: %w", r.DC, err)
	}
	defer func() { _ = conn.Close() }()
	key, salt, err := clientExchange(ctx, conn, rnd, r.DC, r.PublicKeys)
	if err != nil {
		return nil, fmt.Errorf("sandbox: make an auth key with DC %d: %w", r.DC, err)
	}
	return &session.Data{DC: r.DC, AuthKey: key.Value[:], AuthKeyID: key.ID[:], Salt: salt}, nil
}

// exchangeConn sends and receives the unencrypted messages of a key
// exchange.
type exchangeConn struct {
	conn transport.Conn
	b    bin.Buffer
}

func (c *exchangeConn) send(ctx context.Context, m bin.Encoder) error {
	c.b.Reset()
	if err := m.Encode(&c.b); err != nil {
		return err
	}
	msg := proto.UnencryptedMessage{
		MessageID:   int64(proto.NewMessageID(time.Now(), proto.MessageFromClient)),
		MessageData: c.b.Copy(),
	}
	c.b.Reset()
	if err := msg.Encode(&c.b); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	return c.conn.Send(ctx, &c.b)
}

// recv reads the next unencrypted message and leaves its data in c.b.
func (c *exchangeConn) recv(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	c.b.Reset()
	if err := c.conn.Recv(ctx, &c.b); err != nil {
		return err
	}
	var msg proto.UnencryptedMessage
	if err := msg.Decode(&c.b); err != nil {
		return err
	}
	c.b.ResetTo(msg.MessageData)
	return nil
}

// call sends req and reads the server's answer into c.b; name is the
// request's, for the errors.
func (c *exchangeConn) call(ctx context.Context, name string, req bin.Encoder) error {
	if err := c.send(ctx, req); err != nil {
		return fmt.Errorf("send %s: %w", name, err)
	}
	if err := c.recv(ctx); err != nil {
		return fmt.Errorf("read the answer to %s: %w", name, err)
	}
	return nil
}

// clientExchange is the app's side of MTProto's key exchange
// (https://core.telegram.org/mtproto/auth_key) for a permanent key of DC
// dc: it returns the key and the first server salt.
func clientExchange(ctx context.Context, conn transport.Conn, rnd io.Reader, dc int, keys []exchange.PublicKey) (crypto.AuthKey, int64, error) {
	c := &exchangeConn{conn: conn}
	nonce, err := crypto.RandInt128(rnd)
	if err != nil {
		return crypto.AuthKey{}, 0, err
	}
	if err := c.call(ctx, "req_pq_multi", &mt.ReqPqMultiRequest{Nonce: nonce}); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	var res mt.ResPQ
	if err := res.Decode(&c.b); err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("decode resPQ: %w", err)
	}
	if res.Nonce != nonce {
		return crypto.AuthKey{}, 0, errors.New("resPQ: nonce mismatch")
	}
	var pub exchange.PublicKey
	for _, k := range keys {
		for _, f := range res.ServerPublicKeyFingerprints {
			if pub.Zero() && f == k.Fingerprint() {
				pub = k
			}
		}
	}
	if pub.Zero() {
		return crypto.AuthKey{}, 0, errors.New("resPQ: none of the server's key fingerprints is a known public key")
	}
	if len(res.Pq) > 8 {
		return crypto.AuthKey{}, 0, fmt.Errorf("resPQ: pq is %d bytes, want at most 8", len(res.Pq))
	}
	pq := new(big.Int).SetBytes(res.Pq).Uint64()
	p, q, ok := factorPQ(pq)
	if !ok {
		return crypto.AuthKey{}, 0, fmt.Errorf("resPQ: pq %d is not a product of two primes", pq)
	}
	pb, qb := big.NewInt(0).SetUint64(p).Bytes(), big.NewInt(0).SetUint64(q).Bytes()
	newNonce, err := crypto.RandInt256(rnd)
	if err != nil {
		return crypto.AuthKey{}, 0, err
	}
	var inner bin.Buffer
	if err := (&mt.PQInnerDataDC{
		Pq: res.Pq, P: pb, Q: qb, Nonce: nonce, ServerNonce: res.ServerNonce, NewNonce: newNonce, DC: dc,
	}).Encode(&inner); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	encrypted, err := crypto.RSAPad(inner.Buf, pub.RSA, rnd)
	if err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("encrypt p_q_inner_data: %w", err)
	}
	if err := c.call(ctx, "req_DH_params", &mt.ReqDHParamsRequest{
		Nonce: nonce, ServerNonce: res.ServerNonce, P: pb, Q: qb,
		PublicKeyFingerprint: pub.Fingerprint(), EncryptedData: encrypted,
	}); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	params, err := mt.DecodeServerDHParams(&c.b)
	if err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("decode server_DH_params: %w", err)
	}
	ok2, isOK := params.(*mt.ServerDHParamsOk)
	if !isOK {
		return crypto.AuthKey{}, 0, fmt.Errorf("the server answered req_DH_params with %T", params)
	}
	if ok2.Nonce != nonce || ok2.ServerNonce != res.ServerNonce {
		return crypto.AuthKey{}, 0, errors.New("server_DH_params_ok: nonce mismatch")
	}
	aesKey, aesIV := crypto.TempAESKeys(newNonce.BigInt(), res.ServerNonce.BigInt())
	answer, err := crypto.DecryptExchangeAnswer(ok2.EncryptedAnswer, aesKey, aesIV)
	if err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("decrypt server_DH_inner_data: %w", err)
	}
	var dh mt.ServerDHInnerData
	if err := dh.Decode(&bin.Buffer{Buf: answer}); err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("decode server_DH_inner_data: %w", err)
	}
	if dh.Nonce != nonce || dh.ServerNonce != res.ServerNonce {
		return crypto.AuthKey{}, 0, errors.New("server_DH_inner_data: nonce mismatch")
	}
	prime := new(big.Int).SetBytes(dh.DhPrime)
	if err := checkDHPrime(dh.G, prime); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	g, gA := big.NewInt(int64(dh.G)), new(big.Int).SetBytes(dh.GA)
	b, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), crypto.RSAKeyBits))
	if err != nil {
		return crypto.AuthKey{}, 0, err
	}
	gB := new(big.Int).Exp(g, b, prime)
	if err := crypto.CheckDHParams(prime, g, gA, gB); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	var clientInner bin.Buffer
	if err := (&mt.ClientDHInnerData{Nonce: nonce, ServerNonce: res.ServerNonce, GB: gB.Bytes()}).Encode(&clientInner); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	encAnswer, err := crypto.EncryptExchangeAnswer(rnd, clientInner.Buf, aesKey, aesIV)
	if err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("encrypt client_DH_inner_data: %w", err)
	}
	if err := c.call(ctx, "set_client_DH_params", &mt.SetClientDHParamsRequest{Nonce: nonce, ServerNonce: res.ServerNonce, EncryptedData: encAnswer}); err != nil {
		return crypto.AuthKey{}, 0, err
	}
	var key crypto.Key
	new(big.Int).Exp(gA, b, prime).FillBytes(key[:])
	gen, err := mt.DecodeSetClientDHParamsAnswer(&c.b)
	if err != nil {
		return crypto.AuthKey{}, 0, fmt.Errorf("decode the DH answer: %w", err)
	}
	done, isDone := gen.(*mt.DhGenOk)
	if !isDone {
		return crypto.AuthKey{}, 0, fmt.Errorf("the server answered set_client_DH_params with %T", gen)
	}
	if done.Nonce != nonce || done.ServerNonce != res.ServerNonce {
		return crypto.AuthKey{}, 0, errors.New("dh_gen_ok: nonce mismatch")
	}
	if crypto.NonceHash1(newNonce, key) != done.NewNonceHash1 {
		return crypto.AuthKey{}, 0, errors.New("dh_gen_ok: new_nonce_hash1 differs: the server made another key")
	}
	return crypto.AuthKey{Value: key, ID: key.ID()}, crypto.ServerSalt(newNonce, res.ServerNonce), nil
}

// checkDHPrime checks dh_prime as the key exchange asks: a 2048-bit safe
// prime for which g generates the subgroup of order (p-1)/2.
func checkDHPrime(g int, p *big.Int) error {
	if p.BitLen() != crypto.RSAKeyBits {
		return fmt.Errorf("server_DH_inner_data: dh_prime has %d bits, want %d", p.BitLen(), crypto.RSAKeyBits)
	}
	if err := crypto.CheckGP(g, p); err != nil {
		return fmt.Errorf("server_DH_inner_data: %w", err)
	}
	half := new(big.Int).Rsh(p, 1) // (p-1)/2 for an odd p
	if !p.ProbablyPrime(0) || !half.ProbablyPrime(0) {
		return errors.New("server_DH_inner_data: dh_prime is not a safe prime")
	}
	return nil
}

// factorPQ splits pq into primes p < q, as the key exchange's proof of
// work asks. ok is false when pq is not the product of two primes.
func factorPQ(pq uint64) (p, q uint64, ok bool) {
	if pq < 4 {
		return 0, 0, false
	}
	d := divisor(pq)
	if d == 0 {
		return 0, 0, false
	}
	p, q = min(d, pq/d), max(d, pq/d)
	if !isPrime64(p) || !isPrime64(q) {
		return 0, 0, false
	}
	return p, q, true
}

// divisor returns a divisor of n other than 1 and n, or 0 for a prime.
func divisor(n uint64) uint64 {
	if n%2 == 0 {
		return 2
	}
	if isPrime64(n) {
		return 0
	}
	// Pollard's rho with Brent's cycle finding and batched gcds, over
	// x -> x^2 + c for c = 1, 2, ... until a split.
	for c := uint64(1); c < n; c++ {
		const batch = 128
		f := func(x uint64) uint64 { return addMod(mulMod(x, x, n), c, n) }
		y, r, g := uint64(2), uint64(1), uint64(1)
		var x, ys uint64
		prod := uint64(1)
		for g == 1 {
			x = y
			for range r {
				y = f(y)
			}
			for k := uint64(0); k < r && g == 1; k += batch {
				ys = y
				for i := uint64(0); i < min(batch, r-k); i++ {
					y = f(y)
					prod = mulMod(prod, absDiff(x, y), n)
				}
				g = gcd(prod, n)
			}
			r *= 2
		}
		if g == n { // the batch overshot: retrace it one step at a time
			for g = 1; g == 1; {
				ys = f(ys)
				g = gcd(absDiff(x, ys), n)
			}
		}
		if g != n {
			return g
		}
	}
	return 0
}

func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return bits.Rem64(hi, lo, m)
}

func addMod(a, b, m uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 || s >= m {
		s -= m
	}
	return s
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// isPrime64 is a deterministic primality test for 64-bit integers
// (Miller-Rabin with the first twelve primes as bases).
func isPrime64(n uint64) bool {
	if n < 2 {
		return false
	}
	bases := [...]uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}
	for _, p := range bases {
		if n%p == 0 {
			return n == p
		}
	}
	d, s := n-1, 0
	for d%2 == 0 {
		d /= 2
		s++
	}
	for _, a := range bases {
		x := powMod(a, d, n)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for range s - 1 {
			x = mulMod(x, x, n)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}

func powMod(b, e, m uint64) uint64 {
	r := uint64(1)
	b %= m
	for e > 0 {
		if e&1 == 1 {
			r = mulMod(r, b, m)
		}
		b = mulMod(b, b, m)
		e >>= 1
	}
	return r
}
