/** The simulator's HTTP/3 transport is the core adapter of src/http3 (also used by the 0-RTT auditor). */
export { CoreH3Transport } from '../../src/http3/core-transport.js';
