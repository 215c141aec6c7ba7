package testkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// slotCheck is a go-redis hook that holds every client of NewClient to
// Redis Cluster's rule for scripts and transactions, whatever the server:
// all the keys of an EVAL or EVALSHA, and all the keys of a MULTI ...
// EXEC, hash to one slot. A script or transaction that breaks it fails
// with a CROSSSLOT error before reaching Redis, so that the store's tests
// on a single server catch what a cluster would refuse (go-redis's
// cluster client would instead split such a transaction into one per
// slot, silently not atomic).
type slotCheck struct{}

func (slotCheck) DialHook(next redis.DialHook) redis.DialHook { return next }

func (slotCheck) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := crossSlot(cmd.Args(), "script"); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (slotCheck) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var tx []any // the keys of a transaction, as one command's arguments
		inTx := len(cmds) > 0 && cmds[0].Name() == "multi"
		for _, c := range cmds {
			err := crossSlot(c.Args(), "script")
			if err == nil && inTx {
				tx = append(tx, keysOf(c.Args())...)
			}
			if err != nil {
				c.SetErr(err)
				return err
			}
		}
		if inTx {
			if err := crossSlot(append([]any{"del"}, tx...), "transaction"); err != nil {
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// crossSlot returns an error when the keys of a script (for EVAL and
// EVALSHA) or of a multi-key command are not all in one slot.
func crossSlot(args []any, what string) error {
	keys := keysOf(args)
	if name := strings.ToLower(fmt.Sprint(args[0])); what == "script" && name != "eval" && name != "evalsha" {
		return nil
	}
	for _, k := range keys[min(1, len(keys)):] {
		if Slot(fmt.Sprint(k)) != Slot(fmt.Sprint(keys[0])) {
			return fmt.Errorf("CROSSSLOT (kycbot test check) the keys of this %s do not hash to one slot: %v", what, keys)
		}
	}
	return nil
}

// keysOf returns the key arguments of a command: those of EVAL and EVALSHA
// (after numkeys), every argument of DEL, UNLINK, EXISTS and TOUCH, the
// first argument of the others (none for MULTI, EXEC, WAIT and PING).
func keysOf(args []any) []any {
	if len(args) < 2 {
		return nil
	}
	switch strings.ToLower(fmt.Sprint(args[0])) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		var n int
		if len(args) < 3 {
			return nil
		}
		_, _ = fmt.Sscan(fmt.Sprint(args[2]), &n)
		return args[3:min(len(args), 3+n)]
	case "del", "unlink", "exists", "touch":
		return args[1:]
	case "multi", "exec", "wait", "ping", "script":
		return nil
	}
	return args[1:2]
}

// Slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// key, or of its hash tag (the part between the first "{" and the next
// "}", when not empty), modulo 16384.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
