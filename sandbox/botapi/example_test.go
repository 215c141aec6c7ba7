package botapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/botapi"
)

// A bot on the Bot API asks the sandbox's front who it is, as it would
// ask api.telegram.org.
func ExampleNew() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = sb.Close() }()
	bot, err := sb.AddBot(sandbox.BotSpec{Username: "my_kyc_bot"})
	if err != nil {
		fmt.Println(err)
		return
	}

	front, err := botapi.New(ctx, sb.Remote())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = front.Close() }()
	srv := httptest.NewServer(front)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/bot" + bot.Token + "/getMe")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	var me struct {
		OK     bool `json:"ok"`
		Result struct {
			Username string `json:"username"`
			IsBot    bool   `json:"is_bot"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(me.OK, me.Result.Username, me.Result.IsBot)
	// Output: true my_kyc_bot true
}
