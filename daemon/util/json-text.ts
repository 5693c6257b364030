/**
 * Whether bytes are one JSON text (RFC 8259 §2–§7), read in place: what `JSON.parse` of their
 * UTF-8 decoding accepts, without building the values. Bytes of 0x80 and above are taken as
 * string content, as the decoder's replacement characters would be; outside strings they are
 * refused, as any non-ASCII character is. Nesting is bounded by `maxDepth` (deeper is refused);
 * the default covers any text of up to 64 KiB, which is as deep as JSON.parse goes.
 */

const enum C {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  OpenSquare = 0x5b,
  Backslash = 0x5c,
  CloseSquare = 0x5d,
  OpenCurly = 0x7b,
  CloseCurly = 0x7d,
}

const isWs = (c: number) => c === C.Space || c === C.Lf || c === C.Cr || c === C.Tab;
const isDigit = (c: number) => c >= C.Zero && c <= C.Nine;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

function skipWs(b: Buffer, i: number, end: number): number {
  while (i < end && isWs(b[i])) i++;
  return i;
}

/** The end of the string starting at the quote at `i`, or -1 (§7: escapes, no control characters). */
function string(b: Buffer, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = b[i];
    if (c === C.Quote) return i + 1;
    if (c < 0x20) return -1;
    if (c !== C.Backslash) continue;
    const e = b[++i];
    if (e === 0x75) {
      // \uXXXX
      if (i + 4 >= end) return -1;
      for (let k = 1; k <= 4; k++) if (!isHex(b[i + k])) return -1;
      i += 4;
    } else if (e !== C.Quote && e !== C.Backslash && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
  }
  return -1;
}

/** The end of the number at `i`, or -1 (§6: no leading zeros, digits after the point and the exponent). */
function number(b: Buffer, i: number, end: number): number {
  if (b[i] === C.Minus) i++;
  if (i >= end) return -1;
  if (b[i] === C.Zero) i++;
  else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
  else return -1;
  if (i < end && b[i] === C.Dot) {
    i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === C.Plus || b[i] === C.Minus)) i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

function literal(b: Buffer, i: number, end: number, word: string): number {
  if (end - i < word.length) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** A scalar value at `i` (string, number, literal): its end, or -1. */
function scalar(b: Buffer, i: number, end: number): number {
  const c = b[i];
  if (c === C.Quote) return string(b, i, end);
  if (c === C.Minus || isDigit(c)) return number(b, i, end);
  if (c === 0x74) return literal(b, i, end, 'true');
  if (c === 0x66) return literal(b, i, end, 'false');
  if (c === 0x6e) return literal(b, i, end, 'null');
  return -1;
}

/** A member's key and colon at `i` (§4): where its value starts, or -1. */
function memberKey(b: Buffer, i: number, end: number): number {
  if (b[i] !== C.Quote) return -1;
  i = string(b, i, end);
  if (i < 0) return -1;
  i = skipWs(b, i, end);
  if (b[i] !== C.Colon) return -1;
  i = skipWs(b, i + 1, end);
  return i < end ? i : -1;
}

/** Open containers (1 object, 2 array), shared by every call: no allocation per text. */
const STACK = new Uint8Array(65536);

export function isJsonText(b: Buffer, off: number, end: number, maxDepth = STACK.length): boolean {
  const stack = STACK;
  maxDepth = Math.min(maxDepth, STACK.length);
  let depth = 0;
  let i = skipWs(b, off, end);
  if (i >= end) return false;
  for (;;) {
    // A value.
    const c = b[i];
    if (c === C.OpenCurly || c === C.OpenSquare) {
      if (depth >= maxDepth) return false;
      stack[depth++] = c === C.OpenCurly ? 1 : 2;
      i = skipWs(b, i + 1, end);
      if (i >= end) return false;
      if (b[i] === (c === C.OpenCurly ? C.CloseCurly : C.CloseSquare)) {
        depth--;
        i++;
      } else {
        if (c === C.OpenCurly && (i = memberKey(b, i, end)) < 0) return false;
        continue;
      }
    } else {
      i = scalar(b, i, end);
      if (i < 0) return false;
    }
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      i = skipWs(b, i, end);
      if (depth === 0) return i === end;
      if (i >= end) return false;
      const top = stack[depth - 1];
      const d = b[i];
      if (d === (top === 1 ? C.CloseCurly : C.CloseSquare)) {
        depth--;
        i++;
        continue;
      }
      if (d !== C.Comma) return false;
      i = skipWs(b, i + 1, end);
      if (i >= end) return false;
      if (top === 1 && (i = memberKey(b, i, end)) < 0) return false;
      break;
    }
  }
}
