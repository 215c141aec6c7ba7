package kyctgbot_test

import (
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/kycbot/kycbot/bot/botapi/kyctgbot"
	"github.com/kycbot/kycbot/tests/adapterkit"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMain skips the example when Redis is unreachable outside CI.
func TestMain(m *testing.M) { testkit.Main(m, "bot/botapi/kyctgbot") }

// TestAccept: shopBot, a go-telegram/bot bot with kycbot in it, polls
// the sandbox's Bot API front; simulated users are verified, fix and
// resubmit, are rejected for good, and the security cases are refused,
// while the shop's handler keeps answering its own messages. Every
// Passport update the front sent, decoded as go-telegram/bot decodes it
// (encoding/json into models.Update) and marshalled back by the
// middleware, carries all of its Passport data.
func TestAccept(t *testing.T) {
	env := adapterkit.Start(t, testkit.Need(t), shopBot)
	env.Accept(t)
	env.CheckRoundTrip(t, func(raw []byte) ([]byte, error) {
		var u models.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, err
		}
		return kyctgbot.UpdateJSON(&u)
	})
}

// TestReadme: the README's section for go-telegram/bot is shopBot's code.
func TestReadme(t *testing.T) {
	adapterkit.SameAsReadme(t, "../../../README.md", "Add kycbot to your go-telegram/bot bot", "example_test.go", "shopBot")
}
