package sandbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotd/log"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// call describes the request being served: which DC and MTProto session it
// came from and whether the session receives updates.
type call struct {
	dc      int
	srv     *tgtest.Server
	session tgtest.Session
	// updates is false for requests wrapped in invokeWithoutUpdates (gotd's
	// data connections: downloads, uploads through pools).
	updates bool
	method  uint32
	// duplicated is set when the request's auth key was used from two
	// source addresses at once (AUTH_KEY_DUPLICATED).
	duplicated bool
	// layer is the schema layer the request is in: the one it declares
	// (invokeWithLayer), else the last one its connection declared, else
	// tg.Layer. Only tg.Layer is served (see errLayer).
	layer int
}

// key is the auth key of the request's session on its DC.
func (c *call) key() authKeyRef { return authKeyRef{dc: c.dc, key: c.session.AuthKey.ID} }

type callKey struct{}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// errMethod is the answer to a method the sandbox does not implement,
// exactly as tgtest and Telegram answer it.
var errMethod = tgerr.New(400, "INPUT_METHOD_INVALID")

// Layers lists the schema layers the servers speak: gotd's tg.Layer, the
// layer of the schema the sandbox is built from, and no other. A request
// in another layer (declared with invokeWithLayer, on that request or
// earlier on its connection) is not served: it answers ErrLayer.
func Layers() []int { return []int{tg.Layer} }

// ErrLayer is the error_message of the answer to a request in a layer
// the servers do not speak (400): CONNECTION_LAYER_INVALID, the error
// Telegram documents for an invalid layer, with the layer the servers
// speak as its argument (as in FLOOD_WAIT_X), so that the client's
// message names it: CONNECTION_LAYER_INVALID_229. gotd's tgerr reads it
// as type CONNECTION_LAYER_INVALID with argument 229. The argument also
// keeps clients that answer a bare CONNECTION_LAYER_INVALID by sending
// initConnection again (Telegram Desktop does) from doing so forever.
var ErrLayer = fmt.Sprintf("CONNECTION_LAYER_INVALID_%d", tg.Layer)

// errLayer is the answer to a request in a layer the servers do not speak.
var errLayer = tgerr.New(400, ErrLayer)

// queryPeek decodes nothing: it lets an invoke wrapper be decoded up to its
// inner query, leaving the buffer at the query.
type queryPeek struct{ id uint32 }

func (q *queryPeek) Decode(b *bin.Buffer) error {
	id, err := b.PeekID()
	q.id = id
	return err
}

func (q *queryPeek) Encode(*bin.Buffer) error { return errors.New("queryPeek is decode-only") }

// handler returns the tgtest handler of one DC. It records the use of the
// request's auth key on its connection (see keyState), unwraps
// invokeWithLayer, initConnection (remembering its lang_code) and
// invokeWithoutUpdates, then serves the request on its own goroutine so
// that a slow request (a throttled download, a callback query waiting for
// the bot) never blocks the connection, as on Telegram.
//
// tgtest calls the handler from the connection's serving goroutine with
// the gate held, so sb.gate.holder is the connection of the request.
func (sb *Sandbox) handler(dc int) tgtest.HandlerFunc {
	return func(srv *tgtest.Server, req *tgtest.Request) error {
		ref := authKeyRef{dc: dc, key: req.Session.AuthKey.ID}
		duplicated := false
		conn := sb.gate.holder
		if conn != nil {
			duplicated = sb.authKeys.use(ref, conn)
		}
		buf := req.Buf
		updates := true
		layer := 0
	unwrap:
		for {
			id, err := buf.PeekID()
			if err != nil {
				return fmt.Errorf("peek request type: %w", err)
			}
			var w bin.Decoder
			q := &queryPeek{}
			switch id {
			case tg.InvokeWithLayerRequestTypeID:
				wl := &tg.InvokeWithLayerRequest{Query: q}
				if err := wl.Decode(buf); err != nil {
					return fmt.Errorf("decode invokeWithLayer: %w", err)
				}
				layer = wl.Layer
				continue
			case tg.InitConnectionRequestTypeID:
				ic := &tg.InitConnectionRequest{Query: q}
				if err := ic.Decode(buf); err != nil {
					return fmt.Errorf("decode initConnection: %w", err)
				}
				sb.authKeys.setLang(ref, ic.LangCode)
				continue
			case tg.InvokeWithoutUpdatesRequestTypeID:
				updates = false
				w = &tg.InvokeWithoutUpdatesRequest{Query: q}
			default:
				break unwrap
			}
			if err := w.Decode(buf); err != nil {
				return fmt.Errorf("decode invoke wrapper: %w", err)
			}
		}
		id, _ := buf.PeekID()
		if _, ok := sb.mtTypes[id]; ok {
			// msgs_ack and other service messages need no answer.
			return nil
		}
		layer = connLayer(conn, layer)
		data := append([]byte(nil), buf.Buf...)
		r := &tgtest.Request{DC: req.DC, Session: req.Session, MsgID: req.MsgID, RequestCtx: req.RequestCtx}
		c := &call{dc: dc, srv: srv, session: req.Session, updates: updates, method: id, duplicated: duplicated, layer: layer}
		sb.wg.Add(1)
		go func() {
			defer sb.wg.Done()
			sb.serve(c, r, data)
		}()
		return nil
	}
}

