package sandbox

import (
	"context"
	"crypto/md5" //nolint:gosec // Telegram's upload checksum is MD5.
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/passport"
)

// Upload and download limits of Telegram (core.telegram.org/api/files).
const (
	// MaxPartSize is the largest upload part (512 KiB).
	MaxPartSize = 512 << 10
	// MaxDownloadLimit is the largest upload.getFile limit (1 MiB).
	MaxDownloadLimit = 1 << 20
	// maxSmallFileParts is the number of parts upload.saveFilePart accepts.
	maxSmallFileParts = 4000
	// maxBigFileParts is the number of parts upload.saveBigFilePart accepts.
	maxBigFileParts = 8000
	// MaxSecureFileSize is the largest encrypted Passport file accepted:
	// 10 MB of scan plus the largest padding.
	MaxSecureFileSize = passport.DefaultMaxFileSize
)

type uploadKey struct {
	owner  int64
	fileID int64
}

type upload struct {
	parts map[int][]byte
	total int // big files only
	big   bool
}

// storedFile is an encrypted Passport file on the server.
type storedFile struct {
	id, accessHash int64
	dc             int
	owner          int64
	data           []byte
	date           int
	hash           []byte
	secret         []byte
}

func (f *storedFile) secureFile() *tg.SecureFile {
	return &tg.SecureFile{
		ID: f.id, AccessHash: f.accessHash, Size: int64(len(f.data)), DCID: f.dc, Date: f.date,
		FileHash: append([]byte(nil), f.hash...), Secret: append([]byte(nil), f.secret...),
	}
}

func (sb *Sandbox) registerFiles(d *tg.ServerDispatcher) {
	d.OnUploadSaveFilePart(func(ctx context.Context, req *tg.UploadSaveFilePartRequest) (bool, error) {
		if req.FilePart < 0 || req.FilePart >= maxSmallFileParts {
			return false, tgerr.New(400, "FILE_PART_INVALID")
		}
		return sb.savePart(ctx, req.FileID, req.FilePart, 0, false, req.Bytes)
	})
	d.OnUploadSaveBigFilePart(func(ctx context.Context, req *tg.UploadSaveBigFilePartRequest) (bool, error) {
		if req.FileTotalParts <= 0 || req.FileTotalParts > maxBigFileParts {
			return false, tgerr.New(400, "FILE_PARTS_INVALID")
		}
		if req.FilePart < 0 || req.FilePart >= req.FileTotalParts {
			return false, tgerr.New(400, "FILE_PART_INVALID")
		}
		return sb.savePart(ctx, req.FileID, req.FilePart, req.FileTotalParts, true, req.Bytes)
	})
	d.OnUploadGetFile(sb.getFile)
}

