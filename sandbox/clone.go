package sandbox

import (
	"fmt"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// gotd's Encode calls SetFlags, which writes to the object: encoding one
// object from two goroutines is a data race. Objects kept in the sandbox's
// state are therefore only encoded under Sandbox.mu, and everything that
// leaves the lock (RPC results, pushed updates) is a fresh copy made by an
// encode/decode round trip.

var errInternal = tgerr.New(500, "INTERNAL_SERVER_ERROR")

func encodeObj(v bin.Encoder) (*bin.Buffer, error) {
	var b bin.Buffer
	if err := v.Encode(&b); err != nil {
		return nil, fmt.Errorf("sandbox: encode %T: %w", v, err)
	}
	return &b, nil
}

func cloneMessage(m tg.MessageClass) (tg.MessageClass, error) {
	b, err := encodeObj(m)
	if err != nil {
		return nil, err
	}
	return tg.DecodeMessage(b)
}

func cloneUpdate(u tg.UpdateClass) (tg.UpdateClass, error) {
	b, err := encodeObj(u)
	if err != nil {
		return nil, err
	}
	return tg.DecodeUpdate(b)
}

func cloneSecureValue(v *tg.SecureValue) (tg.SecureValue, error) {
	b, err := encodeObj(v)
	if err != nil {
		return tg.SecureValue{}, err
	}
	var out tg.SecureValue
	if err := out.Decode(b); err != nil {
		return tg.SecureValue{}, fmt.Errorf("sandbox: decode secure value: %w", err)
	}
	return out, nil
}

func cloneValueError(e tg.SecureValueErrorClass) (tg.SecureValueErrorClass, error) {
	b, err := encodeObj(e)
	if err != nil {
		return nil, err
	}
	return tg.DecodeSecureValueError(b)
}

func cloneMarkup(m tg.ReplyMarkupClass) (tg.ReplyMarkupClass, error) {
	if m == nil {
		return nil, nil
	}
	b, err := encodeObj(m)
	if err != nil {
		return nil, err
	}
	return tg.DecodeReplyMarkup(b)
}

func cloneEntities(es []tg.MessageEntityClass) ([]tg.MessageEntityClass, error) {
	if es == nil {
		return nil, nil
	}
	out := make([]tg.MessageEntityClass, 0, len(es))
	for _, e := range es {
		b, err := encodeObj(e)
		if err != nil {
			return nil, err
		}
		c, err := tg.DecodeMessageEntity(b)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
