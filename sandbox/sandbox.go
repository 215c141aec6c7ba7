package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gotd/log"
	"github.com/gotd/td/crypto"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/mt"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tmap"
	"github.com/gotd/td/transport"
)

// MainDC is the data center every account lives on.
const MainDC = 2

// DefaultLoginCode is the code auth.signIn accepts, as on Telegram's test
// servers.
const DefaultLoginCode = "12345"

// Options configure a Sandbox. The zero value is usable.
type Options struct {
	// Logger receives the server's logs (gotd's log.Logger; wrap zap with
	// logzap.New). No logs by default. Nothing personal is ever logged:
	// methods, IDs, element types and error codes only.
	Logger log.Logger
	// Random is the source of every random value (auth key exchange, access
	// hashes, SRP, value hashes). Defaults to crypto/rand.
	Random io.Reader
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// ServerKey is the RSA key of the MTProto servers. Generating one takes
	// a moment, so tests that start many sandboxes can share one. Generated
	// when nil.
	ServerKey *rsa.PrivateKey
	// FilesDC, when set to a DC other than MainDC (e.g. 4), starts that
	// second DC and stores every Passport file there: upload.getFile on DC 2
	// then answers FILE_MIGRATE_<FilesDC>, as Telegram does for media on
	// another DC. Zero keeps files on DC 2.
	FilesDC int
	// LoginCode is the code auth.signIn accepts (DefaultLoginCode if empty).
	LoginCode string
	// CallbackTimeout bounds how long messages.getBotCallbackAnswer waits
	// for the bot's messages.setBotCallbackAnswer before answering
	// BOT_RESPONSE_TIMEOUT. Default 5s.
	CallbackTimeout time.Duration
	// ReadTimeout is how long a connection may stay silent before the
	// server drops it. Default 3 minutes (gotd pings every minute).
	ReadTimeout time.Duration
	// Listen gives the "host:port" a DC's server listens on, by DC ID
	// (MainDC, and FilesDC when set), for servers that must keep their
	// address across runs (a config written for other processes). The
	// host is an IPv4 address other than 0.0.0.0, since clients are told
	// it; port 0 picks a free port. A DC not in it listens on a free port
	// of 127.0.0.1.
	Listen map[int]string
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = log.Nop
	}
	if o.Random == nil {
		o.Random = rand.Reader
	} else {
		o.Random = &lockedReader{r: o.Random}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LoginCode == "" {
		o.LoginCode = DefaultLoginCode
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = 5 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 3 * time.Minute
	}
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// dataCenter is one running MTProto server.
type dataCenter struct {
	id       int
	srv      *tgtest.Server
	listener *gatedListener
	addr     *net.TCPAddr
}

// Sandbox is a local Telegram: MTProto servers on loopback TCP (gotd's
// tgtest) with the bot-facing and user-facing methods a Telegram Passport
// flow needs. Create it with Start and stop it with Close. All methods are
// safe for concurrent use.
type Sandbox struct {
	opts Options
	log  log.Helper
	rand io.Reader

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // request goroutines and account senders
	served chan error     // one result per DC server

	dcs  map[int]*dataCenter
	keys []exchange.PublicKey
	cfg  tg.Config

	disp     *tg.ServerDispatcher
	tgTypes  *tmap.Map
	mtTypes  map[uint32]string
	gate     gate
	authKeys *keyState
	// transports counts the connections by transport (Transports).
	transports transportCounts

	faults *faults

	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex
	w  world
}

// Start starts the servers (DC 2, and Options.FilesDC when set) on free
// ports of 127.0.0.1, or at Options.Listen, and returns once they accept
// connections. The servers stop when ctx
// is done or Close is called.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	opts.setDefaults()
	if opts.FilesDC < 0 || opts.FilesDC > 5 {
		return nil, fmt.Errorf("sandbox: FilesDC %d: Telegram has DCs 1 to 5", opts.FilesDC)
	}
	listen, err := listenAddrs(opts)
	if err != nil {
		return nil, err
	}
	key := opts.ServerKey
	if key == nil {
		if key, err = rsa.GenerateKey(opts.Random, crypto.RSAKeyBits); err != nil {
			return nil, fmt.Errorf("sandbox: generate server key: %w", err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	sb := &Sandbox{
		opts:     opts,
		log:      log.For(opts.Logger),
		rand:     opts.Random,
		ctx:      sctx,
		cancel:   cancel,
		dcs:      map[int]*dataCenter{},
		tgTypes:  tmap.New(tg.TypesMap(), mt.TypesMap()),
		mtTypes:  mt.TypesMap(),
		faults:   newFaults(),
		authKeys: newKeyState(),
		w:        newWorld(),
	}
	sb.disp = tg.NewServerDispatcher(sb.fallback)
	sb.register(sb.disp)

	var lc net.ListenConfig
	for _, id := range dcIDs(opts) {
		l, err := lc.Listen(ctx, "tcp4", listen[id])
		if err != nil {
			cancel()
			for _, d := range sb.dcs {
				_ = d.listener.Close()
			}
			return nil, fmt.Errorf("sandbox: DC %d: listen on %s: %w", id, listen[id], err)
		}
		d := &dataCenter{id: id, listener: newGatedListener(l, &sb.gate, sb.authKeys, &sb.transports, sb.log.Named(fmt.Sprintf("dc%d", id))), addr: l.Addr().(*net.TCPAddr)}
		d.srv = tgtest.NewServer(tgtest.NewPrivateKey(key), sb.handler(id), tgtest.ServerOptions{
			DC:          id,
			Random:      opts.Random,
			Logger:      sb.log.Named(fmt.Sprintf("dc%d", id)).Logger(),
			ReadTimeout: opts.ReadTimeout,
		})
		sb.dcs[id] = d
		sb.cfg.DCOptions = append(sb.cfg.DCOptions, tg.DCOption{
			Static: true, ID: id, IPAddress: d.addr.IP.String(), Port: d.addr.Port,
		})
		if len(sb.keys) == 0 {
			sb.keys = append(sb.keys, d.srv.Key())
		}
	}
	now := int(opts.Now().Unix())
	sb.cfg.Date = now
	sb.cfg.Expires = now + 3600
	sb.cfg.ChatSizeMax = 200
	sb.cfg.MegagroupSizeMax = 200000
	sb.cfg.ForwardedCountMax = 100
	sb.cfg.OnlineUpdatePeriodMs = 120000
	sb.cfg.OfflineBlurTimeoutMs = 5000
	sb.cfg.OfflineIdleTimeoutMs = 30000
	sb.cfg.OnlineCloudTimeoutMs = 300000
	sb.cfg.NotifyCloudDelayMs = 30000
	sb.cfg.NotifyDefaultDelayMs = 1500
	sb.cfg.PushChatPeriodMs = 60000
	sb.cfg.PushChatLimit = 2
	sb.cfg.EditTimeLimit = 172800
	sb.cfg.RevokeTimeLimit = 2147483647
	sb.cfg.RevokePmTimeLimit = 2147483647
	sb.cfg.RatingEDecay = 2419200
	sb.cfg.StickersRecentLimit = 200
	sb.cfg.ChannelsReadMediaPeriod = 604800
	sb.cfg.CallReceiveTimeoutMs = 20000
	sb.cfg.CallRingTimeoutMs = 90000
	sb.cfg.CallConnectTimeoutMs = 30000
	sb.cfg.CallPacketTimeoutMs = 10000
	sb.cfg.MeURLPrefix = "https://t.me/"
	sb.cfg.CaptionLengthMax = 1024
	sb.cfg.MessageLengthMax = 4096
	sb.cfg.WebfileDCID = MainDC

	sb.served = make(chan error, len(sb.dcs))
	for _, d := range sb.dcs {
		go func() {
			err := d.srv.Serve(sctx, transport.ListenCodec(nil, d.listener))
			if err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("sandbox: DC %d: %w", d.id, err)
			} else {
				err = nil
			}
			sb.served <- err
		}()
	}
	return sb, nil
}

// dcIDs returns the DCs Start runs.
func dcIDs(opts Options) []int {
	ids := []int{MainDC}
	if opts.FilesDC != 0 && opts.FilesDC != MainDC {
		ids = append(ids, opts.FilesDC)
	}
	return ids
}

// listenAddrs checks Options.Listen and returns the address each DC
// listens on.
func listenAddrs(opts Options) (map[int]string, error) {
	ids := dcIDs(opts)
	out := make(map[int]string, len(ids))
	for _, id := range ids {
		out[id] = "127.0.0.1:0"
	}
	for id, addr := range opts.Listen {
		if _, ok := out[id]; !ok {
			return nil, fmt.Errorf("sandbox: Listen: the sandbox runs no DC %d (it runs DC %d, and Options.FilesDC when set)", id, MainDC)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("sandbox: Listen: DC %d: %q is not host:port (such as 127.0.0.1:44302)", id, addr)
		}
		ip, err := netip.ParseAddr(host)
		ip = ip.Unmap()
		if err != nil || !ip.Is4() || ip.IsUnspecified() {
			return nil, fmt.Errorf("sandbox: Listen: DC %d: host %q is not an IPv4 address clients can be told (such as 127.0.0.1; not 0.0.0.0)", id, host)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("sandbox: Listen: DC %d: port %q is not a number from 0 (any free port) to 65535", id, port)
		}
		out[id] = net.JoinHostPort(ip.String(), port)
	}
	return out, nil
}

// Close stops the servers and waits for every request in flight. Clients
// still connected see their connection drop. Calling it again returns the
// first result.
func (sb *Sandbox) Close() error {
	sb.closeOnce.Do(func() {
		sb.cancel()
		// Serving goroutines sit in reads with a long deadline: end them.
		for _, d := range sb.dcs {
			d.listener.dropAll()
		}
		var errs []error
		for range sb.dcs {
			errs = append(errs, <-sb.served)
		}
		sb.wg.Wait()
		sb.closeErr = errors.Join(errs...)
	})
	return sb.closeErr
}

// PublicKeys returns the servers' public keys for telegram.Options.
func (sb *Sandbox) PublicKeys() []exchange.PublicKey {
	return append([]exchange.PublicKey(nil), sb.keys...)
}

// DCList returns the addresses of the servers for telegram.Options.
func (sb *Sandbox) DCList() dcs.List {
	return dcs.List{Options: append([]tg.DCOption(nil), sb.cfg.DCOptions...)}
}

// Resolver returns the dialer for telegram.Options (plain TCP,
// intermediate transport).
func (sb *Sandbox) Resolver() dcs.Resolver {
	return dcs.Plain(dcs.PlainOptions{Protocol: transport.Intermediate})
}

// Options returns telegram.Options that connect a gotd client to the
// sandbox: PublicKeys, Resolver, DCList and DC set, with the given session
// storage (a fresh session.StorageMemory when nil). Add UpdateHandler,
// Logger and Middlewares as needed.
func (sb *Sandbox) Options(storage session.Storage) telegram.Options {
	return sb.Remote().Options(storage)
}

// Addr returns the TCP address of a DC's server, or nil.
func (sb *Sandbox) Addr(dc int) net.Addr {
	if d, ok := sb.dcs[dc]; ok {
		return d.addr
	}
	return nil
}

func (sb *Sandbox) now() time.Time { return sb.opts.Now() }

func (sb *Sandbox) unix() int { return int(sb.opts.Now().Unix()) }

func (sb *Sandbox) randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(sb.rand, b); err != nil {
		// crypto/rand does not fail; a custom reader that runs dry is a
		// programming error in the test that supplied it.
		panic(fmt.Sprintf("sandbox: random source failed: %v", err))
	}
	return b
}

func (sb *Sandbox) randInt64() int64 {
	b := sb.randBytes(8)
	var v int64
	for _, x := range b {
		v = v<<8 | int64(x)
	}
	if v < 0 {
		v = -v
	}
	if v == 0 {
		v = 1
	}
	return v
}
