/**
 * Errors for bad arguments and options, shaped like Node's own (`node:net`, `node:dgram`): a
 * TypeError or RangeError whose `code` is one of Node's codes, so `err.code` branching works the same
 * way across Node and tsquic. docs/errors.md lists them.
 */

/** A TypeError or RangeError with Node's `code`. */
export type CodedError<E extends Error = Error> = E & { readonly code: string };

function withCode<E extends Error>(err: E, code: string): CodedError<E> {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: false });
  return err as CodedError<E>;
}

/** How a received value is shown in a message (Node shows the type and a short form). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
    if (Array.isArray(value)) return 'an array';
    return `an instance of ${value.constructor?.name ?? 'Object'}`;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  return `type ${typeof value} (${shown})`;
}

/** ERR_INVALID_ARG_TYPE: `name` has the wrong type. */
export function invalidArgType(name: string, expected: string, value: unknown): CodedError<TypeError> {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describeValue(value)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

/** ERR_INVALID_ARG_VALUE: `name` has the right type but a value that is not allowed. */
export function invalidArgValue(name: string, value: unknown, reason: string): CodedError<TypeError> {
  return withCode(
    new TypeError(`The "${name}" argument ${reason}. Received ${describeValue(value)}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

/** ERR_OUT_OF_RANGE: a number outside its range. */
export function outOfRange(name: string, range: string, value: unknown): CodedError<RangeError> {
  return withCode(
    new RangeError(
      `The value of "${name}" is out of range. It must be ${range}. Received ${describeValue(value)}`,
    ),
    'ERR_OUT_OF_RANGE',
  );
}