// connLayer returns the layer of a request that declared declared (0:
// none), recording it as its connection's layer: a request declaring none
// is in the last layer its connection declared, or tg.Layer. conn is nil
// when the connection is not known (then only the request's own counts).
// Only the connection's serving goroutine, which holds the gate, calls it.
func connLayer(conn *gatedConn, declared int) int {
	if conn != nil {
		if declared != 0 {
			conn.layer = declared
		}
		declared = conn.layer
	}
	if declared == 0 {
		return tg.Layer
	}
	return declared
}

func (sb *Sandbox) serve(c *call, req *tgtest.Request, data []byte) {
	ctx := context.WithValue(sb.ctx, callKey{}, c)
	res, err := sb.invoke(ctx, c, data)
	if err != nil {
		var rpcErr *tgerr.Error
		if !errors.As(err, &rpcErr) {
			// Handlers answer with *tgerr.Error; anything else comes from
			// decoding the request.
			sb.log.Warn(ctx, "Bad request", log.String("method", sb.typeName(c.method)), log.Error(err))
			rpcErr = tgerr.New(400, "INPUT_REQUEST_INVALID")
		}
		if err := c.srv.SendErr(req, rpcErr); err != nil {
			sb.log.Debug(ctx, "Send error answer", log.Error(err))
		}
		return
	}
	if err := c.srv.SendResult(req, res); err != nil {
		sb.log.Debug(ctx, "Send result", log.String("method", sb.typeName(c.method)), log.Error(err))
	}
}

func (sb *Sandbox) invoke(ctx context.Context, c *call, data []byte) (bin.Encoder, error) {
	if c.duplicated {
		sb.faults.count(c.method)
		sb.invalidateKey(ctx, c.key())
		return nil, errAuthKeyDuplicated
	}
	if c.layer != tg.Layer {
		// Refused before anything is decoded or done: a client of another
		// layer could not parse the answers (the users, messages and
		// methods of the Passport flow differ between layers).
		sb.faults.count(c.method)
		sb.log.Debug(ctx, "Request in a layer the servers do not speak",
			log.Int("layer", c.layer), log.Int("served_layer", tg.Layer), log.String("method", sb.typeName(c.method)))
		return nil, errLayer
	}
	if err := sb.faults.before(ctx, c); err != nil {
		return nil, err
	}
	if !delaysItself(c.method) {
		if err := sb.faults.delay(ctx, c.method); err != nil {
			return nil, err
		}
	}
	sb.touch(c)
	return sb.disp.Handle(ctx, &bin.Buffer{Buf: data})
}

func (sb *Sandbox) typeName(id uint32) string {
	if n := sb.tgTypes.Get(id); n != "" {
		return n
	}
	return fmt.Sprintf("%#x", id)
}

// fallback answers every method the sandbox does not implement.
func (sb *Sandbox) fallback(ctx context.Context, b *bin.Buffer) (bin.Encoder, error) {
	id, _ := b.PeekID()
	sb.log.Debug(ctx, "Method not implemented", log.String("method", sb.typeName(id)))
	return nil, errMethod
}