func (sb *Sandbox) savePart(ctx context.Context, fileID int64, part, total int, big bool, data []byte) (bool, error) {
	switch {
	case len(data) == 0:
		return false, tgerr.New(400, "FILE_PART_EMPTY")
	case len(data) > MaxPartSize:
		return false, tgerr.New(400, "FILE_PART_TOO_BIG")
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return false, err
	}
	k := uploadKey{owner: self.user.ID, fileID: fileID}
	u, ok := sb.w.uploads[k]
	if !ok {
		u = &upload{parts: map[int][]byte{}, big: big, total: total}
		sb.w.uploads[k] = u
	}
	if big && u.total != total {
		return false, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	u.parts[part] = append([]byte(nil), data...)
	return true, nil
}

// assembleLocked turns uploaded parts into a stored file, checking them as
// Telegram does: every part present, equal-sized parts (but the last) whose
// size divides 512 KiB and is a multiple of 1 KiB, and the MD5 checksum of
// small files.
func (sb *Sandbox) assembleLocked(owner int64, in *tg.InputSecureFileUploaded) (*storedFile, error) {
	k := uploadKey{owner: owner, fileID: in.ID}
	u, ok := sb.w.uploads[k]
	if !ok || in.Parts <= 0 {
		return nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if u.big && in.Parts != u.total {
		return nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if len(in.FileHash) != passport.HashSize {
		return nil, tgerr.New(400, "FILE_HASH_INVALID") // hashes are SHA-256
	}
	if len(in.Secret) != passport.SecretSize {
		return nil, tgerr.New(400, "SECURE_SECRET_INVALID")
	}
	var data []byte
	size := len(u.parts[0])
	for i := range in.Parts {
		p, ok := u.parts[i]
		if !ok {
			return nil, tgerr.New(400, "FILE_PART_"+strconv.Itoa(i)+"_MISSING")
		}
		if i < in.Parts-1 && (len(p) != size || len(p)%1024 != 0 || MaxPartSize%len(p) != 0) {
			return nil, tgerr.New(400, "FILE_PART_SIZE_INVALID")
		}
		if i == in.Parts-1 && len(p) > size {
			return nil, tgerr.New(400, "FILE_PART_SIZE_CHANGED")
		}
		data = append(data, p...)
	}
	if len(data) > MaxSecureFileSize {
		return nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if len(data)%16 != 0 {
		// Passport files are AES-CBC ciphertext.
		return nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if !u.big {
		sum := md5.Sum(data) //nolint:gosec // protocol checksum
		if !strings.EqualFold(in.MD5Checksum, hex.EncodeToString(sum[:])) {
			return nil, tgerr.New(400, "MD5_CHECKSUM_INVALID")
		}
	}
	delete(sb.w.uploads, k)
	dc := MainDC
	if sb.opts.FilesDC != 0 {
		dc = sb.opts.FilesDC
	}
	f := &storedFile{
		id: sb.randInt64(), accessHash: sb.randInt64(), dc: dc, owner: owner, data: data, date: sb.unix(),
		hash: append([]byte(nil), in.FileHash...), secret: append([]byte(nil), in.Secret...),
	}
	sb.w.files[f.id] = f
	return f, nil
}

// checkDownload applies Telegram's rules on upload.getFile offset and limit:
// offset and limit multiples of 4 KiB (1 KiB with precise), limit at most
// 1 MiB and (without precise) a divisor of 1 MiB, and the requested range
// inside one 1 MiB chunk.
func checkDownload(offset int64, limit int, precise bool) error {
	align := int64(4096)
	if precise {
		align = 1024
	}
	if limit <= 0 || limit > MaxDownloadLimit || int64(limit)%align != 0 || (!precise && MaxDownloadLimit%limit != 0) {
		return tgerr.New(400, "LIMIT_INVALID")
	}
	if offset < 0 || offset%align != 0 {
		return tgerr.New(400, "OFFSET_INVALID")
	}
	if offset/MaxDownloadLimit != (offset+int64(limit)-1)/MaxDownloadLimit {
		return tgerr.New(400, "LIMIT_INVALID")
	}
	return nil
}

func (sb *Sandbox) getFile(ctx context.Context, req *tg.UploadGetFileRequest) (tg.UploadFileClass, error) {
	loc, ok := req.Location.(*tg.InputSecureFileLocation)
	if !ok {
		// The sandbox stores Passport files only.
		return nil, tgerr.New(400, "LOCATION_INVALID")
	}
	if err := checkDownload(req.Offset, req.Limit, req.Precise); err != nil {
		return nil, err
	}
	c := callFrom(ctx)
	sb.mu.Lock()
	self, err := sb.selfLocked(ctx)
	if err != nil {
		sb.mu.Unlock()
		return nil, err
	}
	f, ok := sb.w.files[loc.ID]
	if !ok || f.accessHash != loc.AccessHash {
		sb.mu.Unlock()
		return nil, tgerr.New(400, "FILE_ID_INVALID")
	}
	if f.dc != c.dc {
		sb.mu.Unlock()
		return nil, tgerr.New(303, "FILE_MIGRATE_"+strconv.Itoa(f.dc))
	}
	var chunk []byte
	if req.Offset < int64(len(f.data)) {
		end := min(req.Offset+int64(req.Limit), int64(len(f.data)))
		chunk = append([]byte(nil), f.data[req.Offset:end]...)
	}
	date := f.date
	sb.mu.Unlock()

	if err := sb.faults.throttle(ctx, c, len(chunk)); err != nil {
		return nil, err
	}
	sb.log.Debug(ctx, "File part served", log.Int64("user_id", self.user.ID), log.Int("bytes", len(chunk)))
	return &tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: date, Bytes: chunk}, nil
}
