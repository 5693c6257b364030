/**
 * A small, bounded, tolerant scanner for the namespaced XML of SOAP-over-UDP (WS-Discovery) and
 * UPnP device descriptions (XML 1.0 §2.5-2.8, §3.1; Namespaces in XML 1.0 §3-4). It walks the
 * bytes in place: start tags, end tags and the text that follows a start tag; comments,
 * processing instructions, DOCTYPE and CDATA sections are skipped. Strings are only made for what
 * a caller asks for (a text, an attribute value). It never throws: an unterminated construct ends
 * the scan with `error` set. Not a validating parser: well-formedness beyond that is not checked.
 */

/** What next() found. */
export const Tok = { End: 0, Start: 1, Close: 2, Error: 3 } as const;
export type Tok = (typeof Tok)[keyof typeof Tok];

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const COLON = 0x3a;
const QUOTE = 0x22;
const APOS = 0x27;
const EQ = 0x3d;
const BANG = 0x21;
const QMARK = 0x3f;

const COMMENT_END = Buffer.from('-->');
const CDATA_END = Buffer.from(']]>');
const PI_END = Buffer.from('?>');
const CDATA_START = Buffer.from('<![CDATA[');
const XMLNS = Buffer.from('xmlns');

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Longest text (or attribute value) turned into a string: longer ones are cut. */
export const MAX_TEXT = 4096;

export class XmlScanner {
  private p: number;
  /** Why the scan stopped early, or null. */
  error: string | null = null;
  /** Span of the current tag's qualified name, and where its local part starts. */
  nameStart = 0;
  nameEnd = 0;
  localStart = 0;
  /** Span of the current start tag's attributes (between the name and `>` or `/>`). */
  attrStart = 0;
  attrEnd = 0;
  selfClosing = false;
  /** Offset just past the current tag's `>`. */
  tagEnd = 0;
  depth = 0;

  constructor(
    readonly buf: Buffer,
    off: number,
    readonly end: number,
  ) {
    this.p = off;
  }

  next(): Tok {
    const b = this.buf;
    const end = this.end;
    for (;;) {
      const lt = b.indexOf(LT, this.p);
      if (lt < 0 || lt >= end) return Tok.End;
      if (lt + 1 >= end) return this.fail('unterminated tag');
      const c = b[lt + 1];
      if (c === BANG) {
        // Comment, CDATA section, DOCTYPE or another declaration (XML 1.0 §2.5, §2.7, §2.8).
        let stop: number;
        if (b[lt + 2] === 0x2d && b[lt + 3] === 0x2d) stop = this.find(COMMENT_END, lt + 4);
        else if (end - lt >= 9 && b.compare(CDATA_START, 0, 9, lt, lt + 9) === 0) stop = this.find(CDATA_END, lt + 9);
        else stop = this.findDeclEnd(lt + 2);
        if (stop < 0) return this.fail('unterminated declaration');
        this.p = stop;
        continue;
      }
      if (c === QMARK) {
        const stop = this.find(PI_END, lt + 2);
        if (stop < 0) return this.fail('unterminated processing instruction');
        this.p = stop;
        continue;
      }
      const closing = c === SLASH;
      let q = closing ? lt + 2 : lt + 1;
      this.nameStart = q;
      this.localStart = q;
      while (q < end) {
        const x = b[q];
        if (isSpace(x) || x === GT || x === SLASH) break;
        if (x === LT) return this.fail('"<" inside a tag');
        if (x === COLON) this.localStart = q + 1;
        q++;
      }
      this.nameEnd = q;
      if (q === this.nameStart) return this.fail('tag without a name');
      // Attributes up to the closing '>', quoted values may hold '>' and '/'.
      this.attrStart = q;
      let quote = 0;
      while (q < end) {
        const x = b[q];
        if (quote) {
          if (x === quote) quote = 0;
        } else if (x === QUOTE || x === APOS) quote = x;
        else if (x === GT) break;
        else if (x === LT) return this.fail('"<" inside a tag');
        q++;
      }
      if (q >= end) return this.fail('unterminated tag');
      this.selfClosing = !closing && b[q - 1] === SLASH;
      this.attrEnd = this.selfClosing ? q - 1 : q;
      this.tagEnd = q + 1;
      this.p = q + 1;
      if (closing) {
        this.depth--;
        return Tok.Close;
      }
      if (!this.selfClosing) this.depth++;
      return Tok.Start;
    }
  }

