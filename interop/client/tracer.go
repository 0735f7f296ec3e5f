package main

import (
	"../peerkit"
	"context"
	"sync"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/logging"
)

// tracer hands out one connTracer per connection and finds it again from the connection.
type tracer struct {
	logging.NullTracer
	mu    sync.Mutex
	conns map[uint64]*connTracer
}

func newTracer() *tracer { return &tracer{conns: map[uint64]*connTracer{}} }

func (t *tracer) TracerForConnection(ctx context.Context, _ logging.Perspective, _ logging.ConnectionID) logging.ConnectionTracer {
	ct := &connTracer{id: peerkit.ConnTracingID(ctx), handshakeDone: make(chan struct{})}
	t.mu.Lock()
	t.conns[ct.id] = ct
	t.mu.Unlock()
	return ct
}

func (t *tracer) of(conn quic.Connection) *connTracer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conns[peerkit.ConnTracingID(conn.Context())]
}

// connTracer reports key updates and watches the RESET_STREAM and STOP_SENDING frames of one canceled
// stream until a packet carrying each of them has been acknowledged.
type connTracer struct {
	logging.NullConnectionTracer
	id      uint64
	mu      sync.Mutex
	watch   *cancelWatch
	zeroRTT bool // the 0-RTT write key was installed
	// handshakeDone closes when a HANDSHAKE_DONE frame arrives (RFC 9000 §19.20): the server's
	// handshake is complete and its application has seen it.
	handshakeDone chan struct{}
	sawDone       bool
}

type cancelWatch struct {
	stream  quic.StreamID
	pending map[logging.PacketNumber][]string // packet number -> frame names it carries
	acked   map[string]bool
	done    chan struct{}
}

// watchCancel starts watching stream's cancel frames; the channel closes once both are acknowledged.
func (c *connTracer) watchCancel(stream quic.StreamID) <-chan struct{} {
	w := &cancelWatch{
		stream:  stream,
		pending: map[logging.PacketNumber][]string{},
		acked:   map[string]bool{},
		done:    make(chan struct{}),
	}
	c.mu.Lock()
	c.watch = w
	c.mu.Unlock()
	return w.done
}

func (c *connTracer) SentPacket(hdr *logging.ExtendedHeader, _ logging.ByteCount, _ *logging.AckFrame, frames []logging.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.watch
	if w == nil {
		return
	}
	for _, f := range frames {
		switch f := f.(type) {
		case *logging.ResetStreamFrame:
			if f.StreamID == w.stream {
				w.pending[hdr.PacketNumber] = append(w.pending[hdr.PacketNumber], "RESET_STREAM")
			}
		case *logging.StopSendingFrame:
			if f.StreamID == w.stream {
				w.pending[hdr.PacketNumber] = append(w.pending[hdr.PacketNumber], "STOP_SENDING")
			}
		}
	}
}

func (c *connTracer) ReceivedPacket(_ *logging.ExtendedHeader, _ logging.ByteCount, frames []logging.Frame) {
	for _, f := range frames {
		if _, ok := f.(*logging.HandshakeDoneFrame); ok {
			c.mu.Lock()
			if !c.sawDone {
				c.sawDone = true
				close(c.handshakeDone)
			}
			c.mu.Unlock()
		}
	}
}

func (c *connTracer) AcknowledgedPacket(level logging.EncryptionLevel, pn logging.PacketNumber) {
	// RESET_STREAM and STOP_SENDING travel in the application data packet number space (0-RTT/1-RTT).
	if level == logging.EncryptionInitial || level == logging.EncryptionHandshake {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.watch
	if w == nil {
		return
	}
	names, ok := w.pending[pn]
	if !ok {
		return
	}
	delete(w.pending, pn)
	for _, name := range names {
		w.acked[name] = true
	}
	if w.acked["RESET_STREAM"] && w.acked["STOP_SENDING"] {
		close(w.done)
		c.watch = nil
	}
}

// ReceivedRetry: the server asked for address validation (RFC 9000 §8.1.2); quic-go redials with the
// token on the same connection.
func (c *connTracer) ReceivedRetry(*logging.Header) {
	peerkit.Emit("retry", "id", c.id)
}

// UpdatedKey is called for every 1-RTT key update (RFC 9001 §6), initiated by either side.
func (c *connTracer) UpdatedKey(generation logging.KeyPhase, remote bool) {
	peerkit.Emit("key-update", "id", c.id, "generation", uint64(generation), "remote", remote)
}

// UpdatedKeyFromTLS sees the client install its 0-RTT write key, which quic-go 0.29 does before the
// ClientHello goes out exactly when the ticket allows early data: the connection attempts 0-RTT.
func (c *connTracer) UpdatedKeyFromTLS(level logging.EncryptionLevel, p logging.Perspective) {
	if level == logging.Encryption0RTT && p == logging.PerspectiveClient {
		c.mu.Lock()
		c.zeroRTT = true
		c.mu.Unlock()
	}
}

func (c *connTracer) has0RTTKeys() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.zeroRTT
}
