/**
 * Time in the sans-IO core: milliseconds since the Unix epoch, as a (possibly fractional) number.
 *
 * It is always passed in as an argument (`now`); nothing in the core reads a clock. Using epoch-based
 * milliseconds lets the same value serve RTT measurement, timers, ticket ages and certificate validity.
 * The Node shell passes `performance.timeOrigin + performance.now()`; the simulator a virtual clock.
 */
export type Millis = number;
