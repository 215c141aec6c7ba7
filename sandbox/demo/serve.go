package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/botapi"
)

// ServeOptions configure Serve. The zero value is usable.
type ServeOptions struct {
	// Key is the bot's Passport key (default: a new 2048-bit key).
	Key *rsa.PrivateKey
	// Sandbox configures the local Telegram (Listen fixes its address).
	Sandbox sandbox.Options
	// BotAPIListen is where the Bot API front listens, "host:port"
	// (default: a free port of 127.0.0.1).
	BotAPIListen string
	// Verifier makes the demo bot one Telegram approved as a verifier, so
	// that it may put its mark on verified users' profiles
	// (sandbox.BotSpec.Verifier; default: not approved, and
	// bots.setCustomVerification is answered BOT_VERIFIER_FORBIDDEN).
	Verifier bool
}

// Served is a local Telegram with the demo bot's account and no bot
// running: the bot runs in processes of its own (`kycbot run` with the
// config of ProcessConfig), as `kycbot sandbox serve` sets it up.
type Served struct {
	// Sandbox is the local Telegram.
	Sandbox *sandbox.Sandbox
	// Account is the bot's account (BotUsername).
	Account sandbox.Bot
	// Key is the bot's Passport private key, registered with the account
	// as @BotFather's /setpublickey would.
	Key *rsa.PrivateKey
	// BotAPI is the Bot API front over the sandbox, and BotAPIURL its
	// base URL (telegram.bot_api_url): bots on the Bot API reach the same
	// Telegram there.
	BotAPI    *botapi.Server
	BotAPIURL string
}

// Serve starts the sandbox, registers the demo bot with a fresh key (or
// o.Key) and starts the Bot API front. Close stops them.
func Serve(ctx context.Context, o ServeOptions) (*Served, error) {
	sb, account, key, err := startAccount(ctx, o.Key, o.Sandbox)
	if err != nil {
		return nil, err
	}
	if o.Verifier {
		if err := sb.SetBotVerifier(account.ID, true); err != nil {
			_ = sb.Close()
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	front, url, err := startBotAPI(ctx, sb, o.BotAPIListen)
	if err != nil {
		_ = sb.Close()
		return nil, err
	}
	return &Served{Sandbox: sb, Account: account, Key: key, BotAPI: front, BotAPIURL: url}, nil
}

// startBotAPI serves the Bot API over sb on addr (a free port of
// 127.0.0.1 when empty) and returns the server and its base URL.
func startBotAPI(ctx context.Context, sb *sandbox.Sandbox, addr string) (*botapi.Server, string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	front, err := botapi.New(context.WithoutCancel(ctx), sb.Remote())
	if err != nil {
		return nil, "", fmt.Errorf("demo: bot api: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		_ = front.Close()
		return nil, "", fmt.Errorf("demo: bot api: listen on %s: %w", addr, err)
	}
	go func() { _ = front.Serve(ln) }()
	return front, "http://" + ln.Addr().String(), nil
}

// startAccount starts the sandbox and registers the demo bot with key (a
// new one when nil).
func startAccount(ctx context.Context, key *rsa.PrivateKey, opts sandbox.Options) (*sandbox.Sandbox, sandbox.Bot, *rsa.PrivateKey, error) {
	var err error
	if key == nil {
		if key, err = passport.GenerateKey(2048); err != nil {
			return nil, sandbox.Bot{}, nil, fmt.Errorf("demo: key: %w", err)
		}
	}
	pub, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return nil, sandbox.Bot{}, nil, fmt.Errorf("demo: key: %w", err)
	}
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		return nil, sandbox.Bot{}, nil, fmt.Errorf("demo: sandbox: %w", err)
	}
	account, err := sb.AddBot(sandbox.BotSpec{Username: BotUsername, FirstName: "KYC demo",
		PublicKeyPEM: string(pub), PrivacyPolicyURL: "https://example.com/privacy"})
	if err != nil {
		_ = sb.Close()
		return nil, sandbox.Bot{}, nil, fmt.Errorf("demo: %w", err)
	}
	return sb, account, key, nil
}

// Server returns the telegram.server setting with which a bot reaches the
// sandbox: its DCs' addresses and its public keys.
func (s *Served) Server() (config.TelegramServer, error) {
	rc, err := s.Sandbox.Remote().Config()
	if err != nil {
		return config.TelegramServer{}, fmt.Errorf("demo: %w", err)
	}
	return config.TelegramServer{DC: rc.DC, Addresses: rc.Addrs, PublicKeys: rc.PublicKeys}, nil
}

// Close stops the Bot API front and the sandbox.
func (s *Served) Close() error {
	return errors.Join(s.BotAPI.Close(), s.Sandbox.Close())
}

// NewPrefix returns a fresh Redis key prefix for a run
// ("kycbot-sandbox:<random>:"), so that runs never see each other's keys.
func NewPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "kycbot-sandbox:" + hex.EncodeToString(b[:]) + ":"
}

