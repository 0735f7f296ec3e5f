/**
 * The help of `tsquic audit-0rtt`, apart from the command itself so that `tsquic --help` and the
 * other commands do not load the auditor.
 */
export const AUDIT_HELP = `Usage: tsquic audit-0rtt server --listen HOST:PORT --cert FILE --key FILE [options]
       tsquic audit-0rtt client URL [options]

Checks how another QUIC stack handles a rejected 0-RTT attempt (docs/audit-0rtt.md).

server: audit the clients that connect. Each client's first connection gets a session ticket that
  allows 0-RTT; its next connection's 0-RTT is rejected on purpose, with smaller limits than the
  ticket remembered, and everything the client sends afterwards is checked against what the dead
  attempt held (the auditor decrypts the rejected 0-RTT packets with the ticket it issued).
  --listen HOST:PORT   address to bind (port 0: a free port)
  --cert FILE, --key FILE
                       PEM certificate chain and private key
  --alpn LIST          ALPN protocols, comma-separated (default: hq-interop,echo). hq-interop serves
                       files, h3 answers GET and HEAD over HTTP/3 (200 with a file); any other ALPN
                       echoes each bidirectional stream
  --root DIR           hq-interop, h3: serve files from DIR (default: a built-in 4 KiB file for any path)
  --keep-limits        the rejected connection keeps the remembered limits (check 3 not exercised)
  --clients N          clients to audit before reporting (default 1)
  --timeout SECONDS    report what was seen after this long (default: wait for the clients)
  --linger MS          after a client's connections end, wait this long for more (default 500)

client: audit the server at URL (https://HOST:PORT/PATH). Earns a ticket, then checks that an accepted
  0-RTT attempt keeps the remembered limits, that a rejected one's request is not answered, that a
  replayed first flight is not processed twice, that 0-RTT packets ahead of their Initial do no harm,
  and that an expired ticket is not accepted for 0-RTT.
  --alpn PROTO         ALPN to offer (default: hq-interop, which fetches PATH; others: an echo)
  --ca FILE            trust the CA certificates in FILE (default: Node's root store)
  --insecure           skip certificate verification
  --replay-delay MS    how long after the original connection the replay goes out (default 6000)
  --max-ticket-wait S  wait out ticket lifetimes up to S seconds for the expiry check (default 10)
  --timeout SECONDS    give up after this long (default 120)

Common options:
  --json               print the report as JSON
  --trace FILE         write what was recorded (JSON) to FILE, e.g. to replay it into the checks
  -h, --help           show this help

Prints "listening on HOST:PORT" (server mode) and progress on stderr, the report on stdout. Exit
status: 0 if no exercised check failed, 1 if one did (or on an error), 2 on a usage error.
`;
