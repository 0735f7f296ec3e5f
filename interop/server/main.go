// Command server is the quic-go 0.29 peer of tsquic's interop tests. It serves files over HTTP/0.9
// (ALPN hq-interop, with -root) and/or echoes bidirectional streams (ALPN echo, with -echo), and reports
// what happens on stdout: first "LISTENING host:port", then one JSON object per line (see README.md).
package main

import (
	"../peerkit"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
)

type options struct {
	listen, certFile, keyFile, root, ticketKey, keylog, frames string
	echo, retry, zeroRTT, reject0RTT, chacha, lifeline, dgrams bool
	maxStreams, maxUniStreams                                  int64
	streamWindow, connWindow, keyUpdate                        uint64
	idleTimeout                                                time.Duration
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on (port 0: any free port)")
	flag.StringVar(&o.certFile, "cert", "", "certificate chain, PEM (required)")
	flag.StringVar(&o.keyFile, "key", "", "private key, PEM (required)")
	flag.StringVar(&o.root, "root", "", "serve the files under DIR over HTTP/0.9 on ALPN hq-interop")
	flag.BoolVar(&o.echo, "echo", false, "echo every bidirectional stream on ALPN echo")
	flag.BoolVar(&o.retry, "retry", false, "require address validation: send a Retry to every new client")
	flag.BoolVar(&o.zeroRTT, "0rtt", false, "early listener: accept 0-RTT")
	flag.BoolVar(&o.reject0RTT, "reject-0rtt", false, "early listener whose every ClientHello sees a fresh ticket key: resumption and 0-RTT fail")
	flag.StringVar(&o.ticketKey, "ticket-key", "", "fixed session ticket key, 64 hex digits (shared between server processes)")
	flag.Int64Var(&o.maxStreams, "max-streams", 0, "initial_max_streams_bidi (0: quic-go default 100)")
	flag.Int64Var(&o.maxUniStreams, "max-uni-streams", 0, "initial_max_streams_uni (0: quic-go default 100)")
	flag.Uint64Var(&o.streamWindow, "stream-window", 0, "stream receive window, fixed (0: quic-go default, auto-tuned)")
	flag.Uint64Var(&o.connWindow, "conn-window", 0, "connection receive window, fixed (0: quic-go default, auto-tuned)")
	flag.StringVar(&o.keylog, "keylog", "", "append TLS secrets to FILE (NSS key log format)")
	flag.BoolVar(&o.chacha, "chacha", false, "offer only TLS_CHACHA20_POLY1305_SHA256")
	flag.Uint64Var(&o.keyUpdate, "key-update", 0, "initiate a 1-RTT key update every N packets (0: quic-go default)")
	flag.StringVar(&o.frames, "frames", "RESET_STREAM,STOP_SENDING", "received frame types to report, comma-separated, or all")
	flag.DurationVar(&o.idleTimeout, "idle-timeout", 0, "max_idle_timeout (0: quic-go default 30s)")
	flag.BoolVar(&o.lifeline, "exit-on-stdin-close", false, "exit when stdin reaches EOF (the parent went away)")
	flag.BoolVar(&o.dgrams, "datagrams", false, "EnableDatagrams (RFC 9221): report every DATAGRAM and echo it back")
	flag.Parse()
	if o.certFile == "" || o.keyFile == "" {
		fail("-cert and -key are required")
	}
	if o.root == "" && !o.echo {
		fail("give -root DIR, -echo, or both")
	}
	if flag.NArg() > 0 {
		fail("unexpected arguments: %v", flag.Args())
	}
	return o
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "server: "+format+"\n", args...)
	os.Exit(2)
}

func tlsConfig(o *options) *tls.Config {
	conf, err := peerkit.ServerTLS(o.certFile, o.keyFile)
	if err != nil {
		fail("loading certificate: %v", err)
	}
	if o.root != "" {
		conf.NextProtos = append(conf.NextProtos, "hq-interop")
	}
	if o.echo {
		conf.NextProtos = append(conf.NextProtos, "echo")
	}
	if err := peerkit.ApplyTLSOptions(conf, o.chacha, o.keylog); err != nil {
		fail("%v", err)
	}
	if o.ticketKey != "" {
		key, err := hex.DecodeString(o.ticketKey)
		if err != nil || len(key) != 32 {
			fail("-ticket-key must be 64 hex digits")
		}
		var k [32]byte
		copy(k[:], key)
		conf.SetSessionTicketKeys([][32]byte{k})
	}
	if o.reject0RTT {
		// quic-go 0.29 has no Allow0RTT hook. qtls calls GetConfigForClient once per ClientHello, and a
		// config with its own ticket keys is used both to decrypt the offered ticket and to encrypt new
		// ones: with a fresh random key no ticket ever decrypts, so the server falls back to a full
		// handshake and the client's 0-RTT is rejected (RFC 8446 §4.2.10, RFC 9001 §4.6.2).
		base := conf.Clone()
		conf.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			var k [32]byte
			if _, err := rand.Read(k[:]); err != nil {
				return nil, err
			}
			c.SetSessionTicketKeys([][32]byte{k})
			return c, nil
		}
	}
	return conf
}

