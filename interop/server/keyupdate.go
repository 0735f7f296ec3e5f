package main

import (
	_ "unsafe" // for go:linkname
)

// quic-go 0.29 initiates a 1-RTT key update (RFC 9001 §6) every KeyUpdateInterval packets, a variable in
// its internal/handshake package (default 100,000) that is read whenever a connection is created. An
// internal package cannot be imported from outside quic-go, so the variable is reached by its linker
// symbol. quic-go's own interop client sets it to 100 for the interop runner's keyupdate test.
//
//go:linkname keyUpdateInterval github.com/lucas-clemente/quic-go/internal/handshake.KeyUpdateInterval
var keyUpdateInterval uint64

func setKeyUpdateInterval(packets uint64) {
	keyUpdateInterval = packets
}
