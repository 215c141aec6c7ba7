package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/gotd/td/exchange"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
)

// TelegramServer says which MTProto servers the bot connects to
// (telegram.server). Left out, the bot reaches Telegram's production DCs
// with the addresses and keys built into gotd, which is what a real bot
// wants. Set it to run the same config against Telegram's test DCs (Test)
// or against servers of your own, such as kycbot's local sandbox
// (Addresses and PublicKeys). It cannot change on reload.
type TelegramServer struct {
	// DC is the data center the bot connects to first (dc), 1 to 5: with
	// Addresses, one of theirs; with Test, one of Telegram's test DCs (1
	// to 3). Default 2, as in gotd.
	DC int `yaml:"dc"`
	// Addresses are the host:port of your own MTProto servers by DC number
	// (addresses), such as {2: "127.0.0.1:40001"}. Empty (default):
	// Telegram's DCs. PublicKeys is required with them; not with Test.
	Addresses map[int]string `yaml:"addresses"`
	// PublicKeys are the RSA public keys of the servers in PEM
	// (public_keys): one or more blocks, each "-----BEGIN RSA PUBLIC
	// KEY-----" (PKCS #1) or "-----BEGIN PUBLIC KEY-----" (PKIX), of 2048
	// bits as MTProto requires. Required with Addresses. Default: the keys
	// of Telegram's production and test DCs built into gotd. Not a secret.
	PublicKeys string `yaml:"public_keys"`
	// Test connects to Telegram's test DCs (gotd's dcs.Test) instead of
	// production (test): for a bot and accounts made on Telegram's test
	// servers. Not with Addresses. Default false.
	Test bool `yaml:"test"`
}

// DefaultDC is the DC the bot connects to first when telegram.server.dc
// is not set (gotd's default too).
const DefaultDC = 2

// serverDefaults fills the defaults of s left zero and not written at
// path (see checker.defaults). An empty map of addresses is none (nil),
// so that "addresses: {}" compares equal to no addresses on reload.
func serverDefaults(s *TelegramServer, path string, written func(string) bool) {
	if s.DC == 0 && !written(path+".dc") {
		s.DC = DefaultDC
	}
	if len(s.Addresses) == 0 {
		s.Addresses = nil
	}
}

// Options returns what gotd's telegram.Options need to reach the servers
// s names: the DC to connect to first (telegram.Options.DC), the list of
// addresses (DCList: the zero List for Telegram's production DCs, dcs.Test
// for the test DCs, your addresses otherwise) and the servers' public keys
// (PublicKeys: nil for gotd's built-in keys). A zero DC is DefaultDC. It
// runs the checks of New and Parse on s and returns their problems as an
// *Error, so that a TelegramServer not checked by them never reaches gotd.
func (s TelegramServer) Options() (dc int, list dcs.List, keys []exchange.PublicKey, err error) {
	serverDefaults(&s, serverPath, func(string) bool { return false })
	c := &checker{}
	c.telegramServer(s)
	if len(c.probs) > 0 {
		return 0, dcs.List{}, nil, &Error{Problems: c.probs}
	}
	keys, _ = parsePublicKeys(s.PublicKeys)
	switch {
	case s.Test:
		list = dcs.Test()
	case len(s.Addresses) > 0:
		for _, id := range sortedDCs(s.Addresses) {
			host, port, _ := net.SplitHostPort(s.Addresses[id])
			n, _ := strconv.Atoi(port)
			ip := net.ParseIP(host)
			list.Options = append(list.Options, tg.DCOption{
				ID: id, IPAddress: host, Port: n, Ipv6: ip != nil && ip.To4() == nil,
			})
		}
	}
	return s.DC, list, keys, nil
}

// Apply sets in o what s changes from gotd's defaults: DC, DCList and
// PublicKeys (see Options); when s is left at its defaults (Telegram's
// production DCs, DC 2, gotd's keys) it changes nothing. Other options
// are left alone. It returns the problems of s, as Options does, without
// changing o.
func (s TelegramServer) Apply(o *telegram.Options) error {
	dc, list, keys, err := s.Options()
	if err != nil {
		return err
	}
	if dc != DefaultDC || !list.Zero() || len(keys) > 0 {
		o.DC = dc
	}
	if !list.Zero() {
		o.DCList = list
	}
	if len(keys) > 0 {
		o.PublicKeys = keys
	}
	return nil
}

