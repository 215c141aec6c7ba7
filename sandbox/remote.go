package sandbox

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gotd/td/telegram/dcs"
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
