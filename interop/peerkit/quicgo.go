package peerkit

import (
	"context"
	_ "unsafe" // for go:linkname

	"github.com/lucas-clemente/quic-go"
)

// ConnTracingID is the number quic-go 0.29 gives each connection. It is stored under
// quic.ConnectionTracingKey both in the context handed to a tracer and in Connection.Context(), which
// is how frame events and connection events share an "id".
func ConnTracingID(ctx context.Context) uint64 {
	id, _ := ctx.Value(quic.ConnectionTracingKey).(uint64)
	return id
}

// quic-go 0.29 initiates a 1-RTT key update (RFC 9001 §6) every KeyUpdateInterval packets, a variable in
// its internal/handshake package (default 100,000) that is read whenever a connection is created. An
// internal package cannot be imported from outside quic-go, so the variable is reached by its linker
// symbol. quic-go's own interop client sets it to 100 for the interop runner's keyupdate test.
//
//go:linkname keyUpdateInterval github.com/lucas-clemente/quic-go/internal/handshake.KeyUpdateInterval
var keyUpdateInterval uint64

// SetKeyUpdateInterval makes quic-go start a key update every `packets` packets on new connections.
func SetKeyUpdateInterval(packets uint64) {
	keyUpdateInterval = packets
}
