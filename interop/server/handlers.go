package main

import (
	"../peerkit"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lucas-clemente/quic-go"
)

// Application error codes this server uses when it resets a stream (they are its own choice: the
// hq-interop protocol defines none).
const (
	codeBadRequest quic.StreamErrorCode = 0x1
	codeNotFound   quic.StreamErrorCode = 0x2
)

const maxRequestSize = 4096

// reportStreamError emits a stream-error event; code is set when the peer reset or stopped the stream.
func reportStreamError(id uint64, str quic.StreamID, op string, err error) {
	kv := []any{"id", id, "stream", int64(str), "op", op, "error", err.Error()}
	var streamErr *quic.StreamError
	if errors.As(err, &streamErr) {
		kv = append(kv, "code", uint64(streamErr.ErrorCode))
	}
	peerkit.Emit("stream-error", kv...)
}

// streamErrorCode is the peer's code if err is a stream reset, else 0.
func streamErrorCode(err error) quic.StreamErrorCode {
	var streamErr *quic.StreamError
	if errors.As(err, &streamErr) {
		return streamErr.ErrorCode
	}
	return 0
}

// serveHQ answers one HTTP/0.9 request (the QUIC interop runner's hq-interop protocol): the client sends
// "GET /path\r\n" and FIN on a bidirectional stream; the answer is the file's bytes and FIN.
func serveHQ(id uint64, str quic.Stream, root string) {
	req, err := io.ReadAll(io.LimitReader(str, maxRequestSize+1))
	if err != nil {
		reportStreamError(id, str.StreamID(), "read", err)
		str.CancelWrite(streamErrorCode(err))
		return
	}
	p, ok := parseRequest(req)
	if !ok || len(req) > maxRequestSize {
		peerkit.Emit("request", "id", id, "stream", int64(str.StreamID()), "status", "bad-request")
		str.CancelRead(codeBadRequest)
		str.CancelWrite(codeBadRequest)
		return
	}
	f, err := openUnderRoot(root, p)
	if err != nil {
		peerkit.Emit("request", "id", id, "stream", int64(str.StreamID()), "path", p, "status", "not-found")
		str.CancelWrite(codeNotFound)
		return
	}
	defer f.Close()
	n, err := io.Copy(str, f)
	if err != nil {
		reportStreamError(id, str.StreamID(), "write", err)
		str.CancelWrite(streamErrorCode(err))
		return
	}
	if err := str.Close(); err != nil {
		reportStreamError(id, str.StreamID(), "close", err)
		return
	}
	peerkit.Emit("request", "id", id, "stream", int64(str.StreamID()), "path", p, "status", "ok", "bytes", n)
}

// parseRequest accepts "GET <path>" followed by CRLF (or LF, or nothing before the FIN).
func parseRequest(req []byte) (string, bool) {
	line := strings.TrimRight(string(bytes.SplitN(req, []byte("\n"), 2)[0]), "\r")
	if !strings.HasPrefix(line, "GET /") || strings.ContainsAny(line[4:], " \x00") {
		return "", false
	}
	return line[4:], true
}

// openUnderRoot opens a regular file below root. ".." cannot climb out (the path is cleaned as an
// absolute path first) and neither can a symbolic link (the resolved path must stay below the resolved
// root).
func openUnderRoot(root, reqPath string) (*os.File, error) {
	if i := strings.IndexByte(reqPath, '?'); i >= 0 {
		reqPath = reqPath[:i]
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	full := filepath.Join(realRoot, filepath.FromSlash(path.Clean("/"+reqPath)))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is outside the root", reqPath)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", reqPath)
	}
	return f, nil
}

// echoStream writes back everything it reads, then FIN. If the peer resets its sending side
// (RESET_STREAM) the echo cannot be completed: the write side is reset with the same code. If the peer
// stops our sending side (STOP_SENDING), the rest of the input is read and dropped.
func echoStream(id uint64, str quic.Stream) {
	buf := make([]byte, 32*1024)
	var total int64
	writable := true
	for {
		n, rerr := str.Read(buf)
		if n > 0 && writable {
			if _, werr := str.Write(buf[:n]); werr != nil {
				reportStreamError(id, str.StreamID(), "write", werr)
				writable = false
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			reportStreamError(id, str.StreamID(), "read", rerr)
			if writable {
				str.CancelWrite(streamErrorCode(rerr))
			}
			return
		}
	}
	if !writable {
		return
	}
	if err := str.Close(); err != nil {
		reportStreamError(id, str.StreamID(), "close", err)
		return
	}
	peerkit.Emit("echo", "id", id, "stream", int64(str.StreamID()), "bytes", total)
}

// drainUni reads a unidirectional stream to its end and reports its size.
func drainUni(id uint64, str quic.ReceiveStream) {
	n, err := io.Copy(io.Discard, str)
	if err != nil {
		reportStreamError(id, str.StreamID(), "read", err)
		return
	}
	peerkit.Emit("uni", "id", id, "stream", int64(str.StreamID()), "bytes", n)
}

// echoDatagrams reports every DATAGRAM payload (RFC 9221) the connection receives and sends it back.
func echoDatagrams(id uint64, conn quic.Connection) {
	for {
		msg, err := conn.ReceiveMessage()
		if err != nil {
			return
		}
		sum := sha256.Sum256(msg)
		peerkit.Emit("datagram", "id", id, "bytes", len(msg), "sha256", hex.EncodeToString(sum[:]))
		if err := conn.SendMessage(msg); err != nil {
			peerkit.Emit("datagram-error", "id", id, "error", err.Error())
		}
	}
}