const serverPath = "telegram.server"

// An example of telegram.server.addresses for the messages.
const serverAddrExample = "127.0.0.1:40001"

// sortedDCs returns the DC numbers of m in order.
func sortedDCs(m map[int]string) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// testDCs returns the numbers of Telegram's test DCs gotd knows, in order.
func testDCs() []int {
	seen := map[int]bool{}
	var ids []int
	for _, o := range dcs.Test().Options {
		if !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	sort.Ints(ids)
	return ids
}

func intList(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
	}
	return out
}

// telegramServer checks telegram.server.
func (c *checker) telegramServer(s TelegramServer) {
	const (
		dcPath   = serverPath + ".dc"
		keysPath = serverPath + ".public_keys"
	)
	dcOK := s.DC >= 1 && s.DC <= 5
	if !dcOK {
		c.add(dcPath, "%d is not a DC: Telegram's DCs are numbered 1 to 5 (default %d)", s.DC, DefaultDC)
	}
	ids := sortedDCs(s.Addresses)
	var good []int
	for _, id := range ids {
		path := serverPath + ".addresses." + strconv.Itoa(id)
		if id < 1 || id > 5 {
			c.add(path, "%d is not a DC: Telegram's DCs are numbered 1 to 5; give each address under the number of the DC it serves", id)
			continue
		}
		if msg := checkAddr(s.Addresses[id], false, serverAddrExample, "127.0.0.1"); msg != "" {
			c.add(path, "%s", msg)
			continue
		}
		good = append(good, id)
	}
	switch {
	case s.Test && len(ids) > 0:
		c.add(serverPath+".test", "cannot be used with addresses: test connects to Telegram's test DCs at the addresses gotd knows, addresses to servers of your own; keep one of them")
	case len(good) > 0 && dcOK && s.Addresses[s.DC] == "":
		c.add(dcPath, "%d has no address: add DC %d's host:port under addresses, or set dc to %s, the DC the bot connects to first (default %d)",
			s.DC, s.DC, orList(intList(good)), DefaultDC)
	case s.Test && dcOK && !containsInt(testDCs(), s.DC):
		c.add(dcPath, "%d is not one of Telegram's test DCs: use %s (default %d)", s.DC, orList(intList(testDCs())), DefaultDC)
	}
	keys, msg := parsePublicKeys(s.PublicKeys)
	switch {
	case msg != "":
		c.add(keysPath, "%s", msg)
	case len(keys) == 0 && len(ids) > 0:
		c.add(keysPath, "is required with addresses: paste the RSA public key(s) of those servers in PEM, each from -----BEGIN RSA PUBLIC KEY----- to -----END RSA PUBLIC KEY-----")
	case len(keys) > 0 && len(ids) == 0 && !s.Test:
		c.warn(keysPath, "is set without addresses: these keys replace the keys of Telegram's production DCs built into gotd, and the bot cannot connect unless they are Telegram's own; to reach servers of your own, list them under addresses")
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// mtprotoKeyBits is the size of the servers' RSA keys MTProto uses (gotd
// encrypts with 256-byte blocks).
const mtprotoKeyBits = 2048

// parsePublicKeys reads the PEM public keys of telegram.server.public_keys
// (none for an empty text). It returns a message for people when the text
// is not that; the message never repeats the text.
func parsePublicKeys(text string) ([]exchange.PublicKey, string) {
	rest := []byte(text)
	var keys []exchange.PublicKey
	seen := map[int64]int{}
	for n := 1; ; n++ {
		begin := bytes.Index(rest, []byte("-----BEGIN"))
		if begin < 0 {
			break
		}
		if len(bytes.TrimSpace(rest[:begin])) > 0 {
			return nil, fmt.Sprintf("has text before key %d: keep only the PEM blocks, each from -----BEGIN RSA PUBLIC KEY----- to -----END RSA PUBLIC KEY-----", n)
		}
		block, after := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Sprintf("key %d is not a complete PEM block: copy it whole, from its -----BEGIN line to its -----END line", n)
		}
		rest = after
		switch {
		case strings.Contains(block.Type, "PRIVATE"):
			return nil, fmt.Sprintf("key %d is a private key: give the servers' public keys only, and keep the private key secret", n)
		case block.Type != "RSA PUBLIC KEY" && block.Type != "PUBLIC KEY":
			return nil, fmt.Sprintf("block %d is %.40q, not a public key: give RSA PUBLIC KEY or PUBLIC KEY blocks", n, block.Type)
		}
		key, msg := parseRSAPublicKey(block.Bytes)
		if msg != "" {
			return nil, fmt.Sprintf("key %d %s", n, msg)
		}
		if bits := key.N.BitLen(); bits != mtprotoKeyBits {
			return nil, fmt.Sprintf("key %d has %d bits: MTProto servers use %d-bit RSA keys", n, bits, mtprotoKeyBits)
		}
		k := exchange.PublicKey{RSA: key}
		if first, dup := seen[k.Fingerprint()]; dup {
			return nil, fmt.Sprintf("key %d repeats key %d: list each key once", n, first)
		}
		seen[k.Fingerprint()] = n
		keys = append(keys, k)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		if len(keys) == 0 {
			return nil, "holds no PEM key: paste each key whole, from -----BEGIN RSA PUBLIC KEY----- to -----END RSA PUBLIC KEY-----"
		}
		return nil, fmt.Sprintf("has text after key %d: keep only the PEM blocks", len(keys))
	}
	return keys, ""
}

// parseRSAPublicKey reads a PKCS #1 or PKIX RSA public key; the message
// completes "key N ...".
func parseRSAPublicKey(der []byte) (*rsa.PublicKey, string) {
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, ""
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, "does not parse as an RSA public key (PKCS #1 or PKIX): copy it again from its source"
	}
	switch k := k.(type) {
	case *rsa.PublicKey:
		return k, ""
	case *ecdsa.PublicKey:
		return nil, "is an ECDSA key, not RSA: MTProto servers use RSA keys"
	case ed25519.PublicKey:
		return nil, "is an Ed25519 key, not RSA: MTProto servers use RSA keys"
	}
	return nil, "is not an RSA key: MTProto servers use RSA keys"
}

