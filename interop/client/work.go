package main

import (
	"../peerkit"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
)

// job is what the client does on one connection: optionally cancel a stream, then fetch the files or
// run the echo. It is repeated as a whole on the next connection when 0-RTT is rejected.
type job struct {
	paths      []string // HTTP/0.9 request paths (ALPN hq-interop)
	outputDir  string   // "" = only count and hash the bytes
	echoData   []byte   // non-nil: echo mode (ALPN echo)
	echoCount  int      // concurrent echo streams
	cancelCode int64    // >= 0: cancel a stream with this code first
	// >= 0: a stream whose read or write fails with Err0RTTRejected is canceled in both directions
	// with this code, like the deferred CancelRead/CancelWrite of the quic-go #4706 report.
	cancelRejectedCode int64
	tracer             *tracer
	ackTimeout         time.Duration
	datagrams          int // > 0: first exchange this many DATAGRAMs with an echoing server
	datagramSize       int
}

func (j *job) run(conn quic.Connection) error {
	if j.datagrams > 0 {
		if err := exchangeDatagrams(conn, j.datagrams, j.datagramSize); err != nil {
			return err
		}
	}
	var acked <-chan struct{}
	if j.cancelCode >= 0 {
		var err error
		if acked, err = j.cancelStream(conn); err != nil {
			return err
		}
	}
	var err error
	if j.echoData != nil {
		err = parallel(j.echoCount, func(int) error { return echo(conn, j.echoData, j.cancelRejectedCode) })
	} else {
		err = parallel(len(j.paths), func(i int) error { return fetch(conn, j.paths[i], j.outputDir, j.cancelRejectedCode) })
	}
	if err != nil || acked == nil {
		return err
	}
	// The work above took at least a round trip; still, only leave once the server has acknowledged
	// both cancel frames, so closing the connection cannot drop them.
	t := time.NewTimer(j.ackTimeout)
	defer t.Stop()
	select {
	case <-acked:
		return nil
	case <-conn.Context().Done():
		return errors.New("connection closed before the cancel frames were acknowledged")
	case <-t.C:
		return errors.New("the cancel frames were not acknowledged in time")
	}
}

// cancelStream opens a bidirectional stream, writes a few bytes without FIN, then aborts both
// directions: CancelWrite sends RESET_STREAM (RFC 9000 §19.4), CancelRead sends STOP_SENDING (§19.5).
func (j *job) cancelStream(conn quic.Connection) (<-chan struct{}, error) {
	str, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return nil, err
	}
	ct := j.tracer.of(conn)
	if ct == nil {
		return nil, errors.New("no tracer for the connection")
	}
	acked := ct.watchCancel(str.StreamID())
	if _, err := str.Write([]byte("cancel")); err != nil {
		return nil, err
	}
	code := quic.StreamErrorCode(j.cancelCode)
	str.CancelWrite(code)
	str.CancelRead(code)
	peerkit.Emit("cancel", "stream", int64(str.StreamID()), "code", uint64(code))
	return acked, nil
}

// cancelIfRejected is the deferred cleanup of the quic-go #4706 report: when the stream's work failed
// because 0-RTT was rejected, cancel the (dead) stream in both directions. quic-go 0.29 then sends the
// RESET_STREAM and STOP_SENDING on the connection that continues after the rejection.
func cancelIfRejected(str quic.Stream, code int64, err *error) {
	if code < 0 || *err == nil || !errors.Is(*err, quic.Err0RTTRejected) {
		return
	}
	str.CancelRead(quic.StreamErrorCode(code))
	str.CancelWrite(quic.StreamErrorCode(code))
	peerkit.Emit("cancel-rejected", "stream", int64(str.StreamID()), "code", code)
}

