/**
 * Where alerts go besides the dashboard: a JSON-lines event log with size-capped rotation, a
 * remote syslog collector (RFC 5424 over UDP: an ISP's or a NAS's), and a webhook. Local syslog
 * needs nothing here: procd and systemd pass the daemon's standard error to logd / the journal.
 * None of them may block or grow without bound: a slow webhook loses its oldest queued alerts,
 * and says how many.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import { deviceName } from '../model/device.js';
import { escapeControls } from '../util/text.js';
import type { Alert } from '../verdicts/alert.js';

export class EventLog {
  written = 0;
  rotations = 0;
  private size: number;

  /** Writes that failed (full disk, a symlink put at the path since): counted, told once per reason. */
  errors = 0;
  lastError: string | null = null;
  /** Failed writes in a row (the end of a run of failures is told too). */
  failures = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes = 10 * 1024 * 1024,
    private readonly keep = 3,
    private readonly log: (msg: string) => void = () => {},
  ) {
    // A symlink at the path would have the daemon (root on a router) append to whatever it names.
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(file);
    } catch {
      st = null;
    }
    if (st?.isSymbolicLink()) throw new Error(`${file} is a symbolic link: refused (the event log is written as root; give a plain file)`);
    this.size = st?.size ?? 0;
  }

  write(event: Record<string, unknown>): void {
    const line = JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n';
    try {
      if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
      // O_NOFOLLOW (open(2)): a symlink planted between writes is refused with ELOOP, not followed.
      const fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
      try {
        appendWhole(fd, Buffer.from(line));
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      this.errors++;
      this.failures++;
      const why = (e as NodeJS.ErrnoException).code === 'ELOOP' ? `${this.file} became a symbolic link: not followed` : (e as Error).message;
      if (why !== this.lastError) this.log(`event log write failed: ${why}`);
      this.lastError = why;
      return;
    }
    if (this.failures > 0) this.log(`event log ${this.file} written again after ${this.failures} failed write${this.failures === 1 ? '' : 's'}`);
    this.failures = 0;
    this.lastError = null;
    this.size += Buffer.byteLength(line);
    this.written++;
  }

  /** file → file.1 → … → file.N (the oldest is dropped), like logrotate's rotate N. */
  private rotate(): void {
    for (let i = this.keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${this.file}.${i}`)) fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (this.keep >= 1) fs.renameSync(this.file, `${this.file}.1`);
    else fs.rmSync(this.file, { force: true });
    this.size = 0;
    this.rotations++;
  }
}

/**
 * Writes the whole line or none of it: a full disk can take part of a write (a short count, then
 * ENOSPC), and a half line would glue itself to the next one. What went in is cut off again.
 */
function appendWhole(fd: number, buf: Buffer): void {
  const start = fs.fstatSync(fd).size;
  let off = 0;
  try {
    while (off < buf.length) off += fs.writeSync(fd, buf, off);
  } catch (e) {
    if (off > 0) {
      try {
        fs.ftruncateSync(fd, start);
      } catch {
        // Nothing more can be done: the next reader skips one bad line.
      }
    }
    throw e;
  }
}

/** Alert severity → syslog severity (RFC 5424 §6.2.1): critical 2, error 3, warning 4, notice 5, info 6. */
const SYSLOG_SEVERITY: Record<string, number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };
/** Facility 3: system daemons. */
const FACILITY = 3;

export class SyslogSender {
  private readonly socket: dgram.Socket;
  sent = 0;
  errors = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', () => this.errors++);
    this.socket.unref();
  }

  /** One RFC 5424 message: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG. */
  alert(a: Alert): void {
    const pri = FACILITY * 8 + (SYSLOG_SEVERITY[a.severity] ?? 6);
    const esc = (v: string) => v.replace(/[\]"\\]/g, (c) => `\\${c}`);
    const sd = `[vigie@32473 id="${esc(a.id)}" rule="${esc(a.rule)}" severity="${a.severity}" device="${esc(a.device.mac ?? a.device.id)}"${a.destination ? ` destination="${esc(a.destination.hostname ?? a.destination.ip)}" country="${esc(a.destination.country ?? '')}"` : ''}]`;
    const who = deviceName(a.device);
    const where = a.destination ? ` -> ${a.destination.hostname ?? a.destination.ip}:${a.destination.port}${a.destination.country ? ` (${a.destination.country})` : ''}` : '';
    const msg = `<${pri}>1 ${new Date().toISOString()} ${os.hostname()} vigie ${process.pid} ALERT ${sd} ${a.severity}: ${a.title}: ${who}${where}`;
    // Names come from the network: a newline would forge a second syslog line, an ESC reach a terminal.
    this.socket.send(Buffer.from(escapeControls(msg)), this.port, this.host, (e) => {
      if (e) this.errors++;
      else this.sent++;
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** POSTs each new or worsened alert as JSON; 3 tries with backoff; at most 100 waiting. */
export class Webhook {
  private readonly queue: Alert[] = [];
  private busy = false;
  sent = 0;
  failed = 0;
  dropped = 0;

  constructor(
    private readonly url: string,
    private readonly secretHeader: string | null = null,
  ) {}

  alert(a: Alert): void {
    this.queue.push(structuredClone(a));
    if (this.queue.length > 100) {
      this.queue.shift();
      this.dropped++;
    }
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    while (this.queue.length > 0) {
      const a = this.queue.shift()!;
      let ok = false;
      for (let attempt = 0; attempt < 3 && !ok; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt).unref());
        try {
          const res = await fetch(this.url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...(this.secretHeader ? { Authorization: this.secretHeader } : {}) },
            body: JSON.stringify({ type: 'alert', alert: a }),
            signal: AbortSignal.timeout(5000),
          });
          ok = res.ok;
        } catch {
          ok = false;
        }
      }
      if (ok) this.sent++;
      else this.failed++;
    }
    this.busy = false;
  }
}
