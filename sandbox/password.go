package sandbox

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/gotd/td/exchange"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/passport"
)

// srpG is the SRP generator Telegram uses with its 2048-bit safe prime.
const srpG = 3

// cloudPassword is the server side of a 2FA password: the SRP verifier and
// the passport secret stored under it.
type cloudPassword struct {
	salt1, salt2 []byte
	v            *big.Int
	hint         string
	// secure is the passport secret encrypted under the password (nil when
	// none was set yet).
	secure *tg.SecureSecretSettings
}

func (p *cloudPassword) set() bool { return p != nil && p.v != nil }

type srpSession struct {
	userID int64
	b      *big.Int
	gb     []byte // 256 bytes
	v      *big.Int
	salt1  []byte
	salt2  []byte
}

func srpPrime() *big.Int {
	p, err := exchange.TestServerRNG{}.DhPrime()
	if err != nil {
		panic(fmt.Sprintf("sandbox: Telegram's DH prime: %v", err)) // constant input
	}
	return p
}

func pad256(x *big.Int) []byte {
	b := make([]byte, 256)
	x.FillBytes(b)
	return b
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// ph2 is Telegram's password hash PH2(password, salt1, salt2).
func ph2(password, salt1, salt2 []byte) ([]byte, error) {
	sh := func(data, salt []byte) []byte { return sha(salt, data, salt) }
	ph1 := sh(sh(password, salt1), salt2)
	k, err := pbkdf2.Key(sha512.New, string(ph1), salt1, 100000, 64)
	if err != nil {
		return nil, fmt.Errorf("derive password hash: %w", err)
	}
	return sh(k, salt2), nil
}

// newCloudPassword sets up SRP for password as account.updatePasswordSettings
// would after a Telegram app computed new_password_hash.
func (sb *Sandbox) newCloudPassword(password []byte) (*cloudPassword, error) {
	salt1 := sb.randBytes(40) // server's 8 bytes plus the app's 32
	salt2 := sb.randBytes(16)
	x, err := ph2(password, salt1, salt2)
	if err != nil {
		return nil, err
	}
	v := new(big.Int).Exp(big.NewInt(srpG), new(big.Int).SetBytes(x), srpPrime())
	return &cloudPassword{salt1: salt1, salt2: salt2, v: v}, nil
}

func (p *cloudPassword) algo() *tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
	return &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
		Salt1: p.salt1, Salt2: p.salt2, G: srpG, P: srpPrime().Bytes(),
	}
}

