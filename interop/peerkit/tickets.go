package peerkit

import (
	"context"
	"crypto/tls"
	"errors"
	"time"
)

// TicketCache is a tls.ClientSessionCache that signals every ticket it stores, so that a connection is
// closed only after the server's ticket has arrived (the next connection can then resume).
type TicketCache struct {
	tls.ClientSessionCache
	stored chan struct{}
}

// NewTicketCache returns an LRU cache of `size` sessions.
func NewTicketCache(size int) *TicketCache {
	return &TicketCache{ClientSessionCache: tls.NewLRUClientSessionCache(size), stored: make(chan struct{}, 64)}
}

// Put stores the session and signals it.
func (c *TicketCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs == nil {
		return
	}
	select {
	case c.stored <- struct{}{}:
	default:
	}
}

// Forget drops earlier signals, before a new connection starts.
func (c *TicketCache) Forget() {
	for {
		select {
		case <-c.stored:
		default:
			return
		}
	}
}

// Wait returns once a ticket has been stored since the last Forget, or an error when ctx ends first.
func (c *TicketCache) Wait(ctx context.Context) error {
	select {
	case <-c.stored:
		return nil
	case <-ctx.Done():
		return errors.New("no session ticket arrived")
	}
}

// WaitFor is Wait with a timeout; false when no ticket arrived in time.
func (c *TicketCache) WaitFor(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Wait(ctx) == nil
}
