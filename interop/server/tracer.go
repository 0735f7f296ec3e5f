package main

import (
	"../peerkit"
	"context"
	"errors"
	"net"
	"strings"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/logging"
)

// tracer reports, per connection, the frames it receives (those named in the filter), key updates and
// the close reason. Everything else is left to logging.NullConnectionTracer.
type tracer struct {
	logging.NullTracer
	frames map[string]bool // frame names to report; "all" reports every frame
}

func newTracer(frameList string) *tracer {
	t := &tracer{frames: map[string]bool{}}
	for _, name := range strings.Split(frameList, ",") {
		if name = strings.TrimSpace(name); name != "" {
			t.frames[strings.ToUpper(name)] = true
		}
	}
	return t
}

// SentPacket sees the packets the server sends outside any connection: Retry (RFC 9000 §17.2.5),
// Version Negotiation and the CONNECTION_CLOSE refusing a connection.
func (t *tracer) SentPacket(remote net.Addr, hdr *logging.Header, _ logging.ByteCount, _ []logging.Frame) {
	if logging.PacketTypeFromHeader(hdr) == logging.PacketTypeRetry {
		peerkit.Emit("retry", "remote", remote.String())
	}
}

func (t *tracer) TracerForConnection(ctx context.Context, _ logging.Perspective, _ logging.ConnectionID) logging.ConnectionTracer {
	return &connTracer{id: peerkit.ConnTracingID(ctx), frames: t.frames}
}

type connTracer struct {
	logging.NullConnectionTracer
	id     uint64
	frames map[string]bool
}

func (c *connTracer) ReceivedPacket(hdr *logging.ExtendedHeader, _ logging.ByteCount, frames []logging.Frame) {
	packet := packetTypeName(logging.PacketTypeFromHeader(&hdr.Header))
	for _, f := range frames {
		name, fields := describeFrame(f)
		if !c.frames["ALL"] && !c.frames[name] {
			continue
		}
		kv := append([]any{"id", c.id, "frame", name}, fields...)
		kv = append(kv, "packet", packet)
		peerkit.Emit("frame", kv...)
	}
}

// UpdatedKey is called for every 1-RTT key update (RFC 9001 §6), initiated by either side.
func (c *connTracer) UpdatedKey(generation logging.KeyPhase, remote bool) {
	peerkit.Emit("key-update", "id", c.id, "generation", uint64(generation), "remote", remote)
}

func (c *connTracer) ClosedConnection(err error) {
	kv := []any{"id", c.id, "error", err.Error()}
	var appErr *quic.ApplicationError
	var transportErr *quic.TransportError
	var idleErr *quic.IdleTimeoutError
	var hsErr *quic.HandshakeTimeoutError
	switch {
	case errors.As(err, &appErr):
		kv = append(kv, "kind", "application", "code", uint64(appErr.ErrorCode), "remote", appErr.Remote)
	case errors.As(err, &transportErr):
		kv = append(kv, "kind", "transport", "code", uint64(transportErr.ErrorCode), "remote", transportErr.Remote)
	case errors.As(err, &idleErr):
		kv = append(kv, "kind", "idle-timeout")
	case errors.As(err, &hsErr):
		kv = append(kv, "kind", "handshake-timeout")
	default:
		kv = append(kv, "kind", "other")
	}
	peerkit.Emit("closed", kv...)
}

func packetTypeName(t logging.PacketType) string {
	switch t {
	case logging.PacketTypeInitial:
		return "initial"
	case logging.PacketTypeHandshake:
		return "handshake"
	case logging.PacketType0RTT:
		return "0RTT"
	case logging.PacketType1RTT:
		return "1RTT"
	default:
		return "other"
	}
}

// describeFrame names a frame as RFC 9000 §19 does and lists its identifying fields.
func describeFrame(f logging.Frame) (string, []any) {
	switch f := f.(type) {
	case *logging.ResetStreamFrame:
		return "RESET_STREAM", []any{"stream", int64(f.StreamID), "code", uint64(f.ErrorCode), "finalSize", uint64(f.FinalSize)}
	case *logging.StopSendingFrame:
		return "STOP_SENDING", []any{"stream", int64(f.StreamID), "code", uint64(f.ErrorCode)}
	case *logging.StreamFrame:
		return "STREAM", []any{"stream", int64(f.StreamID), "offset", uint64(f.Offset), "length", uint64(f.Length), "fin", f.Fin}
	case *logging.MaxStreamDataFrame:
		return "MAX_STREAM_DATA", []any{"stream", int64(f.StreamID), "max", uint64(f.MaximumStreamData)}
	case *logging.StreamDataBlockedFrame:
		return "STREAM_DATA_BLOCKED", []any{"stream", int64(f.StreamID), "limit", uint64(f.MaximumStreamData)}
	case *logging.MaxStreamsFrame:
		return "MAX_STREAMS", []any{"uni", f.Type == logging.StreamTypeUni, "max", uint64(f.MaxStreamNum)}
	case *logging.StreamsBlockedFrame:
		return "STREAMS_BLOCKED", []any{"uni", f.Type == logging.StreamTypeUni, "limit", uint64(f.StreamLimit)}
	case *logging.MaxDataFrame:
		return "MAX_DATA", []any{"max", uint64(f.MaximumData)}
	case *logging.DataBlockedFrame:
		return "DATA_BLOCKED", []any{"limit", uint64(f.MaximumData)}
	case *logging.CryptoFrame:
		return "CRYPTO", []any{"offset", uint64(f.Offset), "length", uint64(f.Length)}
	case *logging.AckFrame:
		return "ACK", nil
	case *logging.PingFrame:
		return "PING", nil
	case *logging.ConnectionCloseFrame:
		return "CONNECTION_CLOSE", []any{"application", f.IsApplicationError, "code", f.ErrorCode}
	case *logging.HandshakeDoneFrame:
		return "HANDSHAKE_DONE", nil
	case *logging.NewConnectionIDFrame:
		return "NEW_CONNECTION_ID", []any{"sequence", f.SequenceNumber}
	case *logging.RetireConnectionIDFrame:
		return "RETIRE_CONNECTION_ID", []any{"sequence", f.SequenceNumber}
	case *logging.NewTokenFrame:
		return "NEW_TOKEN", nil
	case *logging.PathChallengeFrame:
		return "PATH_CHALLENGE", nil
	case *logging.PathResponseFrame:
		return "PATH_RESPONSE", nil
	case *logging.DatagramFrame:
		return "DATAGRAM", []any{"length", uint64(f.Length)}
	default:
		return "UNKNOWN", nil
	}
}
