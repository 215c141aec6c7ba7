package sandbox

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/transport"
)

// ResolverFrom returns a dialer for telegram.Options (plain TCP,
// intermediate transport, like Sandbox.Resolver) whose connections leave
// from the source address ip, so that a test or a process of a
// multi-process deployment shows the servers an address of its own (the
// servers refuse an auth key used from two addresses at once with 406
// AUTH_KEY_DUPLICATED). The servers listen on 127.0.0.1; on Linux any
// 127.x.y.z source address reaches them. It needs no Sandbox: a process
// that only knows the servers' addresses can use it.
func ResolverFrom(ip string) (dcs.Resolver, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, fmt.Errorf("sandbox: source address %q is not an IP address (use one like 127.0.0.2): %w", ip, err)
	}
	addr = addr.Unmap()
	if !addr.Is4() {
		return nil, fmt.Errorf("sandbox: source address %s is not IPv4: the servers listen on 127.0.0.1 (use one like 127.0.0.2)", addr)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IP(addr.AsSlice())}}
	return dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate, Network: "tcp4", Dial: d.DialContext}), nil
}

// Remote is how to reach a sandbox's servers over the network: what a
// process other than the one running the sandbox needs to connect a bot
// (Options) or a simulated user (Connect). Sandbox.Remote returns it;
// RemoteConfig carries it as plain data, for a file.
type Remote struct {
	// DC is the data center accounts live on (MainDC).
	DC int
	// DCList holds the servers' addresses.
	DCList dcs.List
	// PublicKeys are the servers' RSA public keys.
	PublicKeys []exchange.PublicKey
	// Resolver dials the servers. Nil dials plain TCP with the
	// intermediate transport; ResolverFrom dials from a source address of
	// one's own.
	Resolver dcs.Resolver
	// LoginCode is the code auth.signIn accepts (DefaultLoginCode when
	// empty).
	LoginCode string
}

// Remote returns the connection settings of the sandbox's servers.
func (sb *Sandbox) Remote() Remote {
	return Remote{
		DC: MainDC, DCList: sb.DCList(), PublicKeys: sb.PublicKeys(),
		Resolver: sb.Resolver(), LoginCode: sb.opts.LoginCode,
	}
}

// Options returns telegram.Options that connect a gotd client to the
// servers: PublicKeys, Resolver, DCList and DC set, with the given session
// storage (a fresh session.StorageMemory when nil). Add UpdateHandler,
// Logger and Middlewares as needed.
func (r Remote) Options(storage session.Storage) telegram.Options {
	if storage == nil {
		storage = &session.StorageMemory{}
	}
	resolver := r.Resolver
	if resolver == nil {
		resolver = dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate})
	}
	return telegram.Options{
		PublicKeys:     append([]exchange.PublicKey(nil), r.PublicKeys...),
		Resolver:       resolver,
		DCList:         dcs.List{Options: append([]tg.DCOption(nil), r.DCList.Options...), Domains: r.DCList.Domains},
		DC:             r.DC,
		SessionStorage: storage,
	}
}

func (r Remote) loginCode() string {
	if r.LoginCode == "" {
		return DefaultLoginCode
	}
	return r.LoginCode
}

// validate checks that r can reach a DC.
func (r Remote) validate() error {
	if len(r.PublicKeys) == 0 {
		return errors.New("sandbox: remote: no server public key (take them from Sandbox.Remote or RemoteConfig)")
	}
	for _, o := range r.DCList.Options {
		if o.ID == r.DC {
			return nil
		}
	}
	return fmt.Errorf("sandbox: remote: no address for DC %d in DCList (take it from Sandbox.Remote or RemoteConfig)", r.DC)
}

// PublicKeysPEM encodes the servers' public keys as PEM ("RSA PUBLIC KEY"
// blocks, the form Telegram publishes its keys in); ParsePublicKeys reads
// them back.
func (r Remote) PublicKeysPEM() ([]byte, error) {
	var out []byte
	for i, k := range r.PublicKeys {
		if k.RSA == nil {
			return nil, fmt.Errorf("sandbox: public key %d is empty", i)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k.RSA)})...)
	}
	return out, nil
}

