// Command client is the quic-go 0.29 peer of tsquic's interop tests. It fetches URLs over HTTP/0.9
// (ALPN hq-interop) or echoes bytes (ALPN echo), on one or several sequential connections, optionally
// resuming or sending its requests as 0-RTT, and reports each step as one JSON object per line on
// stdout (see README.md). It exits 0 only when everything arrived whole.
package main

import (
	"../peerkit"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go"
)

type options struct {
	caFile, keylog, output, echo, alpn, sni, nextAddr string
	insecure, zeroRTT, resume, chacha                 bool
	n, streams, dgrams, dgramSize                     int
	cancel, cancelRejected                            int64
	keyUpdate                                         uint64
	timeout                                           time.Duration
}

func parseFlags() *options {
	o := &options{}
	flag.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate")
	flag.StringVar(&o.caFile, "ca", "", "trust the CA certificates in FILE (PEM)")
	flag.StringVar(&o.keylog, "keylog", "", "append TLS secrets to FILE (NSS key log format)")
	flag.StringVar(&o.output, "output", "", "write fetched files under DIR (default: only count and hash them)")
	flag.IntVar(&o.n, "n", 1, "connections, one after the other, each doing the whole job")
	flag.BoolVar(&o.zeroRTT, "0rtt", false, "connections after the first send their requests as 0-RTT")
	flag.BoolVar(&o.resume, "resume", false, "connections after the first resume (without 0-RTT)")
	flag.StringVar(&o.echo, "echo", "", "echo mode (ALPN echo): SIZE bytes (suffix k or m for KiB, MiB) or 0xHEX")
	flag.IntVar(&o.streams, "streams", 1, "echo mode: concurrent echo streams")
	flag.StringVar(&o.alpn, "alpn", "", "ALPN protocols, comma-separated (default hq-interop, or echo with -echo)")
	flag.StringVar(&o.sni, "sni", "", "server name (default: the URL's host)")
	flag.StringVar(&o.nextAddr, "next-addr", "", "connections after the first go to HOST:PORT (e.g. a second server sharing the ticket key)")
	flag.Int64Var(&o.cancel, "cancel", -1, "first cancel a stream in both directions with CODE (RESET_STREAM + STOP_SENDING)")
	flag.Int64Var(&o.cancelRejected, "cancel-rejected", -1, "cancel each stream that fails with Err0RTTRejected in both directions with CODE, as deferred cancels do (quic-go #4706)")
	flag.BoolVar(&o.chacha, "chacha", false, "offer only TLS_CHACHA20_POLY1305_SHA256")
	flag.Uint64Var(&o.keyUpdate, "key-update", 0, "initiate a 1-RTT key update every N packets (0: quic-go default)")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "give up (exit 3) after this long")
	flag.IntVar(&o.dgrams, "datagrams", 0, "first send N DATAGRAMs (RFC 9221, EnableDatagrams) and wait for them to come back")
	flag.IntVar(&o.dgramSize, "datagram-size", 100, "payload size of each DATAGRAM (at least 4)")
	flag.Parse()
	if flag.NArg() == 0 {
		fail("give at least one URL https://host:port/path (flags go before the URLs)")
	}
	if (o.zeroRTT || o.resume) && o.n < 2 {
		o.n = 2
	}
	return o
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "client: "+format+"\n", args...)
	os.Exit(2)
}

// target returns the host:port all URLs share and their paths.
func target(args []string) (string, []string) {
	var addr string
	var paths []string
	for _, arg := range args {
		u, err := url.Parse(arg)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			fail("not an https URL: %q", arg)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "443")
		}
		if addr != "" && host != addr {
			fail("all URLs must name the same server (%s, %s)", addr, host)
		}
		addr = host
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		paths = append(paths, p)
	}
	return addr, paths
}

