package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// register installs every implemented method. The dispatcher's handler map
// is not safe for concurrent writes, so this runs once, before serving.
func (sb *Sandbox) register(d *tg.ServerDispatcher) {
	sb.registerAuth(d)
	sb.registerUpdates(d)
	sb.registerMessages(d)
	sb.registerFiles(d)
	sb.registerPassword(d)
	sb.registerPassport(d)
	sb.registerBadges(d)
}

func (sb *Sandbox) registerAuth(d *tg.ServerDispatcher) {
	d.OnHelpGetConfig(func(ctx context.Context) (*tg.Config, error) {
		cfg := sb.cfg
		cfg.DCOptions = append([]tg.DCOption(nil), sb.cfg.DCOptions...)
		cfg.ThisDC = callFrom(ctx).dc
		cfg.Date = sb.unix()
		cfg.Expires = cfg.Date + 3600
		return &cfg, nil
	})
	d.OnHelpGetNearestDC(func(ctx context.Context) (*tg.NearestDC, error) {
		return &tg.NearestDC{Country: "ZZ", ThisDC: callFrom(ctx).dc, NearestDC: MainDC}, nil
	})

	d.OnAuthImportBotAuthorization(func(ctx context.Context, req *tg.AuthImportBotAuthorizationRequest) (tg.AuthAuthorizationClass, error) {
		if callFrom(ctx).dc != MainDC {
			return nil, tgerr.New(303, "USER_MIGRATE_"+strconv.Itoa(MainDC))
		}
		idPart, secret, ok := strings.Cut(req.BotAuthToken, ":")
		id, err := strconv.ParseInt(idPart, 10, 64)
		if !ok || err != nil {
			return nil, tgerr.New(400, "ACCESS_TOKEN_INVALID")
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		acc := sb.w.accounts[id]
		if acc == nil || acc.bot == nil || subtle.ConstantTimeCompare([]byte(acc.bot.secret), []byte(secret)) != 1 {
			return nil, tgerr.New(400, "ACCESS_TOKEN_INVALID")
		}
		sb.bindLocked(ctx, id)
		sb.log.Info(ctx, "Bot logged in", log.Int64("bot_id", id))
		return &tg.AuthAuthorization{User: sb.userViewLocked(id, id)}, nil
	})

	d.OnAuthSendCode(func(ctx context.Context, req *tg.AuthSendCodeRequest) (tg.AuthSentCodeClass, error) {
		phone := normalizePhone(req.PhoneNumber)
		if phone == "" {
			return nil, errPhoneNumberInvalid
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		// As on Telegram, a number without an account gets a code too: the
		// app learns from auth.signIn that it must sign up.
		hash := hex.EncodeToString(sb.randBytes(9))
		sb.w.codes[hash] = &loginCode{phone: phone}
		return &tg.AuthSentCode{
			Type:          &tg.AuthSentCodeTypeApp{Length: len(sb.opts.LoginCode)},
			PhoneCodeHash: hash,
		}, nil
	})

	d.OnAuthSignIn(func(ctx context.Context, req *tg.AuthSignInRequest) (tg.AuthAuthorizationClass, error) {
		phone := normalizePhone(req.PhoneNumber)
		sb.mu.Lock()
		defer sb.mu.Unlock()
		sent, ok := sb.w.codes[req.PhoneCodeHash]
		switch {
		case req.PhoneCode == "":
			return nil, tgerr.New(400, "PHONE_CODE_EMPTY")
		case !ok:
			return nil, tgerr.New(400, "PHONE_CODE_EXPIRED")
		case sent.phone != phone:
			return nil, tgerr.New(400, "PHONE_CODE_HASH_EMPTY")
		case req.PhoneCode != sb.opts.LoginCode:
			return nil, tgerr.New(400, "PHONE_CODE_INVALID")
		}
		id, ok := sb.w.byPhone[phone]
		if !ok {
			// The code is right and the number has no account: the app asks
			// for a name and calls auth.signUp with the same hash.
			sent.signUp = true
			return &tg.AuthAuthorizationSignUpRequired{}, nil
		}
		delete(sb.w.codes, req.PhoneCodeHash)
		acc := sb.w.accounts[id]
		if acc.pw.set() {
			c := callFrom(ctx)
			sb.w.pending[authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}] = id
			return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
		}
		sb.bindLocked(ctx, id)
		sb.log.Info(ctx, "User logged in", log.Int64("user_id", id))
		return &tg.AuthAuthorization{User: sb.userViewLocked(id, id)}, nil
	})

	d.OnAuthSignUp(func(ctx context.Context, req *tg.AuthSignUpRequest) (tg.AuthAuthorizationClass, error) {
		phone := normalizePhone(req.PhoneNumber)
		first, last := strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName)
		switch {
		case phone == "":
			return nil, errPhoneNumberInvalid
		case first == "" || utf8.RuneCountInString(first) > maxNameLength:
			return nil, tgerr.New(400, "FIRSTNAME_INVALID")
		case utf8.RuneCountInString(last) > maxNameLength:
			return nil, tgerr.New(400, "LASTNAME_INVALID")
		}
		lang := sb.authKeys.lang(callFrom(ctx).key())
		sb.mu.Lock()
		defer sb.mu.Unlock()
		sent, ok := sb.w.codes[req.PhoneCodeHash]
		switch {
		case !ok:
			return nil, tgerr.New(400, "PHONE_CODE_EXPIRED")
		case sent.phone != phone:
			return nil, tgerr.New(400, "PHONE_CODE_INVALID")
		case !sent.signUp:
			// auth.signIn did not take the code for this hash yet.
			return nil, tgerr.New(400, "PHONE_CODE_EMPTY")
		}
		if _, ok := sb.w.byPhone[phone]; ok {
			return nil, tgerr.New(400, "PHONE_NUMBER_OCCUPIED")
		}
		delete(sb.w.codes, req.PhoneCodeHash)
		acc := sb.addUserLocked(tg.User{FirstName: first, LastName: last, Phone: phone, LangCode: lang})
		id := acc.user.ID
		sb.bindLocked(ctx, id)
		sb.log.Info(ctx, "User signed up", log.Int64("user_id", id))
		return &tg.AuthAuthorization{User: sb.userViewLocked(id, id)}, nil
	})

	d.OnAuthCheckPassword(func(ctx context.Context, password tg.InputCheckPasswordSRPClass) (tg.AuthAuthorizationClass, error) {
		c := callFrom(ctx)
		ref := authKeyRef{dc: c.dc, key: c.session.AuthKey.ID}
		sb.mu.Lock()
		id, ok := sb.w.pending[ref]
		sb.mu.Unlock()
		if !ok {
			return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
		}
		if err := sb.checkPassword(id, password); err != nil {
			return nil, err
		}
		sb.mu.Lock()
		defer sb.mu.Unlock()
		delete(sb.w.pending, ref)
		sb.bindLocked(ctx, id)
		sb.log.Info(ctx, "User logged in with 2FA", log.Int64("user_id", id))
		return &tg.AuthAuthorization{User: sb.userViewLocked(id, id)}, nil
	})

	d.OnAuthExportAuthorization(func(ctx context.Context, dcID int) (*tg.AuthExportedAuthorization, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		acc, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		if _, ok := sb.dcs[dcID]; !ok || dcID == callFrom(ctx).dc {
			return nil, tgerr.New(400, "DC_ID_INVALID")
		}
		id := sb.randInt64()
		bytes := sb.randBytes(32)
		sb.w.exported[id] = exportedAuth{userID: acc.user.ID, dc: dcID, bytes: bytes}
		return &tg.AuthExportedAuthorization{ID: id, Bytes: bytes}, nil
	})
	d.OnAuthImportAuthorization(func(ctx context.Context, req *tg.AuthImportAuthorizationRequest) (tg.AuthAuthorizationClass, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		e, ok := sb.w.exported[req.ID]
		if !ok || e.dc != callFrom(ctx).dc || subtle.ConstantTimeCompare(e.bytes, req.Bytes) != 1 {
			return nil, tgerr.New(400, "AUTH_BYTES_INVALID")
		}
		delete(sb.w.exported, req.ID)
		sb.bindLocked(ctx, e.userID)
		return &tg.AuthAuthorization{User: sb.userViewLocked(e.userID, e.userID)}, nil
	})
	d.OnAuthLogOut(func(ctx context.Context) (*tg.AuthLoggedOut, error) {
		c := callFrom(ctx)
		sb.mu.Lock()
		defer sb.mu.Unlock()
		delete(sb.w.authKeys, authKeyRef{dc: c.dc, key: c.session.AuthKey.ID})
		return &tg.AuthLoggedOut{}, nil
	})

	d.OnUsersGetUsers(func(ctx context.Context, ids []tg.InputUserClass) ([]tg.UserClass, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]tg.UserClass, 0, len(ids))
		for _, in := range ids {
			id, err := sb.resolveUserLocked(self, in)
			if err != nil {
				continue // Telegram leaves unknown users out
			}
			out = append(out, sb.userViewLocked(self.user.ID, id))
		}
		return out, nil
	})
	d.OnUsersGetFullUser(func(ctx context.Context, in tg.InputUserClass) (*tg.UsersUserFull, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		id, err := sb.resolveUserLocked(self, in)
		if err != nil {
			return nil, err
		}
		full := tg.UserFull{ID: id, Settings: tg.PeerSettings{}, NotifySettings: tg.PeerNotifySettings{}}
		if acc := sb.w.accounts[id]; acc.bot != nil {
			full.BotInfo = tg.BotInfo{UserID: id, Commands: append([]tg.BotCommand(nil), acc.bot.commands...)}
			full.BotInfo.SetFlags()
		}
		if acc := sb.w.accounts[id]; acc.badge != nil {
			full.SetBotVerification(*acc.badge)
		}
		return &tg.UsersUserFull{FullUser: full, Chats: []tg.ChatClass{}, Users: sb.usersLocked(self.user.ID, id)}, nil
	})
	d.OnContactsResolveUsername(func(ctx context.Context, req *tg.ContactsResolveUsernameRequest) (*tg.ContactsResolvedPeer, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return nil, err
		}
		id, ok := sb.w.byUsername[strings.ToLower(strings.TrimPrefix(req.Username, "@"))]
		if !ok {
			return nil, tgerr.New(400, "USERNAME_NOT_OCCUPIED")
		}
		return &tg.ContactsResolvedPeer{
			Peer: &tg.PeerUser{UserID: id}, Chats: []tg.ChatClass{}, Users: sb.usersLocked(self.user.ID, id),
		}, nil
	})
}

