/**
 * Freezes an object and every plain object or array it holds, so that one instance can be shared
 * safely: a write anywhere inside throws a TypeError (ESM code is strict) instead of changing what
 * every holder sees. Typed arrays are left as they are (V8 cannot freeze non-empty ones; share only
 * empty ones).
 */
export function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) {
    if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !Object.isFrozen(v)) deepFreeze(v);
  }
  return Object.freeze(o);
}
