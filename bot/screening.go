package bot

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify/screening"
	"github.com/kycbot/kycbot/web"
)

// screeningLists returns the lists of the config's screening section.
func screeningLists(s config.Screening) []screening.List {
	lists := make([]screening.List, 0, len(s.Lists))
	for _, l := range s.Lists {
		lists = append(lists, screening.List{Name: l.Name, Format: screening.Format(l.Format), File: l.File})
	}
	return lists
}

// screeningOptions returns the screener's settings of the config's
// screening section (the zero values, in a config not made by
// config.Load, Parse or New, are the package's defaults).
func screeningOptions(s config.Screening, log *slog.Logger) []screening.Option {
	opts := []screening.Option{screening.WithLogger(log),
		screening.WithThreshold(s.Threshold), screening.WithBirthDateRule(screening.BirthDateRule(s.BirthDate))}
	if s.PollInterval > 0 {
		opts = append(opts, screening.WithPollInterval(s.PollInterval))
	}
	return opts
}

// newScreener loads the config's lists (none: a screener that finds
// nothing, which a Reload may give lists).
func newScreener(ctx context.Context, s config.Screening, log *slog.Logger) (*screening.Screener, error) {
	scr, err := screening.New(ctx, screeningLists(s), screeningOptions(s, log)...)
	if err != nil {
		return nil, fmt.Errorf("screening: %w", err)
	}
	return scr, nil
}

// reconfigureScreening puts the screening section of a reloaded config in
// force and reads every list again. A list that fails to load keeps its
// previous version (the screener logs it, and tries again at the next
// poll): the reload itself goes ahead.
func (b *Bot) reconfigureScreening(ctx context.Context, s config.Screening) {
	if err := b.screener.Configure(ctx, screeningLists(s), screeningOptions(s, b.log)...); err != nil {
		b.log.ErrorContext(ctx, "bot: config reloaded, but not every screening list loaded; the previous version of each stays",
			slog.String("error", err.Error()))
	}
}

// screen is the review check of screening.lists: a submission whose
// personal details match a list entry goes to review
// (verification.ReasonScreening). A hit never rejects.
func (b *Bot) screen(ctx context.Context, _ string, sub *passport.Submission) ([]string, error) {
	hits := b.screenSubmission(ctx, sub)
	if len(hits) == 0 {
		return nil, nil
	}
	// The list, the entry's ID and the scores: no name, no date.
	b.log.InfoContext(ctx, "bot: screening hit; the case goes to review", slog.Int("hits", len(hits)), slog.Any("best", hits[0]))
	return []string{verification.ReasonScreening}, nil
}

// screenSubmission checks the personal details of sub against the lists
// in force (none without screening.lists or personal details).
func (b *Bot) screenSubmission(ctx context.Context, sub *passport.Submission) []screening.Hit {
	if len(b.current().cfg.Screening.Lists) == 0 || sub == nil {
		return nil
	}
	el := sub.Element(passport.TypePersonalDetails)
	if el == nil {
		return nil
	}
	pd, err := el.PersonalDetails()
	if err != nil {
		return nil
	}
	return b.screener.Check(ctx, screening.SubjectFromPersonalDetails(&pd))
}

// reviewHits turns hits into what the review page shows of them: what
// Hit.Explain says, field by field, for the page to write in the admin's
// language.
func reviewHits(hits []screening.Hit) []web.ReviewHit {
	out := make([]web.ReviewHit, 0, len(hits))
	for _, h := range hits {
		out = append(out, web.ReviewHit{List: h.List, Entry: h.EntryID, Name: h.EntryName, Alias: h.Alias,
			Score: h.Score, NameScore: h.NameScore, BirthDate: string(h.BirthDate), Nationality: string(h.Nationality)})
	}
	return out
}