// resolveUserLocked resolves an input user, checking the access hash.
func (sb *Sandbox) resolveUserLocked(self *account, in tg.InputUserClass) (int64, error) {
	switch u := in.(type) {
	case *tg.InputUserSelf:
		return self.user.ID, nil
	case *tg.InputUser:
		acc, ok := sb.w.accounts[u.UserID]
		if !ok || (u.UserID != self.user.ID && acc.user.AccessHash != u.AccessHash) {
			return 0, tgerr.New(400, "USER_ID_INVALID")
		}
		return u.UserID, nil
	default:
		return 0, tgerr.New(400, "USER_ID_INVALID")
	}
}

// resolvePeerLocked resolves a private-chat peer.
func (sb *Sandbox) resolvePeerLocked(self *account, in tg.InputPeerClass) (int64, error) {
	switch p := in.(type) {
	case *tg.InputPeerSelf:
		return self.user.ID, nil
	case *tg.InputPeerUser:
		return sb.resolveUserLocked(self, &tg.InputUser{UserID: p.UserID, AccessHash: p.AccessHash})
	default:
		return 0, tgerr.New(400, "PEER_ID_INVALID")
	}
}

// errPhoneNumberInvalid answers a phone number without digits (406 on
// Telegram).
var errPhoneNumberInvalid = tgerr.New(406, "PHONE_NUMBER_INVALID")

// maxNameLength is Telegram's limit on a first or last name, in
// characters.
const maxNameLength = 64

func normalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
