// A WebSocket text frame encoded once — ws's own framing of the UTF-8 payload, header and payload
// in one Buffer — and written as it is to every subscriber, instead of ws building a header, an
// options object and two writes for each send of the same message.
import type { Socket } from "node:net";
import type WebSocket from "ws";
import * as ws from "ws";

export interface EncodedFrame {
  /** The message as UTF-8: what a client's `message` event holds. */
  readonly payload: Buffer;
  /** The whole frame as it goes on the wire (FIN, text opcode, unmasked as a server sends). */
  readonly wire: Buffer;
  /** `[wire]`, as ws's sendFrame takes it: one list per frame, not one per subscriber. */
  readonly parts: readonly Buffer[];
}

/** What this file uses of ws's Sender (exported by ws, not in its type definitions). */
interface WsSender {
  _state: number;
  _firstFragment: boolean;
  _queue: unknown[];
  sendFrame(list: Buffer[], cb?: (error?: Error) => void): void;
}
type WsSenderClass = { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };

const { Sender } = ws as unknown as { Sender: WsSenderClass };
/** ws's Sender state when nothing (a deflate, a Blob read) is in progress and frames go straight out. */
const SENDER_IDLE = 0;
const TEXT = { binary: false } as const;

/** Encodes `message` as one text frame. */
export function encodeFrame(message: string): EncodedFrame {
  const payload = Buffer.from(message);
  const parts = Sender.frame(payload, { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: false });
  const wire = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  return { payload, wire, parts: [wire] };
}

/**
 * Sends an encoded frame: written as it is when the socket's sender is idle (one write, nothing
 * allocated), through `socket.send` otherwise, so frames never overtake one another.
 */
export function sendFrame(socket: WebSocket, frame: EncodedFrame): void {
  const internals = socket as unknown as { _sender?: WsSender; _socket?: Socket };
  const sender = internals._sender;
  if (
    sender &&
    sender._state === SENDER_IDLE &&
    sender._firstFragment &&
    sender._queue.length === 0 &&
    typeof sender.sendFrame === "function"
  ) {
    sender.sendFrame(frame.parts as Buffer[]);
    return;
  }
  socket.send(frame.payload, TEXT);
}
