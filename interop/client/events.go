package main

import (
	"bytes"
	"encoding/json"
	"os"
	"sync"
)

// Everything the harness reads comes from stdout, one line at a time: the LISTENING line first, then
// one JSON object per event. Diagnostics go to stderr.

var stdoutMu sync.Mutex

func writeLine(line []byte) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.Write(line)
}

// emit prints {"event":event,k1:v1,k2:v2,...} with the keys in the order given.
func emit(event string, kv ...any) {
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
	writeLine(b.Bytes())
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		enc, _ = json.Marshal(err.Error())
	}
	b.Write(enc)
}
