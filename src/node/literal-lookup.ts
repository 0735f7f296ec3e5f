/**
 * The `lookup` of the I/O loop's UDP sockets: an IP literal resolves to itself at once.
 *
 * `dgram.Socket.send(data, port, address)` on an unconnected socket (every server socket) resolves
 * `address` through its `lookup`, and Node's default (`dns.lookup`) answers even an IP literal from
 * `process.nextTick`: the `sendmsg` then waits for every tick queued before it. A flush queues many
 * (stream 'finish', 'end' and 'close' events of the requests it answered, the handlers' own ticks),
 * so each answer left only after all of them had run. Every address the endpoint sends to is a
 * literal (it is where a datagram came from), so answering it synchronously sends the datagram
 * inside `socket.send()`, as a connected socket (dial()) always did.
 *
 * Until `ready()` is called everything goes to `dns.lookup`: `bind()` looks its host up too, and
 * its asynchronous 'listening' / 'error' timing stays Node's.
 */
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export interface LiteralLookup {
  lookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void;
  /** From now on literals are answered synchronously (call once the socket is bound). */
  ready(): void;
}

export function literalLookup(): LiteralLookup {
  let sync = false;
  return {
    lookup(hostname, options, callback) {
      if (sync) {
        const family = isIP(hostname);
        if (family !== 0) {
          callback(null, hostname, family);
          return;
        }
      }
      dnsLookup(hostname, options, callback);
    },
    ready() {
      sync = true;
    },
  };
}
