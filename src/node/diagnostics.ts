/**
 * Connection lifecycle events on node:diagnostics_channel, for metrics and tracing tools: they cost
 * nothing when nobody subscribes. Channel names and message shapes are listed in docs/api.md
 * ("Diagnostics channels").
 */
import { channel } from 'node:diagnostics_channel';
import type { SocketAddress } from './address.js';
import type { CloseReason } from './close-errors.js';
import type { QuicConnection } from './quic-connection.js';

/** The channel names tsquic publishes on. */
export const diagnosticsChannels = {
  /** A connection attempt starts (client: dial; server: a new client's first Initial). */
  start: 'tsquic:connection:start',
  /** The handshake completed. */
  handshake: 'tsquic:connection:handshake',
  /** The connection closed (by either side, a timeout, or a failed handshake). */
  close: 'tsquic:connection:close',
  /** The UDP socket reported an error (a failed send, an ICMP error): the endpoint goes on. */
  socketError: 'tsquic:socket:error',
} as const;

export interface SocketErrorMessage {
  error: NodeJS.ErrnoException;
  localAddress: SocketAddress;
}

export interface ConnectionStartMessage {
  /** Process-unique number of the connection, the same in all its messages. */
  id: number;
  role: 'client' | 'server';
  remoteAddress: SocketAddress;
}

export interface ConnectionHandshakeMessage extends ConnectionStartMessage {
  connection: QuicConnection;
  alpn: string | undefined;
  resumed: boolean;
  used0RTT: boolean;
}

export interface ConnectionCloseMessage extends ConnectionStartMessage {
  /** The public connection, if the attempt got that far. */
  connection: QuicConnection | undefined;
  reason: CloseReason;
}

export const startChannel = channel(diagnosticsChannels.start);
export const handshakeChannel = channel(diagnosticsChannels.handshake);
export const closeChannel = channel(diagnosticsChannels.close);
export const socketErrorChannel = channel(diagnosticsChannels.socketError);

let nextId = 1;

export function nextConnectionId(): number {
  return nextId++;
}