// checkPassword verifies an SRP answer of the account's 2FA password
// (https://core.telegram.org/api/srp).
func (sb *Sandbox) checkPassword(userID int64, in tg.InputCheckPasswordSRPClass) error {
	sb.mu.Lock()
	acc := sb.w.accounts[userID]
	has := acc != nil && acc.pw.set()
	var sess *srpSession
	if c, ok := in.(*tg.InputCheckPasswordSRP); ok {
		sess = sb.w.srp[c.SRPID]
	}
	sb.mu.Unlock()
	switch c := in.(type) {
	case *tg.InputCheckPasswordEmpty:
		if has {
			return tgerr.New(400, "PASSWORD_HASH_INVALID")
		}
		return nil
	case *tg.InputCheckPasswordSRP:
		if !has {
			return tgerr.New(400, "PASSWORD_HASH_INVALID")
		}
		if sess == nil || sess.userID != userID {
			return tgerr.New(400, "SRP_ID_INVALID")
		}
		if !srpVerify(sess, c.A, c.M1) {
			return tgerr.New(400, "PASSWORD_HASH_INVALID")
		}
		return nil
	default:
		return tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
}

func srpVerify(s *srpSession, aBytes, m1 []byte) bool {
	p := srpPrime()
	a := new(big.Int).SetBytes(aBytes)
	if a.Sign() <= 0 || a.Cmp(p) >= 0 || len(aBytes) > 256 {
		return false
	}
	ga := pad256(a)
	u := new(big.Int).SetBytes(sha(ga, s.gb))
	// S = (A * v^u)^b mod p
	vu := new(big.Int).Exp(s.v, u, p)
	base := new(big.Int).Mul(a, vu)
	base.Mod(base, p)
	sBytes := pad256(new(big.Int).Exp(base, s.b, p))
	k := sha(sBytes)
	gBytes := pad256(big.NewInt(srpG))
	hp, hg := sha(p.Bytes()), sha(gBytes)
	x := make([]byte, 32)
	for i := range x {
		x[i] = hp[i] ^ hg[i]
	}
	want := sha(x, sha(s.salt1), sha(s.salt2), ga, s.gb, k)
	return subtle.ConstantTimeCompare(want, m1) == 1
}

// newSRPSessionLocked starts a password check for acc: srp_id and srp_B.
func (sb *Sandbox) newSRPSessionLocked(acc *account) (int64, []byte) {
	p := srpPrime()
	g := big.NewInt(srpG)
	k := new(big.Int).SetBytes(sha(p.Bytes(), pad256(g)))
	for {
		b := new(big.Int).SetBytes(sb.randBytes(256))
		// B = (k*v + g^b) mod p
		gb := new(big.Int).Exp(g, b, p)
		kv := new(big.Int).Mul(k, acc.pw.v)
		B := kv.Add(kv, gb)
		B.Mod(B, p)
		if B.Sign() == 0 {
			continue
		}
		id := sb.randInt64()
		s := &srpSession{userID: acc.user.ID, b: b, gb: pad256(B), v: acc.pw.v, salt1: acc.pw.salt1, salt2: acc.pw.salt2}
		sb.w.srp[id] = s
		return id, s.gb
	}
}

func (sb *Sandbox) registerPassword(d *tg.ServerDispatcher) {
	d.OnAccountGetPassword(func(ctx context.Context) (*tg.AccountPassword, error) {
		c := callFrom(ctx)
		sb.mu.Lock()
		defer sb.mu.Unlock()
		acc, err := sb.selfLocked(ctx)
		if err != nil {
			// During login with 2FA the key is not bound yet.
			id, ok := sb.w.pending[authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}]
			if !ok {
				return nil, err
			}
			acc = sb.w.accounts[id]
		}
		out := &tg.AccountPassword{
			HasSecureValues: len(acc.values) > 0,
			NewAlgo: &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
				Salt1: sb.randBytes(8), Salt2: sb.randBytes(16), G: srpG, P: srpPrime().Bytes(),
			},
			NewSecureAlgo: &tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000{Salt: sb.randBytes(8)},
			SecureRandom:  sb.randBytes(256),
		}
		if acc.pw.set() {
			out.HasPassword = true
			out.CurrentAlgo = acc.pw.algo()
			out.SRPID, out.SRPB = sb.newSRPSessionLocked(acc)
			out.Hint = acc.pw.hint
		}
		return out, nil
	})

	d.OnAccountGetPasswordSettings(func(ctx context.Context, password tg.InputCheckPasswordSRPClass) (*tg.AccountPasswordSettings, error) {
		acc, err := sb.self(ctx)
		if err != nil {
			return nil, err
		}
		if err := sb.checkPassword(acc.user.ID, password); err != nil {
			return nil, err
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		out := &tg.AccountPasswordSettings{}
		if acc.pw.set() && acc.pw.secure != nil {
			out.SetSecureSettings(*acc.pw.secure)
		}
		return out, nil
	})

	d.OnAccountUpdatePasswordSettings(func(ctx context.Context, req *tg.AccountUpdatePasswordSettingsRequest) (bool, error) {
		acc, err := sb.self(ctx)
		if err != nil {
			return false, err
		}
		if err := sb.checkPassword(acc.user.ID, req.Password); err != nil {
			return false, err
		}
		ns := req.NewSettings
		algo, hasAlgo := ns.GetNewAlgo()
		secure, hasSecure := ns.GetNewSecureSettings()
		if hasSecure {
			if err := checkSecureSettings(secure); err != nil {
				return false, err
			}
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		if hasAlgo {
			switch a := algo.(type) {
			case *tg.PasswordKdfAlgoUnknown:
				// Removing the password removes Passport data too.
				acc.pw = nil
				acc.values = map[passport.ElementType]*tg.SecureValue{}
			case *tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow:
				hash, _ := ns.GetNewPasswordHash()
				if len(hash) != 256 || a.G != srpG || !bytes.Equal(a.P, srpPrime().Bytes()) || len(a.Salt1) < 8 {
					return false, tgerr.New(400, "NEW_SALT_INVALID")
				}
				old := acc.pw
				acc.pw = &cloudPassword{salt1: a.Salt1, salt2: a.Salt2, v: new(big.Int).SetBytes(hash)}
				acc.pw.hint, _ = ns.GetHint()
				if old != nil && !hasSecure {
					// The app re-encrypts the passport secret under the
					// new password and sends it along; without it, the
					// old encrypted copy is useless.
					acc.pw.secure = nil
				}
			default:
				return false, tgerr.New(400, "NEW_SALT_INVALID")
			}
		}
		if hasSecure {
			if !acc.pw.set() {
				return false, tgerr.New(400, "PASSWORD_REQUIRED")
			}
			if acc.pw.secure != nil && acc.pw.secure.SecureSecretID != secure.SecureSecretID {
				// A new passport secret cannot decrypt the old values:
				// Telegram drops them.
				acc.values = map[passport.ElementType]*tg.SecureValue{}
			}
			s := secure
			acc.pw.secure = &s
		}
		return true, nil
	})
}

func checkSecureSettings(s tg.SecureSecretSettings) error {
	switch a := s.SecureAlgo.(type) {
	case *tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000:
		if len(a.Salt) < 8 {
			return tgerr.New(400, "NEW_SALT_INVALID")
		}
	case *tg.SecurePasswordKdfAlgoSHA512:
		if len(a.Salt) < 8 {
			return tgerr.New(400, "NEW_SALT_INVALID")
		}
	default:
		return tgerr.New(400, "NEW_SETTINGS_INVALID")
	}
	if len(s.SecureSecret) != passport.SecretSize {
		return tgerr.New(400, "SECURE_SECRET_INVALID")
	}
	if s.SecureSecretID == 0 {
		return tgerr.New(400, "SECURE_SECRET_INVALID")
	}
	return nil
}

// srpClient is the app side of Telegram's SRP, as the simulated users'
// apps compute it. It caches x = PH2(password, salt1, salt2) (the costly
// part: 100000 PBKDF2 rounds); unlike gotd's auth.PasswordHash it does not
// re-check that the server's well-known prime is prime on every call.
type srpClient struct {
	mu    sync.Mutex
	cache map[string]*big.Int
}

func (c *srpClient) x(password []byte, salt1, salt2 []byte) (*big.Int, error) {
	key := string(password) + "\x00" + string(salt1) + "\x00" + string(salt2)
	c.mu.Lock()
	x, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return x, nil
	}
	h, err := ph2(password, salt1, salt2)
	if err != nil {
		return nil, err
	}
	x = new(big.Int).SetBytes(h)
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]*big.Int{}
	}
	c.cache[key] = x
	c.mu.Unlock()
	return x, nil
}

