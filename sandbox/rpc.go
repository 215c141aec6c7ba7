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
		if conn := sb.gate.holder; conn != nil {
			duplicated = sb.authKeys.use(ref, conn)
		}
		buf := req.Buf
		updates := true
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
				w = &tg.InvokeWithLayerRequest{Query: q}
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
		data := append([]byte(nil), buf.Buf...)
		r := &tgtest.Request{DC: req.DC, Session: req.Session, MsgID: req.MsgID, RequestCtx: req.RequestCtx}
		c := &call{dc: dc, srv: srv, session: req.Session, updates: updates, method: id, duplicated: duplicated}
		sb.wg.Add(1)
		go func() {
			defer sb.wg.Done()
			sb.serve(c, r, data)
		}()
		return nil
	}
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
