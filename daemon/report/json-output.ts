/**
 * Writes the report as one JSON document, flow by flow, so that a capture with a million flows
 * never becomes one giant string in memory. The bytes are those of JSON.stringify(report).
 */
import fs from 'node:fs';
import type { AnalysisReport } from './types.js';

const BATCH = 512;

/** `flowJson`: the flows' texts in id order, when they were serialised as they ended. */
export function writeReportJson(report: AnalysisReport, fd: number, flowJson?: Iterable<string>): void {
  const { flows, alerts, profiles, ...head } = report;
  const headText = JSON.stringify(head);
  writeAll(fd, `${headText.slice(0, -1)},"flows":[`);
  const texts = flowJson ?? flows.map((f) => JSON.stringify(f));
  let batch: string[] = [];
  let first = true;
  const flush = () => {
    const part = batch.join(',');
    writeAll(fd, first ? part : `,${part}`);
    first = false;
    batch = [];
  };
  for (const t of texts) {
    batch.push(t);
    if (batch.length === BATCH) flush();
  }
  if (batch.length > 0) flush();
  writeAll(fd, `],"alerts":${JSON.stringify(alerts)},"profiles":[`);
  // Profiles in batches too: a busy capture's profiles make megabytes of text.
  for (let i = 0; i < profiles.length; i += BATCH / 8) {
    const part = profiles.slice(i, i + BATCH / 8).map((p) => JSON.stringify(p)).join(',');
    writeAll(fd, i === 0 ? part : `,${part}`);
  }
  writeAll(fd, ']}\n');
}

/** JSON lines to a file descriptor, written in batches. */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(line: string): void {
    this.parts.push(line);
    this.size += line.length + 1;
    if (this.size > 65536) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    writeAll(this.fd, this.parts.join('\n') + '\n');
    this.parts = [];
    this.size = 0;
  }
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      // A non-blocking pipe that is full: wait for the reader rather than fail.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
