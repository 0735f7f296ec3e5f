package main

import (
	"crypto/tls"
	"time"
)

// ticketCache is a tls.ClientSessionCache that signals every ticket it stores, so that a connection is
// only closed once the server's NewSessionTicket (sent after the handshake, RFC 8446 §4.6.1) is in.
type ticketCache struct {
	tls.ClientSessionCache
	stored chan struct{}
}

func newTicketCache() *ticketCache {
	return &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(8), stored: make(chan struct{}, 64)}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs == nil {
		return
	}
	select {
	case c.stored <- struct{}{}:
	default:
	}
}

// forget drops earlier signals, before a new connection starts.
func (c *ticketCache) forget() {
	for {
		select {
		case <-c.stored:
		default:
			return
		}
	}
}

// wait returns false when no ticket arrives within the timeout.
func (c *ticketCache) wait(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.stored:
		return true
	case <-t.C:
		return false
	}
}
