// Command quicgo is the quic-go 0.29 peer of tsquic's real-UDP benchmark (bench/udp.ts). It speaks the
// benchmark's protocol (bench/peers/README.md): on every bidirectional stream the client sends its
// request and FIN, the server reads to the FIN and answers with the number of bytes it read, in
// decimal ASCII, and FIN. Unlike the interop peers in interop/, it installs no tracer and reports
// nothing per connection, so that only quic-go's own cost is measured.
//
//	quicgo server -cert FILE -key FILE [-listen 127.0.0.1:0]
//	quicgo client -addr HOST:PORT -ca FILE [-sni NAME] -mode upload|full|resumed|0rtt
//	              [-size BYTES] [-request BYTES] [-warmup D] [-duration D]
//
// The server prints "LISTENING host:port" and runs until its stdin closes. The client measures in
// its own process and prints one JSON object (see result below).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
)

const alpn = "tsquic-bench"

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "quicgo: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: quicgo server|client [flags]")
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}

// ------------------------------------------------------------------------------------------ server

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address")
	certFile := fs.String("cert", "", "certificate chain (PEM)")
	keyFile := fs.String("key", "", "private key (PEM)")
	_ = fs.Parse(args)
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fail("loading certificate: %v", err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}
	// An early listener: quic-go 0.29 issues 0-RTT tickets and accepts 0-RTT only on one.
	ln, err := quic.ListenAddrEarly(*listen, tlsConf, &quic.Config{})
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			go serveConn(conn)
		}
	}()
	// The parent keeps stdin open: when it goes away, so does the server.
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = ln.Close()
}

func serveConn(conn quic.Connection) {
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go func(str quic.Stream) {
			n, err := io.Copy(io.Discard, str)
			if err != nil {
				str.CancelWrite(1)
				return
			}
			_, _ = str.Write([]byte(strconv.FormatInt(n, 10)))
			_ = str.Close()
		}(str)
	}
}

// ------------------------------------------------------------------------------------------ client

type result struct {
	Mode       string  `json:"mode"`
	Count      int     `json:"count"`
	Seconds    float64 `json:"seconds"`
	Bytes      int64   `json:"bytes,omitempty"`
	Resumed    int     `json:"resumed"`
	Used0RTT   int     `json:"used0RTT"`
	Rejected   int     `json:"rejected0RTT"`
	Failed     int     `json:"failed"`
	Error      string  `json:"error,omitempty"`
	CPUSeconds float64 `json:"cpuSeconds"`
}

// ticketCache is a tls.ClientSessionCache that signals each stored ticket, so that a connection is
// closed only once the ticket for the next one is in (as the tsquic and Node clients do).
type ticketCache struct {
	tls.ClientSessionCache
	stored chan struct{}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.stored <- struct{}{}:
		default:
		}
	}
}

func (c *ticketCache) forget() {
	for {
		select {
		case <-c.stored:
		default:
			return
		}
	}
}

func (c *ticketCache) wait(ctx context.Context) error {
	select {
	case <-c.stored:
		return nil
	case <-ctx.Done():
		return errors.New("no session ticket arrived")
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	addr := fs.String("addr", "", "server HOST:PORT")
	caFile := fs.String("ca", "", "CA certificate (PEM)")
	sni := fs.String("sni", "localhost", "server name")
	mode := fs.String("mode", "full", "upload, full, resumed or 0rtt")
	size := fs.Int64("size", 200<<20, "upload: bytes")
	request := fs.Int("request", 32, "handshakes: request bytes")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "handshakes: time before measuring")
	duration := fs.Duration("duration", 3*time.Second, "handshakes: time measured")
	_ = fs.Parse(args)
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fail("reading CA: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fail("no certificate in %s", *caFile)
	}
	tlsConf := &tls.Config{RootCAs: roots, ServerName: *sni, NextProtos: []string{alpn}}
	var tickets *ticketCache
	if *mode == "resumed" || *mode == "0rtt" {
		tickets = &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(8), stored: make(chan struct{}, 8)}
		tlsConf.ClientSessionCache = tickets
	}
	c := &benchClient{addr: *addr, tlsConf: tlsConf, tickets: tickets}
	var r result
	switch *mode {
	case "upload":
		r, err = c.upload(*size)
	case "full", "resumed", "0rtt":
		r, err = c.handshakes(*mode, *request, *warmup, *duration)
	default:
		fail("unknown mode %q", *mode)
	}
	if err != nil {
		fail("%s: %v", *mode, err)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

type benchClient struct {
	addr    string
	tlsConf *tls.Config
	tickets *ticketCache
}

// connectionTimeout bounds one handshake connection; one that takes longer counts as failed.
const connectionTimeout = 10 * time.Second

// maxFailures: failed connections beyond which (and beyond a tenth of the successful ones) the
// measurement gives up.
const maxFailures = 10

// exchange sends data and FIN on a new stream and reads the server's answer: the byte count.
func exchange(ctx context.Context, conn quic.Connection, data []byte, total int64) error {
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = str.SetDeadline(deadline)
	}
	for written := int64(0); written < total; {
		n := int64(len(data))
		if total-written < n {
			n = total - written
		}
		if _, err := str.Write(data[:n]); err != nil {
			return err
		}
		written += n
	}
	if err := str.Close(); err != nil {
		return err
	}
	answer, err := io.ReadAll(str)
	if err != nil {
		return err
	}
	if string(answer) != strconv.FormatInt(total, 10) {
		return fmt.Errorf("sent %d bytes, the server counted %q", total, answer)
	}
	return nil
}

