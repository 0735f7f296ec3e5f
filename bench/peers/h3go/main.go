// Command h3go is the HTTP/3 load client of bench/http3.ts (quic-go 0.29's http3.RoundTripper, one
// connection): "rps" runs -concurrency goroutines each sending GETs back to back for -duration and
// prints {"requests":N,"seconds":S}; "download" fetches one URL and prints {"bytes":N,"seconds":S}.
package main

import (
	"../../../interop/peerkit"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lucas-clemente/quic-go/http3"
)

func main() {
	mode := flag.String("mode", "rps", "rps or download")
	caFile := flag.String("ca", "", "trusted CA, PEM")
	concurrency := flag.Int("concurrency", 1, "requests in flight (rps)")
	duration := flag.Duration("duration", 3*time.Second, "measured time (rps)")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "unmeasured time before (rps)")
	keylog := flag.String("keylog", "", "append TLS secrets to this file (NSS key log format, for tshark)")
	flag.Parse()
	url := flag.Arg(0)
	pool, err := peerkit.RootCAs(*caFile)
	if err != nil {
		peerkit.Fatal("h3go", "%v", err)
	}
	tlsConf := &tls.Config{RootCAs: pool}
	if err := peerkit.ApplyTLSOptions(tlsConf, false, *keylog); err != nil {
		peerkit.Fatal("h3go", "%v", err)
	}
	rt := &http3.RoundTripper{TLSClientConfig: tlsConf}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	get := func() (int64, error) {
		res, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return n, fmt.Errorf("status %d", res.StatusCode)
		}
		return n, err
	}
	if *mode == "download" {
		if _, err := get(); err != nil { // connection set up, not measured
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		start := time.Now()
		n, err := get()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"bytes": n, "seconds": time.Since(start).Seconds()})
		return
	}
	var count int64
	var measuring atomic.Bool
	var failed atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := get(); err != nil {
					failed.Store(err.Error())
					return
				}
				if measuring.Load() {
					atomic.AddInt64(&count, 1)
				}
			}
		}()
	}
	time.Sleep(*warmup)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(*duration)
	measuring.Store(false)
	seconds := time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	if f := failed.Load(); f != nil {
		fmt.Fprintln(os.Stderr, f)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"requests": atomic.LoadInt64(&count), "seconds": seconds})
}
