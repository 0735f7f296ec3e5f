package peerkit

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"

	"github.com/lucas-clemente/quic-go"
)

// Fatal prints "<prog>: <message>" to stderr and exits with status 2 (a setup error).
func Fatal(prog string, format string, args ...any) {
	fmt.Fprintf(os.Stderr, prog+": "+format+"\n", args...)
	os.Exit(2)
}

// ApplyTLSOptions sets the flags every peer shares: only ChaCha20-Poly1305 (qtls, quic-go's TLS fork,
// honours CipherSuites for TLS 1.3, unlike crypto/tls) and a key log in the NSS format.
func ApplyTLSOptions(conf *tls.Config, chacha bool, keylog string) error {
	if chacha {
		conf.CipherSuites = []uint16{tls.TLS_CHACHA20_POLY1305_SHA256}
	}
	if keylog != "" {
		f, err := os.OpenFile(keylog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("opening key log: %w", err)
		}
		conf.KeyLogWriter = f
	}
	return nil
}

// ServerTLS loads a certificate chain and key (PEM files) into a server config offering `protos`.
func ServerTLS(certFile, keyFile string, protos ...string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos}, nil
}

// RootCAs reads the PEM certificates in caFile into a pool.
func RootCAs(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return pool, nil
}

// ListenEarly opens a UDP socket on `listen` and an early listener on it. quic-go 0.29 issues 0-RTT
// tickets and accepts 0-RTT only on an early listener, when the ticket allows it.
func ListenEarly(listen string, conf *tls.Config) (net.PacketConn, quic.EarlyListener, error) {
	udp, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, nil, err
	}
	ln, err := quic.ListenEarly(udp, conf, nil)
	if err != nil {
		_ = udp.Close()
		return nil, nil, err
	}
	return udp, ln, nil
}
