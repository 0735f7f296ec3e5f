// Command h3client is the quic-go 0.29 HTTP/3 client of tsquic's interop tests: it fetches the URLs
// given with an http3.RoundTripper and reports one JSON object per response on stdout:
// {"event":"response","url":...,"status":...,"bytes":...,"sha256":...,"proto":...,"run":N}.
// With -runs N it fetches them N times, each run on a new connection sharing one TLS session cache;
// with -0rtt runs after the first use GET_0RTT (the request goes in 0-RTT). quic-go 0.29's
// RoundTripper does not recover from a 0-RTT rejection by itself: on an error in a 0-RTT run the
// client reports {"event":"retry"} and fetches the URL again on a fresh connection with a plain GET.
package main

import (
	"../peerkit"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lucas-clemente/quic-go/http3"
)

var out = json.NewEncoder(os.Stdout)

func main() {
	caFile := flag.String("ca", "", "trusted CA, PEM")
	runs := flag.Int("runs", 1, "fetch the URLs this many times, one connection per run")
	zeroRTT := flag.Bool("0rtt", false, "runs after the first send GET_0RTT")
	keylog := flag.String("keylog", "", "append TLS secrets to FILE")
	post := flag.String("post", "", "POST this body instead of GET")
	flag.Parse()
	pool, err := peerkit.RootCAs(*caFile)
	if err != nil {
		peerkit.Fatal("h3client", "%v", err)
	}
	conf := &tls.Config{RootCAs: pool, ClientSessionCache: tls.NewLRUClientSessionCache(10)}
	if err := peerkit.ApplyTLSOptions(conf, false, *keylog); err != nil {
		peerkit.Fatal("h3client", "%v", err)
	}
	failed := false
	for run := 1; run <= *runs; run++ {
		rt := &http3.RoundTripper{TLSClientConfig: conf}
		for _, url := range flag.Args() {
			method := http.MethodGet
			if *zeroRTT && run > 1 {
				method = http3.MethodGet0RTT
			}
			if !fetch(rt, url, method, *post, run) {
				if method == http3.MethodGet0RTT {
					out.Encode(map[string]any{"event": "retry", "url": url, "run": run})
					rt.Close()
					rt = &http3.RoundTripper{TLSClientConfig: conf}
					if fetch(rt, url, http.MethodGet, *post, run) {
						continue
					}
				}
				failed = true
			}
		}
		// Let the session ticket arrive before the connection closes.
		time.Sleep(100 * time.Millisecond)
		rt.Close()
	}
	if failed {
		os.Exit(1)
	}
}

func fetch(rt *http3.RoundTripper, url, method, post string, run int) bool {
	var body io.Reader
	if post != "" {
		method = http.MethodPost
		body = strings.NewReader(post)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		out.Encode(map[string]any{"event": "error", "url": url, "error": err.Error(), "run": run})
		return false
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		out.Encode(map[string]any{"event": "error", "url": url, "error": err.Error(), "run": run})
		return false
	}
	h := sha256.New()
	n, err := io.Copy(h, res.Body)
	res.Body.Close()
	if err != nil {
		out.Encode(map[string]any{"event": "error", "url": url, "error": err.Error(), "run": run})
		return false
	}
	out.Encode(map[string]any{
		"event": "response", "url": url, "status": res.StatusCode, "bytes": n, "run": run,
		"sha256": hex.EncodeToString(h.Sum(nil)), "proto": res.Proto,
		"content_type": res.Header.Get("content-type"),
	})
	return true
}
