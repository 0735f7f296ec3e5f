// Command quicgo is the quic-go 0.29 peer of tsquic's real-UDP benchmark (bench/udp.ts). It speaks the
// benchmark's protocol (bench/peers/README.md): on every bidirectional stream the client sends its
// request and FIN, the server reads to the FIN and answers with the number of bytes it read, in
// decimal ASCII, and FIN. Unlike the interop peers in interop/, it installs no tracer and reports
// nothing per connection, so that only quic-go's own cost is measured.
//
//	quicgo server -cert FILE -key FILE [-listen 127.0.0.1:0] [-idle-timeout D]
//	quicgo client -addr HOST:PORT -ca FILE [-sni NAME] -mode upload|download|streams|full|resumed|0rtt
//	              [-size BYTES] [-streams N] [-request BYTES] [-warmup D] [-duration D] [-parallel N]
//	              [-warmup-bytes BYTES] [-warmup-connections N]
//	quicgo client -addr HOST:PORT -ca FILE -mode idle -count N [-parallel N] [-idle-timeout D]
//
// A request of the form "DOWNLOAD <n>" is answered with n bytes instead of the count (download).
// The server prints "LISTENING host:port", answers each "STATS" line on stdin with a line
// "STATS {json}" (heap after a GC, RSS, open connections) and runs until its stdin closes. The client
// measures in its own process and prints one JSON object (see result below); in idle mode it opens
// -count connections on one UDP socket, prints "OPEN n" and holds them until its stdin closes.
package main

import (
	"../../../interop/peerkit"
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	idle := fs.Duration("idle-timeout", 30*time.Second, "max idle timeout")
	_ = fs.Parse(args)
	tlsConf, err := peerkit.ServerTLS(*certFile, *keyFile, alpn)
	if err != nil {
		fail("loading certificate: %v", err)
	}
	// An early listener: quic-go 0.29 issues 0-RTT tickets and accepts 0-RTT only on one.
	ln, err := quic.ListenAddrEarly(*listen, tlsConf, &quic.Config{MaxIdleTimeout: *idle})
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	var open int64
	go func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			atomic.AddInt64(&open, 1)
			go func() {
				<-conn.Context().Done()
				atomic.AddInt64(&open, -1)
			}()
			go serveConn(conn)
		}
	}()
	// The parent keeps stdin open: when it goes away, so does the server.
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		if strings.TrimSpace(lines.Text()) == "STATS" {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			out, _ := json.Marshal(map[string]int64{"heapUsed": int64(m.HeapAlloc), "rss": rss(),
				"connections": atomic.LoadInt64(&open)})
			fmt.Printf("STATS %s\n", out)
		}
	}
	_ = ln.Close()
}

// rss is the resident set size of this process in bytes (/proc/self/statm, Linux).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

const downloadPrefix = "DOWNLOAD "

func serveConn(conn quic.Connection) {
	for {
		str, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go func(str quic.Stream) {
			// Keep the first 65 bytes: a short request may be a download request.
			head := &limitedBuffer{max: 65}
			n, err := io.Copy(io.MultiWriter(io.Discard, head), str)
			if err != nil {
				str.CancelWrite(1)
				return
			}
			if want, ok := parseDownload(head.b, n); ok {
				chunk := make([]byte, 64*1024)
				for i := range chunk {
					chunk[i] = byte(i * 7)
				}
				for left := want; left > 0; {
					k := int64(len(chunk))
					if left < k {
						k = left
					}
					if _, err := str.Write(chunk[:k]); err != nil {
						return
					}
					left -= k
				}
				_ = str.Close()
				return
			}
			_, _ = str.Write([]byte(strconv.FormatInt(n, 10)))
			_ = str.Close()
		}(str)
	}
}

type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		l.b = append(l.b, p[:room]...)
	}
	return len(p), nil
}