  /** Whether the current tag's local name (after any prefix) is `name` (ASCII bytes). */
  localIs(name: Buffer): boolean {
    const n = this.nameEnd - this.localStart;
    return n === name.length && this.buf.compare(name, 0, n, this.localStart, this.nameEnd) === 0;
  }

  /** The current tag's prefix ('' for none). */
  prefix(): string {
    return this.localStart > this.nameStart ? this.buf.toString('latin1', this.nameStart, this.localStart - 1) : '';
  }

  localName(): string {
    return this.buf.toString('latin1', this.localStart, this.nameEnd);
  }

  /**
   * The character data after the current start tag, up to the next markup, entity references
   * decoded and surrounding white space trimmed; null for a self-closing tag. Does not move on.
   */
  text(): string | null {
    if (this.selfClosing) return null;
    const b = this.buf;
    let lt = b.indexOf(LT, this.tagEnd);
    if (lt < 0 || lt > this.end) lt = this.end;
    let s = this.tagEnd;
    let e = lt;
    while (s < e && isSpace(b[s])) s++;
    while (e > s && isSpace(b[e - 1])) e--;
    if (e - s > MAX_TEXT) e = s + MAX_TEXT;
    return decodeEntities(b.toString('utf8', s, e));
  }

  /**
   * Calls `fn` for each attribute of the current start tag with the spans of its name and value.
   * Values without quotes are tolerated (up to white space).
   */
  attributes(fn: (nameStart: number, nameEnd: number, valueStart: number, valueEnd: number) => void): void {
    const b = this.buf;
    let q = this.attrStart;
    const end = this.attrEnd;
    while (q < end) {
      while (q < end && isSpace(b[q])) q++;
      const ns = q;
      while (q < end && b[q] !== EQ && !isSpace(b[q])) q++;
      const ne = q;
      while (q < end && isSpace(b[q])) q++;
      if (ne === ns) break;
      if (b[q] !== EQ) continue; // an attribute without a value: skipped
      q++;
      while (q < end && isSpace(b[q])) q++;
      let vs = q;
      let ve: number;
      if (b[q] === QUOTE || b[q] === APOS) {
        const quote = b[q];
        vs = q + 1;
        ve = b.indexOf(quote, vs);
        if (ve < 0 || ve > end) ve = end;
        q = ve + 1;
      } else {
        while (q < end && !isSpace(b[q])) q++;
        ve = q;
      }
      fn(ns, ne, vs, ve);
    }
  }

  /**
   * Namespace declarations of the current start tag into `map` (prefix -> URI, '' for the default
   * namespace). The map is flat: scoping is ignored, a later declaration of a prefix wins, which
   * is what SOAP messages and device descriptions need (their declarations sit on the root).
   */
  declarations(map: Map<string, string>, limit = 64): void {
    const b = this.buf;
    let has = false;
    for (let q = this.attrStart; q + 5 <= this.attrEnd && !has; q++) has = b[q] === 0x78 && b.compare(XMLNS, 0, 5, q, q + 5) === 0;
    if (!has) return;
    this.attributes((ns, ne, vs, ve) => {
      if (ne - ns < 5 || b.compare(XMLNS, 0, 5, ns, ns + 5) !== 0) return;
      if (ne - ns > 5 && b[ns + 5] !== COLON) return;
      if (map.size >= limit) return;
      const prefix = ne - ns > 5 ? b.toString('latin1', ns + 6, ne) : '';
      map.set(prefix, decodeEntities(b.toString('utf8', vs, Math.min(ve, vs + MAX_TEXT))));
    });
  }

  private find(needle: Buffer, from: number): number {
    const i = this.buf.indexOf(needle, from);
    return i < 0 || i + needle.length > this.end ? -1 : i + needle.length;
  }

  /** End of a `<!...>` declaration, stepping over an internal DTD subset in brackets. */
  private findDeclEnd(from: number): number {
    let bracket = 0;
    for (let q = from; q < this.end; q++) {
      const x = this.buf[q];
      if (x === 0x5b) bracket++;
      else if (x === 0x5d) bracket--;
      else if (x === GT && bracket <= 0) return q + 1;
    }
    return -1;
  }

  private fail(why: string): Tok {
    this.error = why;
    this.p = this.end;
    return Tok.Error;
  }
}

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g;

/** The five predefined entities and character references (XML 1.0 §4.1, §4.6). */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY, (m, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : m;
  });
}
