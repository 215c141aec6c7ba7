package sandbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/gotd/td/mtproxy/obfuscated2"
	"github.com/gotd/td/proto/codec"
)

// The transports a connection can use, as Sandbox.Transports names them.
// Every DC accepts all of them on its one port, as Telegram's servers do:
// the plain codecs (the first bytes name the codec) and the obfuscated
// ones (a 64-byte obfuscation header, then AES-CTR over one of the
// abridged, intermediate or padded intermediate codecs, as official apps,
// MTProxy clients and browser clients speak).
const (
	TransportAbridged           = "abridged"
	TransportIntermediate       = "intermediate"
	TransportPaddedIntermediate = "padded intermediate"
	TransportFull               = "full"

	TransportObfuscatedAbridged           = "obfuscated abridged"
	TransportObfuscatedIntermediate       = "obfuscated intermediate"
	TransportObfuscatedPaddedIntermediate = "obfuscated padded intermediate"
)

// obfuscatedHeaderLen is the size of the obfuscation header (init).
const obfuscatedHeaderLen = 64

// errObfuscatedTag is the answer to an obfuscation header naming no codec
// the servers know (a wrong secret, or a header that is not one).
var errObfuscatedTag = errors.New("obfuscated transport: the header names no known codec (abridged 0xefefefef, intermediate 0xeeeeeeee, padded intermediate 0xdddddddd); MTProxy secrets are not accepted: connect with an empty secret")

// plainTransport names the plain transport whose first bytes are head.
// complete is false when more bytes are needed to tell; a complete answer
// with no name is the start of an obfuscation header.
//
// The rules are Telegram's (and what clients avoid when they draw the
// random obfuscation header): 0xef is abridged, 0xeeeeeeee intermediate,
// 0xdddddddd padded intermediate; a full transport packet starts with its
// length and the sequence number 0, and an obfuscation header never has
// zero in its second 32-bit word.
func plainTransport(head []byte) (name string, complete bool) {
	switch {
	case len(head) == 0:
		return "", false
	case head[0] == codec.AbridgedClientStart[0]:
		return TransportAbridged, true
	case len(head) < 4:
		return "", false
	case [4]byte(head[:4]) == codec.IntermediateClientStart:
		return TransportIntermediate, true
	case [4]byte(head[:4]) == codec.PaddedIntermediateClientStart:
		return TransportPaddedIntermediate, true
	case len(head) < 8:
		return "", false
	case binary.LittleEndian.Uint32(head[4:8]) == 0:
		return TransportFull, true
	}
	return "", true
}

// obfuscatedTransport names the obfuscated transport of a deobfuscated
// protocol tag and returns the bytes of the plain codec's header that the
// codec detection of tgtest's listener reads before the first packet.
func obfuscatedTransport(tag [4]byte) (string, []byte, error) {
	switch tag {
	case codec.Abridged{}.ObfuscatedTag():
		// The plain abridged header is a single byte.
		return TransportObfuscatedAbridged, tag[:1], nil
	case codec.Intermediate{}.ObfuscatedTag():
		return TransportObfuscatedIntermediate, tag[:], nil
	case codec.PaddedIntermediate{}.ObfuscatedTag():
		return TransportObfuscatedPaddedIntermediate, tag[:], nil
	}
	return "", nil, errObfuscatedTag
}

// readWriter joins the buffered reader of a connection and its writer.
type readWriter struct {
	io.Reader
	io.Writer
}

// acceptTransport reads the start of a connection (r buffers conn) and
// returns the transport it uses, with the reader and writer that serve
// it as a plain transport (the codec's header first): r and nil for a
// plain transport, the deobfuscating ones for an obfuscated transport.
// Writes through the returned writer must not run concurrently (tgtest's
// connections serialize them).
func acceptTransport(r *bufio.Reader, conn io.Writer) (string, io.Reader, io.Writer, error) {
	for _, n := range [...]int{1, 4, 8} {
		head, err := r.Peek(n)
		name, complete := plainTransport(head)
		if complete {
			if name != "" {
				return name, r, nil, nil
			}
			break
		}
		if err != nil {
			return "", nil, nil, fmt.Errorf("read transport header: %w", err)
		}
	}
	// gotd's server side of obfuscated2, with no MTProxy secret: a direct
	// connection to a DC, as apps make. The DC number in the header is
	// ignored, as Telegram's DCs do (MTProxy routes by it).
	rw, md, err := obfuscated2.Accept(readWriter{Reader: r, Writer: conn}, nil)
	if err != nil {
		return "", nil, nil, fmt.Errorf("read obfuscation header: %w", err)
	}
	name, header, err := obfuscatedTransport(md.Protocol)
	if err != nil {
		return "", nil, nil, err
	}
	return name, io.MultiReader(bytes.NewReader(header), rw), rw, nil
}

// transportCounts counts the connections each transport carried.
type transportCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *transportCounts) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

func (c *transportCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// Transports returns how many connections the servers accepted with each
// transport since Start, by the names of the Transport constants
// (TransportObfuscatedAbridged, ...). Connections refused before they
// named a transport the servers know are not counted.
func (sb *Sandbox) Transports() map[string]int {
	return sb.transports.snapshot()
}

// TransportNames returns the names of every transport the servers accept,
// sorted.
func TransportNames() []string {
	names := []string{
		TransportAbridged, TransportIntermediate, TransportPaddedIntermediate, TransportFull,
		TransportObfuscatedAbridged, TransportObfuscatedIntermediate, TransportObfuscatedPaddedIntermediate,
	}
	sort.Strings(names)
	return names
}