func parseDownload(head []byte, n int64) (int64, bool) {
	if n > 64 || !strings.HasPrefix(string(head), downloadPrefix) {
		return 0, false
	}
	want, err := strconv.ParseInt(string(head[len(downloadPrefix):]), 10, 64)
	return want, err == nil && want >= 0
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
	Parallel   int     `json:"parallel,omitempty"`
	TTFBMs     float64 `json:"ttfbMs,omitempty"`
	// Transfers: bytes of the unmeasured transfer done first (-warmup-bytes), if any, and the
	// connections they were split over, one after another (-warmup-connections).
	WarmupBytes       int64 `json:"warmupBytes,omitempty"`
	WarmupConnections int   `json:"warmupConnections,omitempty"`
	// Handshakes: every connection completed in the process's life (the first tickets' and the
	// warm-up's included), which the server's CPU over the whole run is divided by.
	Total int `json:"total,omitempty"`
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
	streams := fs.Int("streams", 10, "streams: concurrent streams")
	warmupBytes := fs.Int64("warmup-bytes", 0, "transfers: the same transfer of this many bytes first, unmeasured")
	warmupConns := fs.Int("warmup-connections", 1, "transfers: connections the warm-up bytes are split over")
	parallel := fs.Int("parallel", 1, "handshakes, idle: connections in flight at once")
	count := fs.Int("count", 1000, "idle: connections to open")
	idle := fs.Duration("idle-timeout", 30*time.Second, "max idle timeout")
	_ = fs.Parse(args)
	roots, err := peerkit.RootCAs(*caFile)
	if err != nil {
		fail("reading CA: %v", err)
	}
	tlsConf := &tls.Config{RootCAs: roots, ServerName: *sni, NextProtos: []string{alpn}}
	if *mode == "idle" {
		idleConnections(*addr, tlsConf, *count, *parallel, *idle)
		return
	}
	c := &benchClient{addr: *addr, tlsConf: tlsConf}
	var r result
	switch *mode {
	case "upload", "download", "streams":
		// A process that has run for a while: the same transfer first, over -warmup-connections
		// connections one after another (tsquic's peer does the same; Go has no JIT to warm).
		if *warmupConns < 1 {
			*warmupConns = 1
		}
		if *warmupBytes > 0 {
			for i := 0; i < *warmupConns; i++ {
				if _, err := c.transfer(*mode, *warmupBytes/int64(*warmupConns), *streams); err != nil {
					fail("%s warm-up: %v", *mode, err)
				}
			}
		}
		r, err = c.transfer(*mode, *size, *streams)
		if *warmupBytes > 0 {
			r.WarmupBytes = *warmupBytes
			r.WarmupConnections = *warmupConns
		}
	case "full", "resumed", "0rtt":
		r, err = handshakes(*addr, tlsConf, *mode, *request, *warmup, *duration, *parallel)
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
	tickets *peerkit.TicketCache
	// ttfb of the last connection of one(): dial to the first byte of the answer.
	ttfb time.Duration
}

// connectionTimeout bounds one handshake connection; one that takes longer counts as failed.
const connectionTimeout = 10 * time.Second

// maxFailures: failed connections beyond which (and beyond a tenth of the successful ones) the
// measurement gives up.
const maxFailures = 10

// exchange sends data and FIN on a new stream and reads the server's answer: the byte count.
func exchange(ctx context.Context, conn quic.Connection, data []byte, total int64) error {
	return exchangeTimed(ctx, conn, data, total, nil)
}

// firstByteReader calls at once when the first byte has been read.
type firstByteReader struct {
	r    io.Reader
	at   func()
	seen bool
}

func (f *firstByteReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.seen {
		f.seen = true
		if f.at != nil {
			f.at()
		}
	}
	return n, err
}

func exchangeTimed(ctx context.Context, conn quic.Connection, data []byte, total int64, firstByte func()) error {
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
	answer, err := io.ReadAll(&firstByteReader{r: str, at: firstByte})
	if err != nil {
		return err
	}
	if string(answer) != strconv.FormatInt(total, 10) {
		return fmt.Errorf("sent %d bytes, the server counted %q", total, answer)
	}
	return nil
}

// transfer runs one upload, download or streams transfer of size bytes on a new connection.
func (c *benchClient) transfer(mode string, size int64, streams int) (result, error) {
	switch mode {
	case "upload":
		return c.upload(size)
	case "download":
		return c.download(size)
	default:
		return c.streams(size, streams)
	}
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

func (c *benchClient) download(size int64) (result, error) {
	conn, err := quic.DialAddr(c.addr, c.tlsConf, &quic.Config{})
	if err != nil {
		return result{}, err
	}
	defer conn.CloseWithError(0, "")
	cpu := cpuSeconds()
	start := time.Now()
	str, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return result{}, err
	}
	if _, err := str.Write([]byte(downloadPrefix + strconv.FormatInt(size, 10))); err != nil {
		return result{}, err
	}
	if err := str.Close(); err != nil {
		return result{}, err
	}
	n, err := io.Copy(io.Discard, str)
	if err != nil {
		return result{}, err
	}
	if n != size {
		return result{}, fmt.Errorf("asked for %d bytes, received %d", size, n)
	}
	return result{Mode: "download", Count: 1, Seconds: time.Since(start).Seconds(), Bytes: size,
		CPUSeconds: cpuSeconds() - cpu}, nil
}

func (c *benchClient) streams(size int64, n int) (result, error) {
	if n < 1 {
		n = 1
	}
	conn, err := quic.DialAddr(c.addr, c.tlsConf, &quic.Config{})
	if err != nil {
		return result{}, err
	}
	defer conn.CloseWithError(0, "")
	chunk := make([]byte, 64*1024)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	each := size / int64(n)
	cpu := cpuSeconds()
	start := time.Now()
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { errs <- exchange(context.Background(), conn, chunk, each) }()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			return result{}, err
		}
	}
	return result{Mode: "streams", Count: 1, Seconds: time.Since(start).Seconds(), Bytes: each * int64(n),
		CPUSeconds: cpuSeconds() - cpu}, nil
}

