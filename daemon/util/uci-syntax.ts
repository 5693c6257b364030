/**
 * The syntax of OpenWrt's UCI files, apart from what Vigie's own file means (config/uci.ts): the
 * segmentation's checker reads fw4 and dhcp files with it too. Syntax: https://openwrt.org/docs/guide-user/base-system/uci —
 * `config TYPE ['NAME']`, `option NAME 'VALUE'`, `list NAME 'VALUE'`; values bare, in single
 * quotes (no escapes; `uci export` writes `'it'\''s'`) or in double quotes (backslash escapes);
 * `#` starts a comment.
 */

export interface UciOption {
  name: string;
  /** One value for `option`, every value in order for `list`. */
  values: string[];
  list: boolean;
  line: number;
}

export interface UciSection {
  type: string;
  name: string | null;
  line: number;
  options: Map<string, UciOption>;
}

export class UciError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** The words of one line: quotes joined to their neighbours, as a shell would. */
function words(text: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length || text[i] === '#') break;
    let w = '';
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) throw new UciError(line, 'unterminated single quote');
        w += text.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new UciError(line, 'unterminated double quote');
          if (text[i] === '\\' && i + 1 < text.length) {
            w += text[i + 1];
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else w += text[i++];
        }
      } else if (c === '\\' && i + 1 < text.length) {
        // Outside quotes a backslash takes the next character as it is (`'it'\''s'`).
        w += text[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    out.push(w);
  }
  return out;
}

const IDENT = /^[A-Za-z0-9_]+$/;

export function parseUci(text: string): UciSection[] {
  const sections: UciSection[] = [];
  let cur: UciSection | null = null;
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = idx + 1;
    const w = words(raw, line);
    if (w.length === 0) return;
    const [kw, ...rest] = w;
    if (kw === 'package') return;
    if (kw === 'config') {
      if (rest.length < 1 || rest.length > 2) throw new UciError(line, 'expected: config TYPE [NAME]');
      if (!IDENT.test(rest[0])) throw new UciError(line, `section type "${rest[0]}" may only hold a-z, 0-9 and _`);
      if (rest[1] !== undefined && !IDENT.test(rest[1])) throw new UciError(line, `section name "${rest[1]}" may only hold a-z, 0-9 and _`);
      cur = { type: rest[0], name: rest[1] ?? null, line, options: new Map() };
      sections.push(cur);
      return;
    }
    if (kw === 'option' || kw === 'list') {
      if (!cur) throw new UciError(line, `${kw} outside a config section`);
      if (rest.length !== 2) throw new UciError(line, `expected: ${kw} NAME 'VALUE' (quote values with spaces)`);
      const [name, value] = rest;
      if (!IDENT.test(name)) throw new UciError(line, `option name "${name}" may only hold a-z, 0-9 and _`);
      const s: UciSection = cur;
      const prev = s.options.get(name);
      if (kw === 'list') {
        if (prev && !prev.list) throw new UciError(line, `"${name}" is an option above, a list here`);
        if (prev) prev.values.push(value);
        else s.options.set(name, { name, values: [value], list: true, line });
      } else {
        if (prev?.list) throw new UciError(line, `"${name}" is a list above, an option here`);
        // uci keeps the last of repeated options.
        s.options.set(name, { name, values: [value], list: false, line });
      }
      return;
    }
    throw new UciError(line, `unknown keyword "${kw}" (config, option, list)`);
  });
  return sections;
}

/** A UCI file: its first statement (after comments) is a UCI keyword. */
export function looksLikeUci(text: string): boolean {
  for (const l of text.split(/\r?\n/)) {
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    return /^(config|package|option|list)\s/.test(t);
  }
  return false;
}
