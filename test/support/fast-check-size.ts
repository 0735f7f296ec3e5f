/**
 * Loaded before every test file (scripts/run-tests.mjs): fast-check's arbitraries generate up to
 * about 1000 elements instead of its default ten or so, so that a `maxLength` of a few hundred is
 * reached (a 16-byte tag, a 64-byte block, a 512-byte limit; docs/testing.md).
 */
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: 'large' });
