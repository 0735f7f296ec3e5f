// Command h3server is the quic-go 0.29 HTTP/3 peer of tsquic's interop tests: an http3.Server
// serving the files under -root (and echoing POST bodies on /echo), on an early listener with -0rtt
// (ServeListener), reporting on stdout "LISTENING host:port" and then one JSON object per request:
// {"event":"request","method":...,"path":...,"early":bool,"proto":...} ("used0RTT":bool too for
// files: whether the request's connection had 0-RTT accepted).
package main

import (
	"../peerkit"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func report(v map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(v)
}

// earlyListener remembers each connection by remote address, so a handler can tell whether its
// request arrived before the handshake completed (0-RTT).
type earlyListener struct {
	quic.EarlyListener
	mu    sync.Mutex
	conns map[string]quic.EarlyConnection
}

func (l *earlyListener) Accept(ctx context.Context) (quic.EarlyConnection, error) {
	c, err := l.EarlyListener.Accept(ctx)
	if err == nil {
		l.mu.Lock()
		l.conns[c.RemoteAddr().String()] = c
		l.mu.Unlock()
	}
	return c, err
}

// conn is the connection accepted from `addr`, or nil.
func (l *earlyListener) conn(addr string) quic.EarlyConnection {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[addr]
}

// used0RTT: whether quic-go accepted 0-RTT on the connection of `addr`, once its handshake is done
// (race-free, unlike early(): a handler may run after the handshake completed even for a request
// that came in 0-RTT packets).
func (l *earlyListener) used0RTT(addr string) bool {
	c := l.conn(addr)
	if c == nil {
		return false
	}
	<-c.HandshakeComplete().Done()
	return c.ConnectionState().TLS.Used0RTT
}

func (l *earlyListener) early(addr string) bool {
	c := l.conn(addr)
	if c == nil {
		return false
	}
	select {
	case <-c.HandshakeComplete().Done():
		return false
	default:
		return true
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address")
	certFile := flag.String("cert", "", "certificate chain, PEM")
	keyFile := flag.String("key", "", "private key, PEM")
	root := flag.String("root", "", "directory to serve")
	_ = flag.Bool("0rtt", true, "accept 0-RTT (early listener; always on)")
	keylog := flag.String("keylog", "", "append TLS secrets to FILE")
	flag.Parse()
	conf, err := peerkit.ServerTLS(*certFile, *keyFile, "h3")
	if err != nil {
		peerkit.Fatal("h3server", "%v", err)
	}
	if err := peerkit.ApplyTLSOptions(conf, false, *keylog); err != nil {
		peerkit.Fatal("h3server", "%v", err)
	}
	udp, ln, err := peerkit.ListenEarly(*listen, conf)
	if err != nil {
		peerkit.Fatal("h3server", "%v", err)
	}
	el := &earlyListener{EarlyListener: ln, conns: map[string]quic.EarlyConnection{}}
	files := http.FileServer(http.Dir(*root))
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		early := el.early(r.RemoteAddr)
		body, _ := io.ReadAll(r.Body)
		report(map[string]any{"event": "request", "method": r.Method, "path": r.URL.Path, "early": early, "proto": r.Proto, "bytes": len(body)})
		w.Header().Set("content-type", "application/octet-stream")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		early := el.early(r.RemoteAddr)
		report(map[string]any{"event": "request", "method": r.Method, "path": r.URL.Path, "early": early, "used0RTT": el.used0RTT(r.RemoteAddr), "proto": r.Proto})
		files.ServeHTTP(w, r)
	})
	fmt.Printf("LISTENING %s\n", udp.LocalAddr().String())
	srv := &http3.Server{Handler: mux}
	go func() {
		// Exit when the parent goes away (stdin closes).
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := srv.ServeListener(el); err != nil {
		fmt.Fprintf(os.Stderr, "h3server: %v\n", err)
		os.Exit(1)
	}
}
