/**
 * The start line and header block shared by HTTP/1.x (RFC 9112 §2-5), RTSP 1.0 (RFC 2326 §6-7)
 * and SSDP (HTTP over UDP, UPnP Device Architecture 2.0 §1). Bare LF line endings are accepted
 * (RFC 9112 §2.2 allows a recipient to); header names are matched case-insensitively.
 */

export interface StartLine {
  kind: 'request' | 'response';
  method: string | null;
  uri: string | null;
  /** "HTTP/1.1", "RTSP/1.0"; null when a request line has none (HTTP/0.9 style or broken). */
  version: string | null;
  status: number | null;
  reason: string | null;
}

export interface HeaderBlock {
  start: StartLine;
  headers: [string, string][];
  /** Offset just past the blank line that ends the block. */
  end: number;
  /** Lines that are neither a header nor the end (no colon). */
  badLines: number;
}

const MAX_HEADER_BLOCK = 32 * 1024;
const METHOD = /^[A-Z][A-Z_-]{1,19}$/;

export type BlockResult = HeaderBlock | 'incomplete' | 'not-http' | 'too-large';

/** Parses the header block starting at buf[off]; `end` bounds what has arrived. */
export function parseHeaderBlock(buf: Buffer, off: number, end: number): BlockResult {
  const lines: string[] = [];
  let p = off;
  let blockEnd = -1;
  while (p < end) {
    const nl = buf.indexOf(10, p);
    if (nl < 0 || nl >= end) break;
    let lineEnd = nl;
    if (lineEnd > p && buf[lineEnd - 1] === 13) lineEnd--;
    const line = buf.toString('latin1', p, lineEnd);
    p = nl + 1;
    if (line.length === 0) {
      if (lines.length === 0) continue; // leading blank lines (RFC 9112 §2.2)
      blockEnd = p;
      break;
    }
    lines.push(line);
    if (lines.length === 1 && !plausibleStart(line)) return 'not-http';
    if (p - off > MAX_HEADER_BLOCK) return 'too-large';
  }
  if (blockEnd < 0) {
    if (end - off > MAX_HEADER_BLOCK) return 'too-large';
    if (lines.length === 0 && end - off >= 16 && !plausibleStart(buf.toString('latin1', off, Math.min(end, off + 64)))) return 'not-http';
    return 'incomplete';
  }
  const start = startLine(lines[0]);
  if (!start) return 'not-http';
  const headers: [string, string][] = [];
  let badLines = 0;
  for (const l of lines.slice(1)) {
    if ((l[0] === ' ' || l[0] === '\t') && headers.length > 0) {
      headers[headers.length - 1][1] += ` ${l.trim()}`; // obsolete line folding (RFC 9112 §5.2)
      continue;
    }
    const c = l.indexOf(':');
    if (c <= 0) {
      badLines++;
      continue;
    }
    headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
  }
  return { start, headers, end: blockEnd, badLines };
}

function plausibleStart(line: string): boolean {
  if (/^(HTTP|RTSP)\/\d\.\d /.test(line)) return true;
  const sp = line.indexOf(' ');
  return sp > 0 && METHOD.test(line.slice(0, sp));
}

function startLine(line: string): StartLine | null {
  const resp = /^((?:HTTP|RTSP)\/\d\.\d) (\d{3})(?: (.*))?$/.exec(line);
  if (resp) return { kind: 'response', method: null, uri: null, version: resp[1], status: Number(resp[2]), reason: resp[3] ?? '' };
  const parts = line.split(' ').filter(Boolean);
  if (parts.length < 2 || !METHOD.test(parts[0])) return null;
  const version = parts.length >= 3 && /^(HTTP|RTSP)\/\d\.\d$/.test(parts[parts.length - 1]) ? parts[parts.length - 1] : null;
  const uri = version ? parts.slice(1, -1).join(' ') : parts.slice(1).join(' ');
  return { kind: 'request', method: parts[0], uri, version, status: null, reason: null };
}

export function header(block: HeaderBlock, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [k, v] of block.headers) if (k.toLowerCase() === lower) return v;
  return null;
}