// echoPayload parses -echo: "0x..." is the data itself, anything else a size with an optional k or m
// suffix, filled with a deterministic pattern (xorshift, so that no short period hides reordering).
func echoPayload(spec string) []byte {
	if strings.HasPrefix(spec, "0x") {
		data, err := hex.DecodeString(spec[2:])
		if err != nil {
			fail("-echo: bad hex: %v", err)
		}
		return data
	}
	mult := 1
	switch {
	case strings.HasSuffix(strings.ToLower(spec), "k"):
		mult, spec = 1024, spec[:len(spec)-1]
	case strings.HasSuffix(strings.ToLower(spec), "m"):
		mult, spec = 1024*1024, spec[:len(spec)-1]
	}
	size, err := strconv.Atoi(spec)
	if err != nil || size < 0 {
		fail("-echo: want a size or 0xHEX, got %q", spec)
	}
	data := make([]byte, size*mult)
	x := uint32(0x9e3779b9)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}

func tlsConfig(o *options) *tls.Config {
	conf := &tls.Config{InsecureSkipVerify: o.insecure, ServerName: o.sni}
	switch {
	case o.alpn != "":
		conf.NextProtos = strings.Split(o.alpn, ",")
	case o.echo != "":
		conf.NextProtos = []string{"echo"}
	default:
		conf.NextProtos = []string{"hq-interop"}
	}
	if o.caFile != "" {
		pool, err := peerkit.RootCAs(o.caFile)
		if err != nil {
			fail("reading CA: %v", err)
		}
		conf.RootCAs = pool
	}
	if err := peerkit.ApplyTLSOptions(conf, o.chacha, o.keylog); err != nil {
		fail("%v", err)
	}
	return conf
}

func main() {
	o := parseFlags()
	time.AfterFunc(o.timeout, func() {
		peerkit.Emit("error", "error", fmt.Sprintf("timed out after %s", o.timeout))
		os.Exit(3)
	})
	if o.keyUpdate > 0 {
		peerkit.SetKeyUpdateInterval(o.keyUpdate)
	}
	addr, paths := target(flag.Args())
	c := &client{addr: addr, tlsConf: tlsConfig(o), tracer: newTracer(), o: o}
	if c.tlsConf.ServerName == "" {
		// One server name for every connection, also with -next-addr: it is the session cache's key.
		c.tlsConf.ServerName, _, _ = net.SplitHostPort(addr)
	}
	c.quicConf = &quic.Config{Tracer: c.tracer, EnableDatagrams: o.dgrams > 0}
	if o.zeroRTT || o.resume {
		c.tickets = peerkit.NewTicketCache(8)
		c.tlsConf.ClientSessionCache = c.tickets
	}
	c.job = &job{paths: paths, outputDir: o.output, echoCount: o.streams, cancelCode: o.cancel,
		cancelRejectedCode: o.cancelRejected, tracer: c.tracer, ackTimeout: 10 * time.Second,
		datagrams: o.dgrams, datagramSize: o.dgramSize}
	if o.echo != "" {
		c.job.echoData = echoPayload(o.echo)
	}
	for i := 0; i < o.n; i++ {
		if err := c.connection(i); err != nil {
			peerkit.Emit("error", "connection", i, "error", err.Error())
			os.Exit(1)
		}
	}
}

type client struct {
	addr     string
	tlsConf  *tls.Config
	quicConf *quic.Config
	tracer   *tracer
	tickets  *peerkit.TicketCache // nil unless resuming
	job      *job
	o        *options
}