func (c *benchClient) upload(size int64) (result, error) {
	conn, err := quic.DialAddr(c.addr, c.tlsConf, &quic.Config{})
	if err != nil {
		return result{}, err
	}
	defer conn.CloseWithError(0, "")
	chunk := make([]byte, 64*1024)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	cpu := cpuSeconds()
	start := time.Now()
	if err := exchange(context.Background(), conn, chunk, size); err != nil {
		return result{}, err
	}
	return result{Mode: "upload", Count: 1, Seconds: time.Since(start).Seconds(), Bytes: size,
		CPUSeconds: cpuSeconds() - cpu}, nil
}

// one runs one connection: dial, one request and its answer, then (when resuming) wait for the next
// ticket, and close. It returns whether the session was resumed and whether 0-RTT was used/rejected.
func (c *benchClient) one(mode string, req []byte) (resumed, used, rejected bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectionTimeout)
	defer cancel()
	if c.tickets != nil {
		c.tickets.forget()
	}
	var conn quic.Connection
	var ec quic.EarlyConnection
	if mode == "0rtt" {
		ec, err = quic.DialAddrEarlyContext(ctx, c.addr, c.tlsConf, &quic.Config{})
		conn = ec
	} else {
		conn, err = quic.DialAddrContext(ctx, c.addr, c.tlsConf, &quic.Config{})
	}
	if err != nil {
		return
	}
	defer conn.CloseWithError(0, "")
	err = exchange(ctx, conn, req, int64(len(req)))
	if ec != nil {
		// quic-go 0.29: HandshakeComplete() never fires when the handshake fails; watch the context.
		select {
		case <-ec.HandshakeComplete().Done():
		case <-ec.Context().Done():
			select {
			case <-ec.HandshakeComplete().Done():
			default:
				return false, false, false, errors.New("the connection closed during the handshake")
			}
		}
	}
	st := conn.ConnectionState().TLS
	resumed, used = st.DidResume, st.Used0RTT
	if err != nil && ec != nil && !used {
		// 0-RTT rejected (RFC 9001 §4.6.2): repeat the request on the next connection.
		rejected = true
		err = exchange(ctx, ec.NextConnection(), req, int64(len(req)))
	}
	if err != nil {
		return
	}
	if c.tickets != nil {
		err = c.tickets.wait(ctx)
	}
	return
}

func (c *benchClient) handshakes(mode string, requestSize int, warmup, duration time.Duration) (result, error) {
	req := make([]byte, requestSize)
	for i := range req {
		req[i] = 'a' + byte(i%26)
	}
	if c.tickets != nil {
		// The first ticket comes from a full handshake.
		if _, _, _, err := c.one("full", req); err != nil {
			return result{}, err
		}
	}
	r := result{Mode: mode}
	measureFrom := time.Now().Add(warmup)
	var start time.Time
	var cpu float64
	for {
		now := time.Now()
		if start.IsZero() && !now.Before(measureFrom) {
			start, cpu = now, cpuSeconds()
		}
		if !start.IsZero() && now.Sub(start) >= duration {
			r.Seconds = now.Sub(start).Seconds()
			r.CPUSeconds = cpuSeconds() - cpu
			return r, nil
		}
		resumed, used, rejected, err := c.one(mode, req)
		if err != nil {
			r.Failed++
			if r.Error == "" {
				r.Error = err.Error()
			}
			if r.Failed > maxFailures && r.Failed*10 > r.Count {
				return result{}, fmt.Errorf("%d connections failed, the first: %s", r.Failed, r.Error)
			}
			continue
		}
		if !start.IsZero() {
			r.Count++
			if resumed {
				r.Resumed++
			}
			if used {
				r.Used0RTT++
			}
			if rejected {
				r.Rejected++
			}
		}
	}
}