// idleConnections opens count connections on one UDP socket, parallel at a time, prints "OPEN n" and
// holds them until stdin closes.
func idleConnections(addr string, tlsConf *tls.Config, count, parallel int, idle time.Duration) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		fail("resolve: %v", err)
	}
	pconn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fail("listen: %v", err)
	}
	if parallel < 1 {
		parallel = 1
	}
	conns := make([]quic.Connection, 0, count)
	var mu sync.Mutex
	var failed int64
	var firstErr atomic.Value
	next := int64(-1)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) < int64(count) {
				ctx, cancel := context.WithTimeout(context.Background(), connectionTimeout)
				conn, err := quic.DialContext(ctx, pconn, raddr, "localhost", tlsConf, &quic.Config{MaxIdleTimeout: idle})
				cancel()
				if err != nil {
					atomic.AddInt64(&failed, 1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	why, _ := firstErr.Load().(string)
	fmt.Printf("OPEN %d %d %q\n", len(conns), failed, why)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.CloseWithError(0, "")
	}
}

// one runs one connection: dial, one request and its answer, then (when resuming) wait for the next
// ticket, and close. It returns whether the session was resumed and whether 0-RTT was used/rejected.
func (c *benchClient) one(mode string, req []byte) (resumed, used, rejected bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectionTimeout)
	defer cancel()
	if c.tickets != nil {
		c.tickets.Forget()
	}
	var conn quic.Connection
	var ec quic.EarlyConnection
	start := time.Now()
	c.ttfb = 0
	firstByte := func() {
		if c.ttfb == 0 {
			c.ttfb = time.Since(start)
		}
	}
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
	err = exchangeTimed(ctx, conn, req, int64(len(req)), firstByte)
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
		err = exchangeTimed(ctx, ec.NextConnection(), req, int64(len(req)), firstByte)
	}
	if err != nil {
		return
	}
	if c.tickets != nil {
		err = c.tickets.Wait(ctx)
	}
	return
}

// handshakes runs connections back to back for duration (after warmup), parallel loops at once,
// each with its own client (and session cache: tickets are single-use).
func handshakes(addr string, base *tls.Config, mode string, requestSize int, warmup, duration time.Duration, parallel int) (result, error) {
	if parallel < 1 {
		parallel = 1
	}
	req := make([]byte, requestSize)
	for i := range req {
		req[i] = 'a' + byte(i%26)
	}
	clients := make([]*benchClient, parallel)
	for w := range clients {
		conf := base.Clone()
		c := &benchClient{addr: addr, tlsConf: conf}
		if mode == "resumed" || mode == "0rtt" {
			c.tickets = peerkit.NewTicketCache(8)
			conf.ClientSessionCache = c.tickets
			// The first ticket comes from a full handshake.
			if _, _, _, err := c.one("full", req); err != nil {
				return result{}, err
			}
		}
		clients[w] = c
	}
	r := result{Mode: mode, Parallel: parallel}
	if mode == "resumed" || mode == "0rtt" {
		r.Total = parallel
	}
	var mu sync.Mutex
	var ttfbs []float64
	measureFrom := time.Now().Add(warmup)
	var start, end time.Time
	var cpu float64
	var fatal error
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *benchClient) {
			defer wg.Done()
			for {
				mu.Lock()
				now := time.Now()
				if start.IsZero() && !now.Before(measureFrom) {
					start, cpu = now, cpuSeconds()
				}
				if fatal != nil || (!start.IsZero() && now.Sub(start) >= duration) {
					if fatal == nil && end.IsZero() {
						end = now
						r.Seconds = now.Sub(start).Seconds()
						r.CPUSeconds = cpuSeconds() - cpu
					}
					mu.Unlock()
					return
				}
				mu.Unlock()
				resumed, used, rejected, err := c.one(mode, req)
				mu.Lock()
				if err != nil {
					r.Failed++
					if r.Error == "" {
						r.Error = err.Error()
					}
					if r.Failed > maxFailures && r.Failed*10 > r.Count {
						fatal = fmt.Errorf("%d connections failed, the first: %s", r.Failed, r.Error)
					}
				} else {
					r.Total++
				}
				if err == nil && !start.IsZero() && end.IsZero() {
					// Counted when it completed inside the measured time.
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
					if c.ttfb > 0 {
						ttfbs = append(ttfbs, float64(c.ttfb)/float64(time.Millisecond))
					}
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	if fatal != nil {
		return result{}, fatal
	}
	if len(ttfbs) > 0 {
		sort.Float64s(ttfbs)
		mid := len(ttfbs) / 2
		if len(ttfbs)%2 == 1 {
			r.TTFBMs = ttfbs[mid]
		} else {
			r.TTFBMs = (ttfbs[mid-1] + ttfbs[mid]) / 2
		}
	}
	return r, nil
}
