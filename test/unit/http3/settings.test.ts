import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ErrorCode } from '../../../src/http3/error-codes.js';
import { H3ProtocolError } from '../../../src/http3/h3-protocol-error.js';
import {
  DEFAULT_SETTINGS,
  decodeRememberedSettings,
  encodeRememberedSettings,
  incompatibleWithRemembered,
  SettingId,
  settingsEntries,
  settingsFromEntries,
} from '../../../src/http3/settings.js';

function expectSettingsError(entries: Array<{ id: number; value: number }>) {
  assert.throws(
    () => settingsFromEntries(entries),
    (e: unknown) =>
      e instanceof H3ProtocolError &&
      e.errorCode === H3ErrorCode.H3_SETTINGS_ERROR &&
      e.scope === 'connection',
  );
}

test('known settings are read, unknown and GREASE ones ignored', () => {
  const s = settingsFromEntries([
    { id: SettingId.QpackMaxTableCapacity, value: 4096 },
    { id: SettingId.QpackBlockedStreams, value: 16 },
    { id: SettingId.MaxFieldSectionSize, value: 65536 },
    { id: SettingId.EnableConnectProtocol, value: 1 },
    { id: SettingId.H3Datagram, value: 1 },
    { id: 0x21 + 0x1f * 7, value: 99 },
    { id: 0x4242, value: 5 },
  ]);
  assert.deepEqual(s, {
    qpackMaxTableCapacity: 4096,
    qpackBlockedStreams: 16,
    maxFieldSectionSize: 65536,
    enableConnectProtocol: true,
    h3Datagram: true,
  });
  assert.deepEqual(settingsFromEntries([]), DEFAULT_SETTINGS);
  assert.equal(DEFAULT_SETTINGS.maxFieldSectionSize, Number.POSITIVE_INFINITY);
});

test('H3_SETTINGS_ERROR: duplicates, HTTP/2 settings, non-boolean booleans (RFC 9114 §7.2.4.1)', () => {
  expectSettingsError([
    { id: 1, value: 1 },
    { id: 1, value: 1 },
  ]);
  for (const id of [2, 3, 4, 5]) expectSettingsError([{ id, value: 0 }]);
  expectSettingsError([{ id: SettingId.EnableConnectProtocol, value: 2 }]);
  expectSettingsError([{ id: SettingId.H3Datagram, value: 7 }]);
});

test('only non-default values are announced, and they read back the same', () => {
  assert.deepEqual(settingsEntries(DEFAULT_SETTINGS), []);
  const s = {
    ...DEFAULT_SETTINGS,
    qpackMaxTableCapacity: 4096,
    qpackBlockedStreams: 100,
    enableConnectProtocol: true,
  };
  assert.deepEqual(settingsFromEntries(settingsEntries(s)), s);
  assert.deepEqual(decodeRememberedSettings(encodeRememberedSettings(s)), s);
  assert.deepEqual(decodeRememberedSettings(new Uint8Array(0)), DEFAULT_SETTINGS);
  assert.equal(decodeRememberedSettings(undefined), undefined);
  assert.equal(decodeRememberedSettings(Uint8Array.of(1)), undefined, 'garbage gives nothing, not an error');
});

test('remembered settings: a server that accepted 0-RTT may raise limits, never lower them (RFC 9114 §7.2.4.2)', () => {
  const remembered = {
    ...DEFAULT_SETTINGS,
    qpackMaxTableCapacity: 4096,
    qpackBlockedStreams: 10,
    maxFieldSectionSize: 1000,
  };
  assert.equal(incompatibleWithRemembered(remembered, remembered), undefined);
  assert.equal(
    incompatibleWithRemembered(remembered, {
      ...remembered,
      qpackMaxTableCapacity: 8192,
      maxFieldSectionSize: Infinity,
    }),
    undefined,
  );
  assert.match(
    incompatibleWithRemembered(remembered, { ...remembered, qpackMaxTableCapacity: 0 }) ?? '',
    /TABLE_CAPACITY/,
  );
  assert.match(
    incompatibleWithRemembered(remembered, { ...remembered, qpackBlockedStreams: 0 }) ?? '',
    /BLOCKED/,
  );
  assert.match(
    incompatibleWithRemembered(remembered, { ...remembered, maxFieldSectionSize: 999 }) ?? '',
    /FIELD_SECTION/,
  );
  // Omitting a non-default setting resets it to its default: also a reduction.
  assert.ok(incompatibleWithRemembered(remembered, DEFAULT_SETTINGS));
  assert.ok(
    incompatibleWithRemembered({ ...DEFAULT_SETTINGS, enableConnectProtocol: true }, DEFAULT_SETTINGS),
  );
});