// connection runs connection number i: a full handshake for the first, then resumed or 0-RTT ones.
func (c *client) connection(i int) error {
	early := c.o.zeroRTT && i > 0
	if c.tickets != nil {
		c.tickets.Forget()
	}
	addr := c.addr
	if i > 0 && c.o.nextAddr != "" {
		addr = c.o.nextAddr
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.timeout)
	defer cancel()
	var conn quic.Connection
	var ec quic.EarlyConnection
	var err error
	if early {
		// DialAddrEarly returns as soon as the ClientHello is out when the ticket allows 0-RTT
		// (RFC 9001 §4.6.1), otherwise after the handshake.
		ec, err = quic.DialAddrEarlyContext(ctx, addr, c.tlsConf, c.quicConf)
		conn = ec
	} else {
		conn, err = quic.DialAddrContext(ctx, addr, c.tlsConf, c.quicConf)
	}
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.CloseWithError(0, "")

	var workErr error
	attempted := false
	if early {
		ct := c.tracer.of(conn)
		attempted = ct != nil && ct.has0RTTKeys()
		done := make(chan error, 1)
		go func() { done <- c.job.run(conn) }()
		if err := waitHandshake(ec); err != nil {
			return err
		}
		c.reportConn(i, conn, attempted)
		workErr = <-done
	} else {
		c.reportConn(i, conn, false)
		workErr = c.job.run(conn)
	}
	if workErr != nil && attempted && !conn.ConnectionState().TLS.Used0RTT {
		// 0-RTT rejected (RFC 9001 §4.6.2): every stream of the attempt failed with Err0RTTRejected.
		// quic-go 0.29's NextConnection() is the same connection with fresh stream maps; it blocks
		// until the handshake completes, which it already has here.
		peerkit.Emit("retry-after-0rtt-rejection", "connection", i, "error", workErr.Error())
		next, err := nextConnection(ec)
		if err != nil {
			return err
		}
		workErr = c.job.run(next)
	}
	if workErr != nil {
		return workErr
	}
	if err := c.waitHandshakeDone(conn); err != nil {
		return err
	}
	if c.tickets != nil && i < c.o.n-1 && !c.tickets.WaitFor(10*time.Second) {
		return errors.New("no session ticket arrived within 10s")
	}
	return nil
}

func (c *client) reportConn(i int, conn quic.Connection, attempted bool) {
	st := conn.ConnectionState().TLS
	peerkit.Emit("conn", "index", i, "id", peerkit.ConnTracingID(conn.Context()), "used0RTT", st.Used0RTT,
		"resumed", st.DidResume, "early", attempted, "rejected0RTT", attempted && !st.Used0RTT,
		"alpn", st.NegotiatedProtocol, "cipher", tls.CipherSuiteName(st.CipherSuite))
}

// waitHandshakeDone waits for the server's HANDSHAKE_DONE before the connection may be closed. In
// quic-go 0.29 a server completes its handshake asynchronously: a client that closes right after a
// 0-RTT exchange could otherwise close a connection whose server side never reports completion.
func (c *client) waitHandshakeDone(conn quic.Connection) error {
	ct := c.tracer.of(conn)
	if ct == nil {
		return errors.New("no tracer for the connection")
	}
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-ct.handshakeDone:
		return nil
	case <-conn.Context().Done():
		return errors.New("the connection closed before the server's HANDSHAKE_DONE arrived")
	case <-t.C:
		return errors.New("no HANDSHAKE_DONE from the server within 10s (RFC 9000 §19.20)")
	}
}

// waitHandshake waits for the handshake to complete. quic-go 0.29's HandshakeComplete() never fires
// when the handshake fails, so the connection's context is watched as well.
func waitHandshake(ec quic.EarlyConnection) error {
	select {
	case <-ec.HandshakeComplete().Done():
		return nil
	case <-ec.Context().Done():
		select {
		case <-ec.HandshakeComplete().Done():
			return nil
		default:
			return errors.New("the connection closed during the handshake")
		}
	}
}

// nextConnection calls NextConnection() without risking quic-go 0.29's endless block on a failed
// handshake.
func nextConnection(ec quic.EarlyConnection) (quic.Connection, error) {
	ch := make(chan quic.Connection, 1)
	go func() { ch <- ec.NextConnection() }()
	select {
	case next := <-ch:
		return next, nil
	case <-ec.Context().Done():
		return nil, errors.New("the connection closed before NextConnection() returned")
	}
}
