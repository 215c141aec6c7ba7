package handlerstest

import (
	"slices"
	"sync"
	"time"
)

// Observer records what a handlers.Observer is told. The zero value is
// ready; it is safe for concurrent use.
type Observer struct {
	mu          sync.Mutex
	submissions []string // "outcome/reason/level"
	problems    [][]string
	verdicts    []time.Duration
	commands    []string
}

// Submission records "outcome/reason/level".
func (o *Observer) Submission(outcome, reason, level string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.submissions = append(o.submissions, outcome+"/"+reason+"/"+level)
}

// Problems records codes.
func (o *Observer) Problems(codes []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.problems = append(o.problems, slices.Clone(codes))
}

// Verdict records d.
func (o *Observer) Verdict(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.verdicts = append(o.verdicts, d)
}

// Command records name.
func (o *Observer) Command(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commands = append(o.commands, name)
}

// Submissions returns the submissions observed ("outcome/reason/level"),
// in order.
func (o *Observer) Submissions() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.submissions)
}

// ProblemCodes returns the codes of every Problems call, in order.
func (o *Observer) ProblemCodes() [][]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.problems)
}

// Verdicts returns the durations of the verdicts observed, in order.
func (o *Observer) Verdicts() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.verdicts)
}

// Commands returns the command names observed, in order.
func (o *Observer) Commands() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.commands)
}
