/**
 * UCI sections as data, written in the syntax `uci export` uses
 * (https://openwrt.org/docs/guide-user/base-system/uci): `config TYPE 'NAME'`, tab-indented
 * `option`/`list` lines, values in single quotes with `'\''` for a quote inside.
 */
import { oneLine } from './names.js';

export interface UciOut {
  type: string;
  name: string;
  /** Comment lines written above the section. */
  comments: string[];
  options: [kind: 'option' | 'list', key: string, value: string][];
}

export function section(type: string, name: string, comments: string[] = []): UciOut {
  return { type, name, comments, options: [] };
}

export function opt(s: UciOut, key: string, value: string): UciOut {
  s.options.push(['option', key, value]);
  return s;
}

export function list(s: UciOut, key: string, values: Iterable<string>): UciOut {
  for (const v of values) s.options.push(['list', key, v]);
  return s;
}

export function quote(v: string): string {
  return `'${oneLine(v, 4096).replace(/'/g, `'\\''`)}'`;
}

export function writeSections(sections: UciOut[]): string {
  const out: string[] = [];
  for (const s of sections) {
    for (const c of s.comments) out.push(`# ${oneLine(c, 300)}`);
    out.push(`config ${s.type} ${quote(s.name)}`);
    for (const [kind, key, value] of s.options) out.push(`\t${kind} ${key} ${quote(value)}`);
    out.push('');
  }
  return out.join('\n');
}

export function commentBlock(lines: string[]): string {
  return lines.map((l) => (l === '' ? '#' : `# ${oneLine(l, 300)}`)).join('\n') + '\n\n';
}
