// Command h3goserver is the quic-go 0.29 HTTP/3 server of bench/http3.ts: an http3.Server serving the
// files under -root with http.FileServer, with quic-go's default settings. Unlike the interop peer
// (interop/h3server) it reports nothing per request, so the benchmark does not charge quic-go for a
// JSON line and a write to stdout on every request. Prints "LISTENING host:port"; exits when stdin
// closes.
package main

import (
	"../../../interop/peerkit"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/lucas-clemente/quic-go/http3"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address")
	certFile := flag.String("cert", "", "certificate chain, PEM")
	keyFile := flag.String("key", "", "private key, PEM")
	root := flag.String("root", "", "directory to serve")
	flag.Parse()
	conf, err := peerkit.ServerTLS(*certFile, *keyFile, "h3")
	if err != nil {
		peerkit.Fatal("h3goserver", "%v", err)
	}
	udp, ln, err := peerkit.ListenEarly(*listen, conf)
	if err != nil {
		peerkit.Fatal("h3goserver", "%v", err)
	}
	fmt.Printf("LISTENING %s\n", udp.LocalAddr().String())
	srv := &http3.Server{Handler: http.FileServer(http.Dir(*root))}
	go func() {
		// Exit when the parent goes away (stdin closes).
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := srv.ServeListener(ln); err != nil {
		fmt.Fprintf(os.Stderr, "h3goserver: %v\n", err)
		os.Exit(1)
	}
}
