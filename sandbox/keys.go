package sandbox

import (
	"context"
	"net/netip"
	"sync"

	"github.com/gotd/log"
	"github.com/gotd/td/tgerr"
)

// errAuthKeyDuplicated is Telegram's answer to every request with an auth
// key that was used from two addresses at once.
var errAuthKeyDuplicated = tgerr.New(406, "AUTH_KEY_DUPLICATED")

// keyState is what the servers know of auth keys apart from the accounts
// they are bound to: the open connections each key was used on, to detect
// a key used at the same time from two source addresses, and the lang_code
// of each key's last initConnection. Guarded by its own mutex; it is used
// from the serving goroutines with the gate held, so it never takes
// Sandbox.mu.
type keyState struct {
	mu sync.Mutex
	// open holds, per key, the open connections that carried it.
	open map[authKeyRef]map[*gatedConn]struct{}
	// byConn holds, per open connection, the keys it carried.
	byConn map[*gatedConn][]authKeyRef
	// duplicated keys were used from two addresses at once: Telegram
	// invalidates them for good.
	duplicated map[authKeyRef]bool
	langs      map[authKeyRef]string
}

func newKeyState() *keyState {
	return &keyState{
		open:       map[authKeyRef]map[*gatedConn]struct{}{},
		byConn:     map[*gatedConn][]authKeyRef{},
		duplicated: map[authKeyRef]bool{},
		langs:      map[authKeyRef]string{},
	}
}

// use records that a message with key ref arrived on conn and reports
// whether the key is duplicated: now, because an open connection from
// another address carried it too, or earlier. Connections from one address
// may share a key (gotd opens data connections beside the main one).
func (k *keyState) use(ref authKeyRef, conn *gatedConn) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	conns := k.open[ref]
	if conns == nil {
		conns = map[*gatedConn]struct{}{}
		k.open[ref] = conns
	}
	if _, ok := conns[conn]; !ok {
		conns[conn] = struct{}{}
		k.byConn[conn] = append(k.byConn[conn], ref)
	}
	for other := range conns {
		if other.ip != conn.ip {
			k.duplicated[ref] = true
			break
		}
	}
	return k.duplicated[ref]
}

// closed forgets a closed connection. Calling it again does nothing.
func (k *keyState) closed(conn *gatedConn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ref := range k.byConn[conn] {
		delete(k.open[ref], conn)
		if len(k.open[ref]) == 0 {
			delete(k.open, ref)
		}
	}
	delete(k.byConn, conn)
}

// openAddrs returns the source addresses of the open connections that
// carried key ref.
func (k *keyState) openAddrs(ref authKeyRef) []netip.Addr {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []netip.Addr
	for c := range k.open[ref] {
		out = append(out, c.ip)
	}
	return out
}

func (k *keyState) setLang(ref authKeyRef, lang string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.langs[ref] = lang
}

// lang returns the lang_code of the key's last initConnection.
func (k *keyState) lang(ref authKeyRef) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.langs[ref]
}

// invalidateKey logs the account bound to a duplicated key out on that key:
// the binding, a login waiting for its password and the sessions receiving
// updates through the key are dropped. The key stays refused (keyState).
func (sb *Sandbox) invalidateKey(ctx context.Context, ref authKeyRef) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	delete(sb.w.pending, ref)
	id, ok := sb.w.authKeys[ref]
	if !ok {
		return
	}
	delete(sb.w.authKeys, ref)
	if acc := sb.w.accounts[id]; acc != nil {
		for sid, s := range acc.sessions {
			if s.session.AuthKey.ID == ref.key && ref.dc == MainDC {
				delete(acc.sessions, sid)
			}
		}
	}
	sb.log.Info(ctx, "Auth key used from two addresses at once: logged out", log.Int64("user_id", id), log.Int("dc", ref.dc))
}
