// Package peerkit holds what the quic-go 0.29 peers of tsquic's interop tests (interop/) and
// benchmarks (bench/peers/) share: the event lines they print, the session-ticket cache that signals
// each ticket, quic-go's connection tracing ID, its key-update interval, and the TLS setup. The peers
// are built in GOPATH mode and import it by relative path ("../peerkit").
package peerkit

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
)

// Everything a harness reads comes from stdout, one line at a time: the LISTENING line first, then
// one JSON object per event. Diagnostics go to stderr.

var stdoutMu sync.Mutex

// WriteLine writes one complete line to stdout; lines from different goroutines never interleave.
func WriteLine(line []byte) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.Write(line)
}

// Emit prints {"event":event,k1:v1,k2:v2,...} with the keys in the order given.
func Emit(event string, kv ...any) {
	var b bytes.Buffer
	b.WriteString(`{"event":`)
	writeJSON(&b, event)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(',')
		writeJSON(&b, kv[i])
		b.WriteByte(':')
		writeJSON(&b, kv[i+1])
	}
	b.WriteString("}\n")
	WriteLine(b.Bytes())
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		enc, _ = json.Marshal(err.Error())
	}
	b.Write(enc)
}
