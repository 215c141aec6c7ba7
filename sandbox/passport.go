package sandbox

import (
	"bytes"
	"context"
	"crypto/rsa"
	"strings"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/passport"
)

// Error codes the sandbox chose where Telegram documents none.
const (
	// ErrSecureValueInvalid answers account.saveSecureValue with a part the
	// element type does not have (a selfie on an address, data on a
	// utility bill) or without a part it must have (data, front side,
	// reverse side, scans, plain phone or email).
	ErrSecureValueInvalid = "SECURE_VALUE_INVALID"
	// ErrValueHashInvalid answers account.acceptAuthorization when a
	// value_hashes entry does not match the value stored on the server
	// (the app shares a stale or unknown value).
	ErrValueHashInvalid = "SECURE_VALUE_HASH_INVALID"
	// ErrValueTypeInvalid answers a type that is not in the scope, a type
	// named twice, or a users.setSecureValueErrors error whose constructor
	// does not fit the element type (a reverse side on a passport).
	ErrValueTypeInvalid = "SECURE_VALUE_TYPE_INVALID"
)

func (sb *Sandbox) registerPassport(d *tg.ServerDispatcher) {
	d.OnAccountSaveSecureValue(sb.saveSecureValue)
	d.OnAccountGetAllSecureValues(func(ctx context.Context) ([]tg.SecureValue, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		return valuesOfLocked(self, passport.ElementTypes())
	})
	d.OnAccountGetSecureValue(func(ctx context.Context, types []tg.SecureValueTypeClass) ([]tg.SecureValue, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		ts, err := elementTypes(types)
		if err != nil {
			return nil, err
		}
		return valuesOfLocked(self, ts)
	})
	d.OnAccountDeleteSecureValue(func(ctx context.Context, types []tg.SecureValueTypeClass) (bool, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return false, err
		}
		ts, err := elementTypes(types)
		if err != nil {
			return false, err
		}
		for _, t := range ts {
			delete(self.values, t)
		}
		return true, nil
	})
	d.OnAccountGetAuthorizationForm(sb.getAuthorizationForm)
	d.OnAccountAcceptAuthorization(sb.acceptAuthorization)
	d.OnUsersSetSecureValueErrors(sb.setSecureValueErrors)
}

func elementTypes(types []tg.SecureValueTypeClass) ([]passport.ElementType, error) {
	out := make([]passport.ElementType, 0, len(types))
	for _, t := range types {
		et, err := passport.ElementTypeOf(t)
		if err != nil {
			return nil, tgerr.New(400, ErrValueTypeInvalid)
		}
		out = append(out, et)
	}
	return out, nil
}

// valuesOfLocked returns copies of the account's values of the given types,
// in the order given.
func valuesOfLocked(acc *account, types []passport.ElementType) ([]tg.SecureValue, error) {
	out := []tg.SecureValue{}
	for _, t := range types {
		v, ok := acc.values[t]
		if !ok {
			continue
		}
		c, err := cloneSecureValue(v)
		if err != nil {
			return nil, errInternal
		}
		out = append(out, c)
	}
	return out, nil
}

// passportUserLocked checks the caller is a user with a cloud password and
// a passport secret.
func (sb *Sandbox) passportUserLocked(ctx context.Context) (*account, error) {
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return nil, err
	}
	if self.bot != nil {
		return nil, tgerr.New(400, "BOT_METHOD_INVALID")
	}
	return self, nil
}