// fingerprint renders the MTProto fingerprint of a server key, as gotd
// and Telegram compute it, in hexadecimal.
func fingerprint(k exchange.PublicKey) string {
	return fmt.Sprintf("%016x", uint64(k.Fingerprint()))
}

// describeServer says in plain words which servers the bot connects to.
func (c *Config) describeServer() string {
	s := c.Telegram.Server
	dc := s.DC
	if dc == 0 {
		dc = DefaultDC
	}
	var b strings.Builder
	switch {
	case len(s.Addresses) > 0:
		b.WriteString("servers of your own, not Telegram's:")
		for i, id := range sortedDCs(s.Addresses) {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " DC %d at %s", id, s.Addresses[id])
		}
		fmt.Fprintf(&b, "; connects to DC %d first", dc)
	case s.Test:
		fmt.Fprintf(&b, "Telegram's test DCs (for a bot made on the test servers); connects to DC %d first", dc)
	default:
		b.WriteString("Telegram's production DCs")
		if dc != DefaultDC {
			fmt.Fprintf(&b, "; connects to DC %d first", dc)
		}
	}
	keys, msg := parsePublicKeys(s.PublicKeys)
	switch {
	case msg != "":
		b.WriteString(", with public keys that are not valid")
	case len(keys) == 0:
		b.WriteString(", with gotd's built-in keys")
	default:
		fps := make([]string, len(keys))
		for i, k := range keys {
			fps[i] = fingerprint(k)
		}
		what := "the public key given (fingerprint %s)"
		if len(keys) > 1 {
			what = "the %d public keys given (fingerprints %s)"
			fmt.Fprintf(&b, ", trusting "+what, len(keys), strings.Join(fps, ", "))
			break
		}
		fmt.Fprintf(&b, ", trusting "+what, fps[0])
	}
	return b.String() + "."
}
