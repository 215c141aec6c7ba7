package kyctelego_test

import (
	"testing"

	gojson "github.com/grbit/go-json"
	"github.com/mymmrac/telego"

	"github.com/kycbot/kycbot/bot/botapi/kyctelego"
	"github.com/kycbot/kycbot/tests/adapterkit"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMain skips the example when Redis is unreachable outside CI.
func TestMain(m *testing.M) { testkit.Main(m, "bot/botapi/kyctelego") }

// TestAccept: shopBot, a telego bot with kycbot in it, polls the
// sandbox's Bot API front; simulated users are verified, fix and
// resubmit, are rejected for good, and the security cases are refused,
// while the shop's handler keeps answering its own messages. Every
// Passport update the front sent, decoded as telego decodes it (its
// default JSON library) and marshalled back by the middleware, carries
// all of its Passport data.
func TestAccept(t *testing.T) {
	env := adapterkit.Start(t, testkit.Need(t), shopBot)
	env.Accept(t)
	env.CheckRoundTrip(t, func(raw []byte) ([]byte, error) {
		var u telego.Update
		if err := gojson.Unmarshal(raw, &u); err != nil {
			return nil, err
		}
		return kyctelego.UpdateJSON(u)
	})
}

// TestReadme: the README's section for telego is shopBot's code.
func TestReadme(t *testing.T) {
	adapterkit.SameAsReadme(t, "../../../README.md", "Add kycbot to your telego bot", "example_test.go", "shopBot")
}
