package verification

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// CodeDuplicate is the problem code of a submission whose identity
// document or person another Telegram account was verified with
// (rules.duplicates). It is final: the same documents shared again are the
// same duplicate.
const CodeDuplicate verify.Code = "duplicate"

// unknownCountry stands for the issuing country of a document when the
// submission does not tell it (ISO 3166-1's user-assigned code for an
// unknown country).
const unknownCountry = "ZZ"

// Fingerprints returns what identifies the holder of a submission, for
// the claims of duplicates (store.Documents.ClaimAll): each identity
// document with a number (its issuing country, type and number) and the
// person (first, middle and last names with the birth date), when
// personal_details has them. Telegram Passport's document data has no
// issuing country: for a passport, identity card or internal passport it
// is taken to be the citizenship (personal_details' country_code), for a
// driver's licence the country of residence, and ZZ (unknown) when the
// submission has no personal_details. Values that cannot be claimed (an
// empty number, a single name) are left out.
func Fingerprints(sub *passport.Submission) []store.Fingerprint {
	var pd passport.PersonalDetails
	if el := sub.Element(passport.TypePersonalDetails); el != nil {
		pd, _ = el.PersonalDetails()
	}
	var fps []store.Fingerprint
	for i := range sub.Elements {
		el := &sub.Elements[i]
		if !el.Type.IsIdentityDocument() {
			continue
		}
		doc, err := el.IdDocument()
		if err != nil {
			continue
		}
		country := pd.CountryCode
		if el.Type == passport.TypeDriverLicense {
			country = pd.ResidenceCountryCode
		}
		if !verify.IsCountry(country) {
			country = unknownCountry
		}
		fp := store.DocumentKey{Country: country, Type: string(el.Type), Number: doc.DocumentNo}
		if fp.Check() == nil {
			fps = append(fps, fp)
		}
	}
	person := store.PersonKey{Names: []string{pd.FirstName, pd.MiddleName, pd.LastName}, BirthDate: pd.BirthDate}
	if person.Check() == nil {
		fps = append(fps, person)
	}
	return fps
}

// duplicates claims the submission's documents and person for the user,
// as the level's rules.duplicates says. done is true when the submission
// ended here (out and err are then Process's): another account holds a
// claim and duplicates are refused, or the claims could not be made now.
// owner is the other account when duplicates go to review (and done is
// false), else 0.
func (p *run) duplicates(ctx context.Context, mode string, sub *passport.Submission) (owner int64, out Outcome, done bool, err error) {
	if mode == verify.DuplicatesOff {
		return 0, Outcome{}, false, nil
	}
	fps := Fingerprints(sub)
	if len(fps) == 0 {
		return 0, Outcome{}, false, nil
	}
	owner, err = p.f.cfg.Store.ClaimDocuments(ctx, p.sub.User.ID, fps)
	switch {
	case err == nil:
		return 0, Outcome{}, false, nil
	case errors.Is(err, store.ErrDocumentTaken):
		p.log.WarnContext(ctx, "verification: documents claimed by another account", slog.Int64("owner", owner))
		if mode == verify.DuplicatesReview {
			return owner, Outcome{}, false, nil
		}
		out, err := p.refuseDuplicate(ctx, sub, owner)
		return 0, out, true, err
	case ctx.Err() != nil || errors.Is(err, store.ErrUnavailable):
		return 0, Outcome{}, true, p.retryLater(ctx, "claim the documents", err)
	}
	// No document key, or a store that refuses: fail closed rather than
	// let one document verify any number of accounts.
	p.log.ErrorContext(ctx, "verification: cannot claim the documents", slog.String("error", err.Error()))
	return 0, p.failed(ctx, "duplicates", "claim_failed"), true, err
}

// refuseDuplicate rejects the submission for good (rules.duplicates:
// refuse): recorded, told to the user without naming the other account,
// and to the admins with both user IDs.
func (p *run) refuseDuplicate(ctx context.Context, sub *passport.Submission, owner int64) (Outcome, error) {
	el := passport.TypePersonalDetails
	for _, e := range sub.Elements {
		if e.Type.IsIdentityDocument() {
			el = e.Type
			break
		}
	}
	problems := []verify.Problem{{Element: el, Code: CodeDuplicate, Final: true}}
	text := p.loc.Text(i18n.MsgResultDuplicate, map[string]any{"Support": p.f.cfg.Support})
	out, err := p.reject(ctx, problems, []string{string(CodeDuplicate)}, text)
	if err != nil {
		return out, err
	}
	req := p.req
	p.f.cfg.Admins.Notify(ctx, p.sub.ID+":duplicate", i18n.MsgAdminDuplicate, map[string]any{
		"User": strconv.FormatInt(p.sub.User.ID, 10), "Owner": strconv.FormatInt(owner, 10), "Level": req.Level, "Ref": req.Ref})
	return out, nil
}