// parallel runs n functions concurrently and returns the first error.
func parallel(n int, f func(i int) error) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- f(i)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fetch sends "GET /path\r\n" and FIN (hq-interop) and reads the answer up to the server's FIN; a
// file has arrived whole only if the stream ended with FIN, not with a reset or a closed connection.
func fetch(conn quic.Connection, reqPath, outputDir string, cancelRejected int64) (err error) {
	str, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return err
	}
	defer cancelIfRejected(str, cancelRejected, &err)
	if _, err := str.Write([]byte("GET " + reqPath + "\r\n")); err != nil {
		return err
	}
	if err := str.Close(); err != nil {
		return err
	}
	h := sha256.New()
	var sink io.Writer = h
	var file *os.File
	if outputDir != "" {
		target := filepath.Join(outputDir, filepath.FromSlash(path.Clean("/"+reqPath)))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if file, err = os.Create(target); err != nil {
			return err
		}
		defer file.Close()
		sink = io.MultiWriter(h, file)
	}
	n, copyErr := io.Copy(sink, str)
	if copyErr != nil {
		return fmt.Errorf("GET %s: %w", reqPath, copyErr)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
	}
	peerkit.Emit("file", "path", reqPath, "bytes", n, "sha256", hex.EncodeToString(h.Sum(nil)),
		"stream", int64(str.StreamID()))
	return nil
}

// echo sends data and FIN on a new stream while reading the answer, and checks that it is the same.
func echo(conn quic.Connection, data []byte, cancelRejected int64) (err error) {
	str, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return err
	}
	defer cancelIfRejected(str, cancelRejected, &err)
	writeErr := make(chan error, 1)
	go func() {
		if _, err := str.Write(data); err != nil {
			writeErr <- err
			return
		}
		writeErr <- str.Close()
	}()
	got, err := io.ReadAll(str)
	if err != nil {
		return fmt.Errorf("echo on stream %d: %w", str.StreamID(), err)
	}
	if err := <-writeErr; err != nil {
		return fmt.Errorf("echo on stream %d: %w", str.StreamID(), err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("echo on stream %d: sent %d bytes, got %d different bytes back", str.StreamID(), len(data), len(got))
	}
	peerkit.Emit("echo", "stream", int64(str.StreamID()), "bytes", len(got))
	return nil
}

// exchangeDatagrams sends n DATAGRAMs of size bytes (the first 4 bytes number them, the rest is a
// pattern), then waits until the server has echoed each one back, byte for byte. DATAGRAMs are
// unreliable (RFC 9221 §5); on loopback none is lost, and a missing one fails the run.
func exchangeDatagrams(conn quic.Connection, n, size int) error {
	if size < 4 {
		size = 4
	}
	sent := make(map[uint32][]byte, n)
	for i := 0; i < n; i++ {
		msg := make([]byte, size)
		binary.BigEndian.PutUint32(msg, uint32(i))
		for k := 4; k < size; k++ {
			msg[k] = byte(i + k)
		}
		sent[uint32(i)] = msg
		if err := conn.SendMessage(msg); err != nil {
			return fmt.Errorf("SendMessage %d: %w", i, err)
		}
		peerkit.Emit("datagram-sent", "index", i, "bytes", size)
	}
	got := make(chan []byte)
	go func() {
		for {
			msg, err := conn.ReceiveMessage()
			if err != nil {
				close(got)
				return
			}
			got <- msg
		}
	}()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for len(sent) > 0 {
		select {
		case msg, ok := <-got:
			if !ok {
				return errors.New("the connection closed before every DATAGRAM came back")
			}
			if len(msg) < 4 {
				return fmt.Errorf("a DATAGRAM of %d bytes came back", len(msg))
			}
			i := binary.BigEndian.Uint32(msg)
			want, ok := sent[i]
			if !ok || !bytes.Equal(msg, want) {
				return fmt.Errorf("DATAGRAM %d came back different or twice", i)
			}
			delete(sent, i)
			peerkit.Emit("datagram", "index", i, "bytes", len(msg))
		case <-deadline.C:
			return fmt.Errorf("%d of %d DATAGRAMs did not come back within 10s", len(sent), n)
		}
	}
	return nil
}
