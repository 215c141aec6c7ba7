package botapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
)

// filePathPrefix starts the file_path of a Passport file.
const filePathPrefix = "passport/"

// partSize is what one upload.getFile asks for: 1 MiB, the most Telegram
// allows; with offsets that are multiples of it, no request crosses a
// 1 MiB boundary.
const partSize = 1 << 20

func getFile(_ context.Context, _ *botClient, p params) (any, error) {
	id := strings.TrimSpace(p.str("file_id"))
	if id == "" {
		return nil, badRequest("file_id is empty")
	}
	ref, err := parseFileID(id)
	if err != nil {
		return nil, err
	}
	return apiFile{FileID: id, FileUniqueID: ref.uniqueID(), FileSize: ref.Size, FilePath: filePathPrefix + id}, nil
}

// serveFile streams a file (GET /file/bot<token>/<file_path>) with
// upload.getFile, 1 MiB a call; gotd follows FILE_MIGRATE_X to the DC
// that has the file.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, token, path string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, errNotFound)
		return
	}
	id, ok := strings.CutPrefix(path, filePathPrefix)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	ref, err := parseFileID(id)
	if err != nil {
		writeError(w, errNotFound)
		return
	}
	b, err := s.bot(r.Context(), token)
	if err != nil {
		writeError(w, fromMTProto(err))
		return
	}
	loc := &tg.InputSecureFileLocation{ID: ref.ID, AccessHash: ref.AccessHash}
	first, err := b.filePart(r.Context(), loc, 0)
	if err != nil {
		e := fromMTProto(err)
		if e.code == http.StatusBadRequest {
			e = errNotFound
		}
		writeError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(ref.Size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	part, off := first, int64(0)
	for {
		if _, err := w.Write(part); err != nil {
			return
		}
		off += int64(len(part))
		if len(part) < partSize || off >= ref.Size {
			return
		}
		if part, err = b.filePart(r.Context(), loc, off); err != nil {
			// The status is sent: the client sees a body shorter than
			// Content-Length.
			b.log.Warn(r.Context(), "file download failed", log.Error(err))
			return
		}
	}
}

func (b *botClient) filePart(ctx context.Context, loc *tg.InputSecureFileLocation, off int64) ([]byte, error) {
	res, err := b.rpc().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Offset: off, Limit: partSize})
	if err != nil {
		return nil, err
	}
	f, ok := res.(*tg.UploadFile)
	if !ok {
		return nil, errInternal
	}
	return f.Bytes, nil
}