// ProcessConfig is what the config of the demo bot running in processes
// of its own says besides the demo configuration's levels and rules
// (DefaultConfig): its token, the servers, its key file, its web server
// and Redis. Its verified results go nowhere, on purpose (delivery.none),
// which kycbot run needs to be told.
type ProcessConfig struct {
	// Header is put at the top of the file as comment lines (without
	// "# ").
	Header []string
	// BotToken is the bot's token (Served.Account.Token).
	BotToken string
	// Server is telegram.server (Served.Server). Left zero, the config
	// has none: YAML then checks the other settings alone.
	Server config.TelegramServer
	// PrivateKeyFile is passport.private_key_file: a path relative to the
	// config file's directory, or absolute.
	PrivateKeyFile string
	// BotAPIURL is telegram.bot_api_url (Served.BotAPIURL), left out
	// when empty.
	BotAPIURL string
	// Transport is telegram.transport (config.TransportMTProto or
	// config.TransportBotAPI), and Receive telegram.bot_api.receive; both
	// are left out when empty (MTProto, polling).
	Transport, Receive string
	// PublicURL and Listen are web.public_url and web.listen.
	PublicURL, Listen string
	// RedisAddr and RedisPrefix are redis.addrs and redis.prefix;
	// RedisAddr lists several addresses, comma-separated, in sentinel and
	// cluster modes.
	RedisAddr, RedisPrefix string
	// RedisMode, RedisMasterName and RedisWaitReplicas are redis.mode,
	// redis.master_name and redis.wait_replicas, left out when zero.
	RedisMode, RedisMasterName string
	RedisWaitReplicas          int
	// Badge turns badge.enabled on: verified users get the bot's
	// verification mark (the bot must be a verifier: ServeOptions.Verifier).
	Badge bool
}

// YAML returns the config file: the demo configuration with p's settings,
// checked as config.Load would check it (an *config.Error names the
// settings that are wrong). Environment variables play no part.
func (p ProcessConfig) YAML() ([]byte, error) {
	yml := strings.NewReplacer("{{BOT_TOKEN}}", p.BotToken, "{{PUBLIC_URL}}", p.PublicURL,
		"{{REDIS_ADDR}}", p.RedisAddr, "{{REDIS_PREFIX}}", p.RedisPrefix).Replace(defaultConfig)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(yml), &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("demo: the demo configuration does not parse: %v", err)
	}
	root := doc.Content[0]
	root.HeadComment = ""
	doc.HeadComment = ""
	if len(root.Content) > 0 {
		root.Content[0].HeadComment = ""
	}
	if len(p.Server.Addresses) > 0 {
		srv := struct {
			DC         int            `yaml:"dc"`
			Addresses  map[int]string `yaml:"addresses"`
			PublicKeys string         `yaml:"public_keys"`
		}{p.Server.DC, p.Server.Addresses, p.Server.PublicKeys}
		var n yaml.Node
		if err := n.Encode(srv); err != nil {
			return nil, fmt.Errorf("demo: telegram.server: %w", err)
		}
		if err := setKey(root, []string{"telegram", "server"}, &n); err != nil {
			return nil, err
		}
	}
	addrs := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for a := range strings.SplitSeq(p.RedisAddr, ",") {
		addrs.Content = append(addrs.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.TrimSpace(a), Style: yaml.DoubleQuotedStyle})
	}
	if err := setKey(root, []string{"redis", "addrs"}, addrs); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		path  []string
		value string
		tag   string
	}{
		{[]string{"passport", "private_key_file"}, p.PrivateKeyFile, "!!str"},
		{[]string{"telegram", "bot_api_url"}, p.BotAPIURL, "!!str"},
		{[]string{"telegram", "transport"}, p.Transport, "!!str"},
		{[]string{"telegram", "bot_api", "receive"}, p.Receive, "!!str"},
		{[]string{"web", "listen"}, p.Listen, "!!str"},
		{[]string{"redis", "mode"}, p.RedisMode, "!!str"},
		{[]string{"redis", "master_name"}, p.RedisMasterName, "!!str"},
		{[]string{"redis", "wait_replicas"}, strconv.Itoa(p.RedisWaitReplicas), "!!int"},
		{[]string{"badge", "enabled"}, strconv.FormatBool(p.Badge), "!!bool"},
	} {
		if (s.path[0] == "redis" || s.path[0] == "telegram") && (s.value == "" || s.value == "0") || s.path[0] == "badge" && !p.Badge {
			continue
		}
		if err := setKey(root, s.path, &yaml.Node{Kind: yaml.ScalarNode, Tag: s.tag, Value: s.value}); err != nil {
			return nil, err
		}
	}
	// kycbot run refuses a config whose verified results go nowhere unless
	// it says so: the demo's go nowhere, on purpose.
	none := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "none"}, {Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}}}
	if err := setKey(root, []string{"delivery"}, none); err != nil {
		return nil, err
	}
	for j := 0; j+1 < len(root.Content); j += 2 {
		if root.Content[j].Value == "delivery" {
			root.Content[j].HeadComment = "# The demo keeps verified results nowhere, on purpose. To try your webhook\n" +
				"# receiver, replace none: true with webhook_url and webhook_secret."
		}
	}
	var b bytes.Buffer
	for _, l := range p.Header {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("demo: encode the config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("demo: encode the config: %w", err)
	}
	noEnv := config.WithEnv(func(string) (string, bool) { return "", false })
	if _, err := config.Parse(b.Bytes(), "the sandbox's config", noEnv); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// setKey sets the value at path in the mapping m, adding the mappings and
// the key that are missing.
func setKey(m *yaml.Node, path []string, value *yaml.Node) error {
	for i, k := range path {
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("demo: the demo configuration's %s is not a mapping", strings.Join(path[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == k {
				next = m.Content[j+1]
				if i == len(path)-1 {
					m.Content[j+1] = value
					return nil
				}
				break
			}
		}
		if next == nil {
			next = value
			if i < len(path)-1 {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, next)
			if i == len(path)-1 {
				return nil
			}
		}
		m = next
	}
	return nil
}

// DeleteKeys removes every key under prefix from Redis and returns how
// many it removed. An empty prefix is refused.
func DeleteKeys(ctx context.Context, c redis.UniversalClient, prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("demo: delete keys: no prefix given")
	}
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("demo: list keys: %w", err)
	}
	for i, k := range keys {
		if err := c.Unlink(ctx, k).Err(); err != nil {
			return i, fmt.Errorf("demo: delete keys: %w", err)
		}
	}
	return len(keys), nil
}
