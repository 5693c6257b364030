/**
 * A WebSocket connection seen without its HTTP Upgrade (the capture started after it): a
 * candidate while its frames are checked (probe.ts), then read as an upgraded connection is in
 * http/state.ts: frames through WebSocketFramer, MQTT inside binary frames (MQTT 3.1.1 §6, 5.0 §6)
 * handed to MqttSession. Without the Upgrade there is no Sec-WebSocket-Protocol to say MQTT: the
 * first binary message says it, when it is a run of well-formed MQTT packets.
 */
import { WebSocketFramer } from '../http/websocket.js';
import { isExactMqttRun } from '../mqtt/parser.js';
import { type MqttFacts, MqttSession } from '../mqtt/state.js';
import type { FlowContext, StreamParser } from '../parser-types.js';
import { BROKEN, FrameWalker, startsFrames } from './probe.js';

export interface WebSocketFacts {
  /** The HTTP Upgrade (RFC 6455 §4) was seen: false for a connection recognised from its frames. */
  upgradeSeen: boolean;
  /** The side that masks its frames, the client (§5.3), when frames showed it. */
  client: 'orig' | 'resp' | null;
  frames: number;
  textFrames: number;
  binaryFrames: number;
  controlFrames: number;
  /** RSV1 on a data frame: compressed with permessage-deflate (RFC 7692 §6). */
  compressed: boolean;
  /** The status code of the first close frame (§7.4; 1005: none given), else null. */
  closeCode: number | null;
  /** The binary frames carry MQTT. */
  mqtt: boolean;
}

/** Bytes a candidate may take (and keep, to read them once sure) before it is dropped. */
const CANDIDATE_LIMIT = 64 * 1024;

/**
 * Until the chain holds the session reports no application (app null: the stage then says the
 * flow is unrecognised, as for a datagram parser not yet sure), and keeps the bytes it was given
 * (at most CANDIDATE_LIMIT) to read them from the start once it is sure, so that no event is
 * emitted for a guess that turns out wrong.
 *
 * The chain holds with at least two valid headers and three points, a point being a valid header
 * or a frame ending exactly at a segment's end: two whole frames in one segment, a frame per
 * segment twice (in one direction, or one each way with opposite mask bits), or three headers
 * of a stream of large frames.
 */
export class WebSocketMidstream implements StreamParser {
  readonly encrypted = false;
  private readonly walkers: (FrameWalker | null)[] = [null, null];
  private readonly unsynced = [false, false];
  /** The direction's first bytes were seen (and judged). */
  private readonly heard = [false, false];
  private kept: { dir: number; data: Buffer }[] | null = [];
  private keptBytes = 0;
  private confirmed = false;
  private done = false;
  private framer: WebSocketFramer | null = null;
  private mqtt: MqttSession | null = null;
  /** Whether the binary frames are MQTT: decided by the first binary payload. */
  private decided = false;
  readonly f: WebSocketFacts = { upgradeSeen: false, client: null, frames: 0, textFrames: 0, binaryFrames: 0, controlFrames: 0, compressed: false, closeCode: null, mqtt: false };
  /** Opcode of the message in progress per direction (continuations carry 0). */
  private readonly messageOp = [0, 0];

  constructor(private readonly ctx: FlowContext) {
    ctx.followAll();
  }

  get app(): string {
    // The StreamParser type says string; the stage treats null as "not recognised" (see peek()).
    return this.confirmed ? (this.mqtt ? 'mqtt-ws' : 'websocket') : (null as unknown as string);
  }