// answer computes InputCheckPasswordSRP for an account.password answer.
func (c *srpClient) answer(r io.Reader, password []byte, p *tg.AccountPassword) (*tg.InputCheckPasswordSRP, error) {
	algo, ok := p.CurrentAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow)
	if !ok {
		return nil, fmt.Errorf("sandbox: unsupported password algo %T", p.CurrentAlgo)
	}
	prime := new(big.Int).SetBytes(algo.P)
	if prime.BitLen() != 2048 || algo.G < 2 {
		return nil, fmt.Errorf("sandbox: bad SRP parameters")
	}
	g := big.NewInt(int64(algo.G))
	x, err := c.x(password, algo.Salt1, algo.Salt2)
	if err != nil {
		return nil, err
	}
	ab := make([]byte, 256)
	if _, err := io.ReadFull(r, ab); err != nil {
		return nil, fmt.Errorf("sandbox: random: %w", err)
	}
	a := new(big.Int).SetBytes(ab)
	ga := pad256(new(big.Int).Exp(g, a, prime))
	gbInt := new(big.Int).SetBytes(p.SRPB)
	if gbInt.Sign() <= 0 || gbInt.Cmp(prime) >= 0 {
		return nil, fmt.Errorf("sandbox: bad srp_B")
	}
	gb := pad256(gbInt)
	u := new(big.Int).SetBytes(sha(ga, gb))
	v := new(big.Int).Exp(g, x, prime)
	k := new(big.Int).SetBytes(sha(algo.P, pad256(g)))
	kv := new(big.Int).Mul(k, v)
	kv.Mod(kv, prime)
	t := new(big.Int).Sub(gbInt, kv)
	t.Mod(t, prime)
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, a)
	sa := pad256(new(big.Int).Exp(t, exp, prime))
	hp, hg := sha(algo.P), sha(pad256(g))
	xr := make([]byte, 32)
	for i := range xr {
		xr[i] = hp[i] ^ hg[i]
	}
	m1 := sha(xr, sha(algo.Salt1), sha(algo.Salt2), ga, gb, sha(sa))
	return &tg.InputCheckPasswordSRP{SRPID: p.SRPID, A: ga, M1: m1}, nil
}

// newHash computes new_algo (salt1 extended with 32 random bytes) and
// new_password_hash for account.updatePasswordSettings.
func (c *srpClient) newHash(r io.Reader, password []byte, algo *tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow) (*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow, []byte, error) {
	salt1 := make([]byte, len(algo.Salt1)+32)
	copy(salt1, algo.Salt1)
	if _, err := io.ReadFull(r, salt1[len(algo.Salt1):]); err != nil {
		return nil, nil, fmt.Errorf("sandbox: random: %w", err)
	}
	x, err := c.x(password, salt1, algo.Salt2)
	if err != nil {
		return nil, nil, err
	}
	prime := new(big.Int).SetBytes(algo.P)
	v := new(big.Int).Exp(big.NewInt(int64(algo.G)), x, prime)
	out := *algo
	out.Salt1 = salt1
	return &out, pad256(v), nil
}