func quicConfig(o *options) *quic.Config {
	conf := &quic.Config{
		MaxIncomingStreams:             o.maxStreams,
		MaxIncomingUniStreams:          o.maxUniStreams,
		InitialStreamReceiveWindow:     o.streamWindow,
		MaxStreamReceiveWindow:         o.streamWindow,
		InitialConnectionReceiveWindow: o.connWindow,
		MaxConnectionReceiveWindow:     o.connWindow,
		MaxIdleTimeout:                 o.idleTimeout,
		Tracer:                         newTracer(o.frames),
		EnableDatagrams:                o.dgrams,
	}
	if o.retry {
		// RFC 9000 §8.1.2: a Retry makes the client prove it owns its address.
		conf.RequireAddressValidation = func(net.Addr) bool { return true }
	}
	return conf
}

// listener hides the difference between quic-go's Listener and EarlyListener.
type listener struct {
	accept func(context.Context) (quic.Connection, error)
	io.Closer
	addr net.Addr
}

func listen(o *options) *listener {
	tlsConf, quicConf := tlsConfig(o), quicConfig(o)
	if o.zeroRTT || o.reject0RTT {
		// Only an early listener enables 0-RTT in quic-go 0.29 (it also puts the transport parameters
		// into the tickets it issues, which the client needs to send 0-RTT: RFC 9000 §7.4.1).
		ln, err := quic.ListenAddrEarly(o.listen, tlsConf, quicConf)
		if err != nil {
			fail("listen: %v", err)
		}
		return &listener{
			accept: func(ctx context.Context) (quic.Connection, error) { return ln.Accept(ctx) },
			Closer: ln,
			addr:   ln.Addr(),
		}
	}
	ln, err := quic.ListenAddr(o.listen, tlsConf, quicConf)
	if err != nil {
		fail("listen: %v", err)
	}
	return &listener{accept: ln.Accept, Closer: ln, addr: ln.Addr()}
}

func main() {
	o := parseFlags()
	if o.keyUpdate > 0 {
		peerkit.SetKeyUpdateInterval(o.keyUpdate)
	}
	ln := listen(o)
	peerkit.WriteLine([]byte("LISTENING " + ln.addr.String() + "\n"))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if o.lifeline {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	go acceptLoop(ln, o)
	<-stop
	// Closing the listener closes every connection (CONNECTION_CLOSE with NO_ERROR).
	_ = ln.Close()
	os.Exit(0)
}

func acceptLoop(ln *listener, o *options) {
	for {
		conn, err := ln.accept(context.Background())
		if err != nil {
			fmt.Fprintf(os.Stderr, "server: accept: %v\n", err)
			return
		}
		go handleConn(conn, o)
	}
}

func handleConn(conn quic.Connection, o *options) {
	id := peerkit.ConnTracingID(conn.Context())
	go reportHandshake(id, conn)
	if o.dgrams {
		go echoDatagrams(id, conn)
	}
	go func() {
		for {
			str, err := conn.AcceptUniStream(context.Background())
			if err != nil {
				return
			}
			go drainUni(id, str)
		}
	}()
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go serveStream(id, conn, str, o)
	}
}

func serveStream(id uint64, conn quic.Connection, str quic.Stream, o *options) {
	echo := o.echo
	if o.echo && o.root != "" {
		// Both protocols offered: dispatch on the negotiated one. In quic-go 0.29 ConnectionState()
		// blocks until the handshake completes, so 0-RTT requests wait for it only in this mode.
		echo = conn.ConnectionState().TLS.NegotiatedProtocol == "echo"
	}
	if echo {
		echoStream(id, str)
	} else {
		serveHQ(id, str, o.root)
	}
}

// reportHandshake emits the conn event once the handshake has completed. An early connection is handed
// out before that; quic-go 0.29's HandshakeComplete() never fires if the handshake fails, so the
// connection's own context is watched too.
func reportHandshake(id uint64, conn quic.Connection) {
	if ec, ok := conn.(quic.EarlyConnection); ok {
		select {
		case <-ec.HandshakeComplete().Done():
		case <-conn.Context().Done():
			select {
			case <-ec.HandshakeComplete().Done():
			default:
				return
			}
		}
	}
	st := conn.ConnectionState().TLS
	peerkit.Emit("conn", "id", id, "remote", conn.RemoteAddr().String(), "alpn", st.NegotiatedProtocol,
		"used0RTT", st.Used0RTT, "resumed", st.DidResume, "cipher", tls.CipherSuiteName(st.CipherSuite))
}