  data(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.framer) {
      // A direction first heard after the confirmation must start on a frame, or is skipped.
      if (!this.heard[dir]) {
        this.heard[dir] = true;
        if (!startsFrames(buf, off, len)) {
          this.unsynced[dir] = true;
          this.framer.gap(dir);
          return;
        }
      }
      return this.framer.data(dir, buf, off, len);
    }
    if (this.done || this.unsynced[dir]) return;
    let w = this.walkers[dir];
    if (!w) {
      this.heard[dir] = true;
      if (!startsFrames(buf, off, len)) return this.unsync(dir);
      const o = this.walkers[dir ^ 1];
      w = this.walkers[dir] = new FrameWalker(o && o.mask >= 0 ? o.mask ^ 1 : -1);
    }
    if (w.walk(buf, off, off + len) === BROKEN) return this.drop();
    this.keptBytes += len;
    if (this.keptBytes > CANDIDATE_LIMIT) return this.drop();
    this.kept!.push({ dir, data: Buffer.from(buf.subarray(off, off + len)) });
    let headers = 0;
    let points = 0;
    for (const x of this.walkers) {
      if (!x) continue;
      headers += x.headers;
      points += x.headers + x.exactEnds;
    }
    if (headers >= 2 && points >= 3) this.confirm();
  }

  gap(dir: number): void {
    if (this.framer) {
      this.framer.gap(dir);
      this.mqtt?.gap(dir);
      return;
    }
    if (!this.done) this.unsync(dir);
  }

  private unsync(dir: number): void {
    this.unsynced[dir] = true;
    this.walkers[dir] = null;
    if (this.unsynced[dir ^ 1]) this.drop();
  }

  private drop(): void {
    this.done = true;
    this.kept = null;
    this.ctx.stop();
  }

  private confirm(): void {
    this.confirmed = true;
    // The side whose frames are masked is the client (§5.3).
    const d = this.walkers[0] && this.walkers[0].headers > 0 ? 0 : 1;
    const clientDir = this.walkers[d]!.mask === 1 ? d : d ^ 1;
    this.f.client = clientDir === 0 ? 'orig' : 'resp';
    this.framer = new WebSocketFramer({
      frame: (d, opcode, length, masked, _fin, rsv1) => this.frame(d, opcode, length, masked, rsv1),
      payload: (d, b, o, n) => this.payload(d, b, o, n),
      wants: (d) => this.mqtt !== null || (!this.decided && this.messageOp[d] === 2),
      close: (d, code) => {
        this.f.closeCode ??= code;
        void d;
      },
    });
    const kept = this.kept!;
    this.kept = null;
    // Only bytes of directions that started on a frame: an unsynchronised one is skipped.
    for (const d of [0, 1]) if (this.unsynced[d]) this.framer.gap(d);
    for (const k of kept) if (this.walkers[k.dir]) this.framer.data(k.dir, k.data, 0, k.data.length);
  }

  private frame(dir: number, opcode: number, length: number, masked: boolean, rsv1: boolean): void {
    const f = this.f;
    f.frames++;
    if (opcode >= 8) f.controlFrames++;
    else {
      if (opcode !== 0) this.messageOp[dir] = opcode;
      if (this.messageOp[dir] === 1) f.textFrames++;
      else if (this.messageOp[dir] === 2) f.binaryFrames++;
      if (rsv1) f.compressed = true;
    }
    if (!this.mqtt) this.ctx.emit('websocket', { opcode, length, masked }, dir);
  }

  private payload(dir: number, buf: Buffer, off: number, len: number): void {
    if (this.mqtt) return this.mqtt.data(dir, buf, off, len);
    if (this.decided || this.messageOp[dir] !== 2 || len === 0) return;
    // The first binary payload: MQTT when it is exactly a run of well-formed packets.
    this.decided = true;
    if (!this.f.compressed && isExactMqttRun(buf, off, off + len)) {
      this.f.mqtt = true;
      this.mqtt = new MqttSession(this.ctx);
      this.mqtt.data(dir, buf, off, len);
    }
  }

  facts(): { websocket: WebSocketFacts; mqtt?: MqttFacts } | null {
    if (!this.confirmed) return null;
    return this.mqtt ? { websocket: this.f, mqtt: this.mqtt.f } : { websocket: this.f };
  }
}

/**
 * The detection step for WebSocket without its Upgrade: a candidate session when the first bytes
 * start a frame chain, else null. Place it last (after TLS without hellos): it is a fallback.
 */
export function webSocketMidstream(ctx: FlowContext, dir: number, buf: Buffer, off: number, len: number): StreamParser | null {
  void dir;
  return startsFrames(buf, off, len) ? new WebSocketMidstream(ctx) : null;
}
