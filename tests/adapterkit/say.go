package adapterkit

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Say has a user (the same one each time, with a sample profile) send
// text to the bot and prints the first line of each of the n answers
// that follow, sorted (the bot's messages may arrive in any order), with
// the text of their buttons: what an Example shows. The user's first
// message opens the chat: "/start" (a payload may follow). Say prints
// what went wrong instead when the answers do not come within a minute.
func (e *Env) Say(text string, n int) {
	if err := e.hostStopped(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.mu.Lock()
	u := e.user
	e.mu.Unlock()
	var err error
	switch payload, isStart := strings.CutPrefix(text, "/start"); {
	case u == nil && !isStart:
		fmt.Println(`adapterkit: Say: a user opens the chat with "/start"`)
		return
	case u == nil:
		if u, err = e.newUser(ctx, nil); err != nil {
			fmt.Println("adapterkit: Say: a user:", err)
			return
		}
		e.mu.Lock()
		e.user = u
		e.mu.Unlock()
		_, err = u.Start(ctx, e.Account.Username, strings.TrimSpace(payload))
	default:
		err = u.Send(ctx, e.Account.ID, text)
	}
	if err != nil {
		fmt.Println("adapterkit: Say: send:", err)
		return
	}
	var lines []string
	for range n {
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			fmt.Printf("adapterkit: Say: %d answers to %q, want %d: %v\n", len(lines), text, n, err)
			return
		}
		line, _, _ := strings.Cut(m.Text, "\n")
		for _, row := range m.Buttons {
			for _, b := range row {
				line += " [" + b.Text + "]"
			}
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}
