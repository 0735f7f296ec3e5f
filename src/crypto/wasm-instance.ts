/**
 * Instantiation of tsquic's WebAssembly modules (src/crypto/wasm/, built by scripts/wasm/build.ts):
 * synchronous, from the base64 bytes compiled into the package, once per process.
 */

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: unknown };
}

/** An instantiated module: its exports (typed by the caller) and a view of its memory. */
export interface WasmInstance<E> {
  readonly exports: E;
  /** The module's memory, which never grows (each module declares a fixed size). */
  readonly memory: Uint8Array;
}

/**
 * The module of `base64`, or undefined where WebAssembly is not available (`node --jitless`) or
 * cannot compile it (a runtime without WebAssembly SIMD: V8 needs SSE4.1 on x64); the callers then
 * fall back to node:crypto.
 */
export function instantiateWasm<E extends { readonly memory: { readonly buffer: ArrayBuffer } }>(
  base64: string,
): WasmInstance<E> | undefined {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (api === undefined) return undefined;
  try {
    const exports = new api.Instance(new api.Module(Buffer.from(base64, 'base64'))).exports as E;
    return { exports, memory: new Uint8Array(exports.memory.buffer) };
  } catch {
    return undefined;
  }
}
