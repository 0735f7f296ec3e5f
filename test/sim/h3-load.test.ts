/**
 * Load and misbehaving clients in the simulator: 10,000 requests on one connection complete and
 * leave nothing behind; a client that never reads a response holds the server to its flow-control
 * window (bounded memory) while other requests on the same connection go on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3Sim, respondWith } from './h3-harness.js';

const SEED = Number(process.env.SIM_SEED ?? 0x10ad);

test('10,000 requests on one connection, 250 at a time: all complete, no state left', () => {
  const h = new H3Sim({
    seed: SEED,
    link: { delay: 5 },
    onRequest: respondWith((ex) => ({ body: Buffer.from(ex.head!.path!) })),
  });
  h.connect();
  let done = 0;
  for (let round = 0; round < 40; round++) {
    const batch = Array.from({ length: 250 }, (_, i) => h.request(`/${round}/${i}`));
    h.run(() => batch.every((r) => r.rec.ended || r.rec.error));
    for (const [i, r] of batch.entries()) {
      assert.equal(r.rec.error, undefined);
      assert.equal(r.rec.body.toString(), `/${round}/${i}`);
      done++;
    }
  }
  assert.equal(done, 10_000);
  assert.equal(h.session.activeRequests, 0);
  assert.equal(h.servers[0]!.session.activeRequests, 0);
  assert.equal(h.servers.length, 1, 'one connection');
  assert.equal(h.client!.isClosed, false);
});

test('a client that never reads: the server is held to the flow-control window; other requests go on', () => {
  const window = 256 * 1024;
  let written = 0;
  let blockedWrites = 0;
  const h = new H3Sim({
    seed: SEED + 1,
    link: { delay: 10 },
    onRequest: (ex) => {
      if (ex.head!.path === '/small') {
        respondWith(() => ({ body: Buffer.from('small') }))(ex);
        return;
      }
      const chunk = Buffer.alloc(16 * 1024, 1);
      const pump = () => {
        // An endless response that respects backpressure.
        while (written < 100 * 1024 * 1024) {
          written += chunk.length;
          if (!ex.write(chunk)) {
            blockedWrites++;
            return;
          }
        }
      };
      ex.deliverTo({
        onData() {},
        onTrailers() {},
        onEnd: () => {
          ex.respond(200, []);
          pump();
        },
        onAborted() {},
        onWritable: pump,
      });
    },
  });
  h.connect(undefined, { initialMaxStreamData: window, maxStreamReceiveWindow: window });
  const stuck = h.request('/endless');
  stuck.ex.setWantData(false);
  h.run(() => stuck.rec.head !== undefined);
  h.sim.net.runFor(5000);
  // Flow control: at most the stream window, plus what the send buffer holds, was produced.
  assert.ok(written <= window + 2 * 1024 * 1024, `${written} bytes written`);
  assert.ok(blockedWrites > 0, 'the server saw backpressure');
  const small = h.request('/small');
  h.run(() => small.rec.ended);
  assert.equal(small.rec.body.toString(), 'small');
  stuck.ex.cancel();
  h.run(() => h.servers[0]!.session.activeRequests === 0);
});
