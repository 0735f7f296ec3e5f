/**
 * How often a closing connection answers the peer (RFC 9000 §10.2.1): "An endpoint in the closing
 * state sends a packet containing a CONNECTION_CLOSE frame in response to any incoming packet that it
 * attributes to the connection" and "SHOULD limit the rate at which it generates packets in the
 * closing state ... wait for a progressively increasing number of received packets".
 *
 * Here the 1st, 2nd, 4th, 8th, ... attributed datagram draws an answer: a peer that missed our close
 * learns it at once, and a peer (or a copy of its packets) that keeps sending gets log2(N) answers for
 * N datagrams, so the closing state can neither be used to amplify nor keep the endpoint busy sending.
 */
export class ClosingAnswers {
  private received = 0;
  private nextAnswerAt = 1;

  /** An attributed datagram arrived in the closing state: whether to answer it with CONNECTION_CLOSE. */
  onDatagram(): boolean {
    this.received++;
    if (this.received < this.nextAnswerAt) return false;
    this.nextAnswerAt *= 2;
    return true;
  }

  /** Datagrams attributed to the connection since it started closing (tests, diagnostics). */
  get datagramsReceived(): number {
    return this.received;
  }
}