// ParsePublicKeys reads servers' RSA public keys from PEM (PKCS #1 "RSA
// PUBLIC KEY" or PKIX "PUBLIC KEY" blocks), as Remote.PublicKeysPEM writes
// them.
func ParsePublicKeys(data []byte) ([]exchange.PublicKey, error) {
	keys, err := crypto.ParseRSAPublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("sandbox: server public keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("sandbox: server public keys: no PEM block found (want RSA PUBLIC KEY blocks, as Remote.PublicKeysPEM writes)")
	}
	out := make([]exchange.PublicKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, exchange.PublicKey{RSA: k})
	}
	return out, nil
}

// RemoteConfig is a Remote as plain data, for a file that one process
// writes (Remote.Config) and another reads (RemoteConfig.Remote). With
// encoding/json:
//
//	{"dc":2,"addrs":{"2":"127.0.0.1:40123"},"public_keys":"-----BEGIN RSA PUBLIC KEY-----\n...","login_code":"12345"}
type RemoteConfig struct {
	// DC is the data center accounts live on.
	DC int `json:"dc" yaml:"dc"`
	// Addrs are the servers' "host:port" addresses by DC ID (the host an
	// IP address).
	Addrs map[int]string `json:"addrs" yaml:"addrs"`
	// PublicKeys are the servers' RSA public keys, PEM.
	PublicKeys string `json:"public_keys" yaml:"public_keys"`
	// LoginCode is the code auth.signIn accepts (DefaultLoginCode when
	// empty).
	LoginCode string `json:"login_code,omitempty" yaml:"login_code,omitempty"`
}

// Config returns r as plain data. The resolver is not part of it: the
// reading process chooses its own.
func (r Remote) Config() (RemoteConfig, error) {
	keys, err := r.PublicKeysPEM()
	if err != nil {
		return RemoteConfig{}, err
	}
	c := RemoteConfig{DC: r.DC, Addrs: map[int]string{}, PublicKeys: string(keys), LoginCode: r.LoginCode}
	for _, o := range r.DCList.Options {
		if _, ok := c.Addrs[o.ID]; !ok {
			c.Addrs[o.ID] = net.JoinHostPort(o.IPAddress, strconv.Itoa(o.Port))
		}
	}
	return c, nil
}

// Remote checks the configuration and returns it as a Remote, with a nil
// Resolver (plain TCP; set one, e.g. from ResolverFrom, to dial from a
// source address of one's own).
func (c RemoteConfig) Remote() (Remote, error) {
	if c.DC < 1 || c.DC > 5 {
		return Remote{}, fmt.Errorf("sandbox: remote config: dc %d: Telegram has DCs 1 to 5 (the sandbox's accounts live on %d)", c.DC, MainDC)
	}
	if _, ok := c.Addrs[c.DC]; !ok {
		return Remote{}, fmt.Errorf("sandbox: remote config: addrs has no address for dc %d", c.DC)
	}
	keys, err := ParsePublicKeys([]byte(c.PublicKeys))
	if err != nil {
		return Remote{}, fmt.Errorf("sandbox: remote config: public_keys: %w", err)
	}
	r := Remote{DC: c.DC, PublicKeys: keys, LoginCode: c.LoginCode}
	ids := make([]int, 0, len(c.Addrs))
	for id := range c.Addrs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		o, err := dcOption(id, c.Addrs[id])
		if err != nil {
			return Remote{}, fmt.Errorf("sandbox: remote config: addrs: %w", err)
		}
		r.DCList.Options = append(r.DCList.Options, o)
	}
	return r, nil
}

// dcOption parses the "host:port" address of a DC.
func dcOption(id int, addr string) (tg.DCOption, error) {
	if id < 1 || id > 5 {
		return tg.DCOption{}, fmt.Errorf("DC %d: Telegram has DCs 1 to 5", id)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return tg.DCOption{}, fmt.Errorf("DC %d: address %q is not host:port: %w", id, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return tg.DCOption{}, fmt.Errorf("DC %d: host %q is not an IP address (like 127.0.0.1): %w", id, host, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return tg.DCOption{}, fmt.Errorf("DC %d: port %q is not a number from 1 to 65535", id, portText)
	}
	ip = ip.Unmap()
	return tg.DCOption{Static: true, ID: id, IPAddress: ip.String(), Port: port, Ipv6: ip.Is6()}, nil
}