func (sb *Sandbox) saveSecureValue(ctx context.Context, req *tg.AccountSaveSecureValueRequest) (*tg.SecureValue, error) {
	in := req.Value
	t, err := passport.ElementTypeOf(in.Type)
	if err != nil {
		return nil, tgerr.New(400, ErrValueTypeInvalid)
	}
	if err := checkParts(t, &in); err != nil {
		return nil, err
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.passportUserLocked(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case !self.pw.set():
		return nil, tgerr.New(400, "PASSWORD_REQUIRED")
	case self.pw.secure == nil:
		return nil, tgerr.New(400, "SECURE_SECRET_REQUIRED")
	case self.pw.secure.SecureSecretID != req.SecureSecretID:
		return nil, tgerr.New(400, "SECURE_SECRET_INVALID")
	}
	typ, _ := t.TL()
	v := &tg.SecureValue{Type: typ, Hash: sb.randBytes(32)}
	if data, ok := in.GetData(); ok {
		v.SetData(tg.SecureData{
			Data:     append([]byte(nil), data.Data...),
			DataHash: append([]byte(nil), data.DataHash...),
			Secret:   append([]byte(nil), data.Secret...),
		})
	}
	file := func(f tg.InputSecureFileClass) (*tg.SecureFile, error) {
		switch f := f.(type) {
		case *tg.InputSecureFileUploaded:
			sf, err := sb.assembleLocked(self.user.ID, f)
			if err != nil {
				return nil, err
			}
			return sf.secureFile(), nil
		case *tg.InputSecureFile:
			sf, ok := sb.w.files[f.ID]
			if !ok || sf.accessHash != f.AccessHash || sf.owner != self.user.ID {
				return nil, tgerr.New(400, "FILE_ID_INVALID")
			}
			return sf.secureFile(), nil
		default:
			return nil, tgerr.New(400, "FILE_ID_INVALID")
		}
	}
	files := func(in []tg.InputSecureFileClass) ([]tg.SecureFileClass, error) {
		out := make([]tg.SecureFileClass, 0, len(in))
		for _, f := range in {
			sf, err := file(f)
			if err != nil {
				return nil, err
			}
			out = append(out, sf)
		}
		return out, nil
	}
	if f, ok := in.GetFrontSide(); ok {
		if v.FrontSide, err = file(f); err != nil {
			return nil, err
		}
	}
	if f, ok := in.GetReverseSide(); ok {
		if v.ReverseSide, err = file(f); err != nil {
			return nil, err
		}
	}
	if f, ok := in.GetSelfie(); ok {
		if v.Selfie, err = file(f); err != nil {
			return nil, err
		}
	}
	if fs, ok := in.GetFiles(); ok && len(fs) > 0 {
		if v.Files, err = files(fs); err != nil {
			return nil, err
		}
	}
	if fs, ok := in.GetTranslation(); ok && len(fs) > 0 {
		if v.Translation, err = files(fs); err != nil {
			return nil, err
		}
	}
	switch p := in.PlainData.(type) {
	case *tg.SecurePlainPhone:
		v.SetPlainData(&tg.SecurePlainPhone{Phone: p.Phone})
	case *tg.SecurePlainEmail:
		v.SetPlainData(&tg.SecurePlainEmail{Email: p.Email})
	}
	self.values[t] = v
	sb.clearFixedErrorsLocked(self, t, v)
	sb.log.Info(ctx, "Secure value saved", log.Int64("user_id", self.user.ID), log.String("type", string(t)))
	out, err := cloneSecureValue(v)
	if err != nil {
		return nil, errInternal
	}
	return &out, nil
}

// checkParts enforces which parts each element type has (passport-protocol
// section 2) and the sizes of data hashes and secrets.
func checkParts(t passport.ElementType, in *tg.InputSecureValue) error {
	bad := tgerr.New(400, ErrSecureValueInvalid)
	data, hasData := in.GetData()
	_, hasFront := in.GetFrontSide()
	_, hasReverse := in.GetReverseSide()
	_, hasSelfie := in.GetSelfie()
	files, _ := in.GetFiles()
	translation, _ := in.GetTranslation()
	if hasData != t.HasData() || hasFront != t.HasFrontSide() || hasReverse != t.HasReverseSide() ||
		(hasSelfie && !t.HasSelfie()) || (len(files) > 0) != t.HasFiles() ||
		(len(translation) > 0 && !t.HasTranslation()) {
		return bad
	}
	if len(files) > 20 || len(translation) > 20 {
		return tgerr.New(400, "FILES_TOO_MUCH")
	}
	if hasData {
		switch {
		case len(data.DataHash) != passport.HashSize:
			return tgerr.New(400, "DATA_HASH_SIZE_INVALID")
		case len(data.Secret) != passport.SecretSize:
			return tgerr.New(400, "SECURE_SECRET_INVALID")
		case len(data.Data) == 0 || len(data.Data)%16 != 0:
			return tgerr.New(400, "DATA_INVALID")
		}
	}
	switch p := in.PlainData.(type) {
	case nil:
		if t.IsPlain() {
			return bad
		}
	case *tg.SecurePlainPhone:
		if t != passport.TypePhoneNumber || normalizePhone(p.Phone) == "" {
			return bad
		}
	case *tg.SecurePlainEmail:
		if t != passport.TypeEmail || !strings.Contains(p.Email, "@") {
			return bad
		}
	default:
		return bad
	}
	return nil
}

// clearFixedErrorsLocked drops the errors bots set on element t that no
// longer apply: an error names a data hash, file hash or element hash, and
// once the value changed that hash is gone (Telegram's apps let the user
// resubmit when every flagged item changed).
func (sb *Sandbox) clearFixedErrorsLocked(acc *account, t passport.ElementType, v *tg.SecureValue) {
	var fileHashes [][]byte
	collect := func(f tg.SecureFileClass) {
		if sf, ok := f.(*tg.SecureFile); ok {
			fileHashes = append(fileHashes, sf.FileHash)
		}
	}
	for _, f := range []tg.SecureFileClass{v.FrontSide, v.ReverseSide, v.Selfie} {
		collect(f)
	}
	for _, f := range v.Files {
		collect(f)
	}
	for _, f := range v.Translation {
		collect(f)
	}
	has := func(h []byte) bool {
		for _, x := range fileHashes {
			if bytes.Equal(x, h) {
				return true
			}
		}
		return false
	}
	for botID, errs := range acc.valueErrors {
		kept := errs[:0:0]
		for _, e := range errs {
			et, err := passport.ElementTypeOf(e.GetType())
			if err != nil || et != t {
				kept = append(kept, e)
				continue
			}
			still := false
			switch e := e.(type) {
			case *tg.SecureValueErrorData:
				still = bytes.Equal(e.DataHash, v.Data.DataHash)
			case *tg.SecureValueErrorFrontSide:
				still = has(e.FileHash)
			case *tg.SecureValueErrorReverseSide:
				still = has(e.FileHash)
			case *tg.SecureValueErrorSelfie:
				still = has(e.FileHash)
			case *tg.SecureValueErrorFile:
				still = has(e.FileHash)
			case *tg.SecureValueErrorTranslationFile:
				still = has(e.FileHash)
			case *tg.SecureValueErrorFiles:
				still = len(e.FileHash) > 0 && has(e.FileHash[0])
			case *tg.SecureValueErrorTranslationFiles:
				still = len(e.FileHash) > 0 && has(e.FileHash[0])
			case *tg.SecureValueError:
				still = bytes.Equal(e.Hash, v.Hash)
			}
			if still {
				kept = append(kept, e)
			}
		}
		acc.valueErrors[botID] = kept
	}
}

// authBotLocked checks bot_id and public_key of a Passport request.
func (sb *Sandbox) authBotLocked(botID int64, publicKey string) (*account, error) {
	bot, ok := sb.w.accounts[botID]
	if !ok || bot.bot == nil {
		return nil, tgerr.New(400, "BOT_INVALID")
	}
	if strings.TrimSpace(publicKey) == "" {
		return nil, tgerr.New(400, "PUBLIC_KEY_REQUIRED")
	}
	pub, err := passport.ParsePublicKey([]byte(publicKey))
	if err != nil || bot.bot.publicKey == nil || !samePublicKey(pub, bot.bot.publicKey) {
		return nil, tgerr.New(400, "PUBLIC_KEY_INVALID")
	}
	return bot, nil
}

func samePublicKey(a, b *rsa.PublicKey) bool {
	return a.E == b.E && a.N.Cmp(b.N) == 0
}

func parseScope(scope string) (passport.Scope, error) {
	s, err := passport.ParseScope(scope)
	if err != nil || len(s.Elements) == 0 {
		return passport.Scope{}, tgerr.New(400, "SCOPE_EMPTY")
	}
	return s, nil
}

func (sb *Sandbox) getAuthorizationForm(ctx context.Context, req *tg.AccountGetAuthorizationFormRequest) (*tg.AccountAuthorizationForm, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.passportUserLocked(ctx)
	if err != nil {
		return nil, err
	}
	bot, err := sb.authBotLocked(req.BotID, req.PublicKey)
	if err != nil {
		return nil, err
	}
	scope, err := parseScope(req.Scope)
	if err != nil {
		return nil, err
	}
	form := &tg.AccountAuthorizationForm{Users: sb.usersLocked(self.user.ID, bot.user.ID)}
	required := func(t passport.ElementType, e passport.ScopeElement) *tg.SecureRequiredType {
		typ, _ := t.TL()
		return &tg.SecureRequiredType{
			Type: typ, NativeNames: e.NativeNames,
			SelfieRequired: e.Selfie, TranslationRequired: e.Translation,
		}
	}
	for _, e := range scope.Elements {
		if len(e.Types) == 1 {
			form.RequiredTypes = append(form.RequiredTypes, required(e.Types[0], e))
			continue
		}
		one := &tg.SecureRequiredTypeOneOf{}
		for _, t := range e.Types {
			one.Types = append(one.Types, required(t, e))
		}
		form.RequiredTypes = append(form.RequiredTypes, one)
	}
	if form.Values, err = valuesOfLocked(self, scope.Types()); err != nil {
		return nil, err
	}
	form.Errors = []tg.SecureValueErrorClass{}
	for _, e := range self.valueErrors[bot.user.ID] {
		et, err := passport.ElementTypeOf(e.GetType())
		if err != nil || !scope.Contains(et) {
			continue
		}
		c, err := cloneValueError(e)
		if err != nil {
			return nil, errInternal
		}
		form.Errors = append(form.Errors, c)
	}
	if bot.bot.privacyURL != "" {
		form.SetPrivacyPolicyURL(bot.bot.privacyURL)
	}
	return form, nil
}

func (sb *Sandbox) acceptAuthorization(ctx context.Context, req *tg.AccountAcceptAuthorizationRequest) (bool, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.passportUserLocked(ctx)
	if err != nil {
		return false, err
	}
	bot, err := sb.authBotLocked(req.BotID, req.PublicKey)
	if err != nil {
		return false, err
	}
	scope, err := parseScope(req.Scope)
	if err != nil {
		return false, err
	}
	cr := req.Credentials
	switch {
	case len(cr.Hash) != passport.HashSize:
		return false, tgerr.New(400, "DATA_HASH_SIZE_INVALID")
	case len(cr.Data) == 0 || len(cr.Data)%16 != 0 || len(cr.Secret) == 0:
		return false, tgerr.New(400, "SECURE_CREDENTIALS_INVALID")
	}
	if len(req.ValueHashes) == 0 {
		return false, tgerr.New(400, "SECURE_VALUE_EMPTY")
	}
	var (
		values []tg.SecureValue
		types  []tg.SecureValueTypeClass
		seen   = map[passport.ElementType]bool{}
	)
	for _, vh := range req.ValueHashes {
		t, err := passport.ElementTypeOf(vh.Type)
		if err != nil || seen[t] || !scope.Contains(t) {
			return false, tgerr.New(400, ErrValueTypeInvalid)
		}
		seen[t] = true
		v, ok := self.values[t]
		if !ok || !bytes.Equal(v.Hash, vh.Hash) {
			return false, tgerr.New(400, ErrValueHashInvalid)
		}
		c, err := cloneSecureValue(v)
		if err != nil {
			return false, errInternal
		}
		e, _ := scope.Element(t)
		values = append(values, shared(c, e))
		typ, _ := t.TL()
		types = append(types, typ)
	}

	date := sb.unix()
	users := []int64{self.user.ID, bot.user.ID}
	botMsg := &tg.MessageService{
		ID:     bot.nextMsgID,
		FromID: &tg.PeerUser{UserID: self.user.ID},
		PeerID: &tg.PeerUser{UserID: self.user.ID},
		Date:   date,
		Action: &tg.MessageActionSecureValuesSentMe{
			Values: values,
			Credentials: tg.SecureCredentialsEncrypted{
				Data:   append([]byte(nil), cr.Data...),
				Hash:   append([]byte(nil), cr.Hash...),
				Secret: append([]byte(nil), cr.Secret...),
			},
		},
	}
	bot.nextMsgID++
	userMsg := &tg.MessageService{
		ID:     self.nextMsgID,
		Out:    true,
		FromID: &tg.PeerUser{UserID: self.user.ID},
		PeerID: &tg.PeerUser{UserID: bot.user.ID},
		Date:   date,
		Action: &tg.MessageActionSecureValuesSent{Types: types},
	}
	self.nextMsgID++
	bot.msgs[botMsg.ID] = &storedMessage{msg: botMsg, peer: self.user.ID, peerMsgID: userMsg.ID}
	self.msgs[userMsg.ID] = &storedMessage{msg: userMsg, peer: bot.user.ID, peerMsgID: botMsg.ID}

	botUpd := sb.addPtsLocked(bot, func(pts int) tg.UpdateClass {
		return &tg.UpdateNewMessage{Message: botMsg, Pts: pts, PtsCount: 1}
	}, users...)
	userUpd := sb.addPtsLocked(self, func(pts int) tg.UpdateClass {
		return &tg.UpdateNewMessage{Message: userMsg, Pts: pts, PtsCount: 1}
	}, users...)
	if err := sb.pushLocked(ctx, bot, []tg.UpdateClass{botUpd}, users...); err != nil {
		return false, err
	}
	// The answer is a Bool: the user's own sessions all get the update.
	if err := sb.pushLocked(context.Background(), self, []tg.UpdateClass{userUpd}, users...); err != nil {
		return false, err
	}
	sb.log.Info(ctx, "Passport data shared", log.Int64("user_id", self.user.ID), log.Int64("bot_id", bot.user.ID), log.Int("values", len(values)))
	return true, nil
}

// shared is the value as the bot receives it: the selfie and translation
// only when the scope asked for them. (A fresh struct: decoded ones carry
// flags that would claim the dropped fields.)
func shared(v tg.SecureValue, e passport.ScopeElement) tg.SecureValue {
	out := tg.SecureValue{Type: v.Type, Hash: v.Hash, FrontSide: v.FrontSide, ReverseSide: v.ReverseSide, PlainData: v.PlainData}
	if d, ok := v.GetData(); ok {
		out.SetData(d)
	}
	if len(v.Files) > 0 {
		out.Files = v.Files
	}
	if e.Selfie {
		out.Selfie = v.Selfie
	}
	if e.Translation && len(v.Translation) > 0 {
		out.Translation = v.Translation
	}
	return out
}

// errorHashes returns the type and hashes of a secure value error, with
// whether the hash is a data hash.
func errorHashes(e tg.SecureValueErrorClass) (typ tg.SecureValueTypeClass, hashes [][]byte, data bool) {
	switch e := e.(type) {
	case *tg.SecureValueErrorData:
		return e.Type, [][]byte{e.DataHash}, true
	case *tg.SecureValueErrorFrontSide:
		return e.Type, [][]byte{e.FileHash}, false
	case *tg.SecureValueErrorReverseSide:
		return e.Type, [][]byte{e.FileHash}, false
	case *tg.SecureValueErrorSelfie:
		return e.Type, [][]byte{e.FileHash}, false
	case *tg.SecureValueErrorFile:
		return e.Type, [][]byte{e.FileHash}, false
	case *tg.SecureValueErrorFiles:
		return e.Type, e.FileHash, false
	case *tg.SecureValueErrorTranslationFile:
		return e.Type, [][]byte{e.FileHash}, false
	case *tg.SecureValueErrorTranslationFiles:
		return e.Type, e.FileHash, false
	case *tg.SecureValueError:
		return e.Type, [][]byte{e.Hash}, false
	}
	return nil, nil, false
}

// errorFits reports whether the error constructor exists for the element
// type (passport-protocol section 3).
func errorFits(e tg.SecureValueErrorClass, t passport.ElementType) bool {
	switch e.(type) {
	case *tg.SecureValueErrorData:
		return t.HasData()
	case *tg.SecureValueErrorFrontSide, *tg.SecureValueErrorSelfie:
		return t.HasFrontSide()
	case *tg.SecureValueErrorReverseSide:
		return t.HasReverseSide()
	case *tg.SecureValueErrorFile, *tg.SecureValueErrorFiles:
		return t.HasFiles()
	case *tg.SecureValueErrorTranslationFile, *tg.SecureValueErrorTranslationFiles:
		return t.HasTranslation()
	case *tg.SecureValueError:
		return true
	}
	return false
}

func (sb *Sandbox) setSecureValueErrors(ctx context.Context, req *tg.UsersSetSecureValueErrorsRequest) (bool, error) {
	for _, e := range req.Errors {
		typ, hashes, data := errorHashes(e)
		t, err := passport.ElementTypeOf(typ)
		if err != nil || !errorFits(e, t) {
			return false, tgerr.New(400, ErrValueTypeInvalid)
		}
		if len(hashes) == 0 {
			return false, tgerr.New(400, "HASH_SIZE_INVALID")
		}
		for _, h := range hashes {
			if len(h) != passport.HashSize {
				if data {
					return false, tgerr.New(400, "DATA_HASH_SIZE_INVALID")
				}
				return false, tgerr.New(400, "HASH_SIZE_INVALID")
			}
		}
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.botSelfLocked(ctx)
	if err != nil {
		return false, err
	}
	userID, err := sb.resolveUserLocked(self, req.ID)
	if err != nil || userID == self.user.ID {
		return false, tgerr.New(400, "USER_ID_INVALID")
	}
	user := sb.w.accounts[userID]
	stored := make([]tg.SecureValueErrorClass, 0, len(req.Errors))
	for _, e := range req.Errors {
		c, err := cloneValueError(e)
		if err != nil {
			return false, errInternal
		}
		stored = append(stored, c)
	}
	user.valueErrors[self.user.ID] = stored
	sb.log.Info(ctx, "Secure value errors set", log.Int64("bot_id", self.user.ID), log.Int64("user_id", userID), log.Int("errors", len(stored)))
	return true, nil
}

// SecureValueErrors returns the errors a bot set on a user's values that
// are still pending (not fixed by re-saving the value).
func (sb *Sandbox) SecureValueErrors(userID, botID int64) []tg.SecureValueErrorClass {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[userID]
	if acc == nil {
		return nil
	}
	var out []tg.SecureValueErrorClass
	for _, e := range acc.valueErrors[botID] {
		if c, err := cloneValueError(e); err == nil {
			out = append(out, c)
		}
	}
	return out
}
