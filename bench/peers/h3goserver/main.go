// Command h3goserver is the quic-go 0.29 HTTP/3 server of bench/http3.ts: an http3.Server serving the
// files under -root with http.FileServer, with quic-go's default settings. Unlike the interop peer
// (interop/h3server) it reports nothing per request, so the benchmark does not charge quic-go for a
// JSON line and a write to stdout on every request. Prints "LISTENING host:port"; exits when stdin
// closes.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address")
	certFile := flag.String("cert", "", "certificate chain, PEM")
	keyFile := flag.String("key", "", "private key, PEM")
	root := flag.String("root", "", "directory to serve")
	flag.Parse()
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "h3goserver: %v\n", err)
		os.Exit(2)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h3"}}
	udp, err := net.ListenPacket("udp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "h3goserver: %v\n", err)
		os.Exit(2)
	}
	ln, err := quic.ListenEarly(udp, conf, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "h3goserver: %v\n", err)
		os.Exit(2)
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
