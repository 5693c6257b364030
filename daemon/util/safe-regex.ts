/**
 * User patterns (rule files) run on names any LAN device chooses, in the daemon's only thread: a
 * backtracking pattern such as `(a+)+$` takes exponential time on a 31-byte host name and the
 * daemon stops answering. RE2 would need a native build (not on a router), so user patterns are
 * checked statically at load and refused when they can backtrack catastrophically:
 * - a repetition or optional part inside a repetition (star height above 1: `(a+)+`, `(a*)*`,
 *   `(\w+\s?)+`, `(aa?)+`),
 * - alternatives that can start with the same character under a repetition (`(a|a)*`, `(a|ab)+`),
 * - backreferences (not regular: no bound on their cost), and lookarounds inside a repetition;
 *   a lookaround elsewhere is checked like the rest (two built-in module patterns use one);
 * - more than three unbounded repetitions in a row over shared characters (`\d*\d*\d*\d*x`:
 *   polynomial, but of degree 4).
 * What is left is at most cubic, and the strings matched are capped at MAX_MATCHED characters:
 * 255³ steps take tens of milliseconds.
 */

/** A DNS or DHCP host name's maximum length: what any user pattern is applied to, at most. */
export const MAX_MATCHED = 255;
/** Longer patterns are a mistake (the longest built-in one is far shorter). */
export const MAX_PATTERN = 1024;

/** Characters 0–255 one by one, 256 for every character beyond. */
type CharSet = Uint8Array;
const SIZE = 257;

type Node =
  | { t: 'chars'; set: CharSet }
  /** One literal character: its set is only built if a check needs it (most never do). */
  | { t: 'char'; code: number }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; body: Node; min: number; max: number }
  /** `start`: a `^`, which spares the engine trying every start position. */
  | { t: 'assert'; start?: boolean }
  | { t: 'look'; body: Node };

class Refused extends Error {}

function set(pred: (c: number) => boolean, beyond: boolean): CharSet {
  const s = new Uint8Array(SIZE);
  for (let c = 0; c < 256; c++) s[c] = pred(c) ? 1 : 0;
  s[256] = beyond ? 1 : 0;
  return s;
}
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace = (c: number) => (c >= 9 && c <= 13) || c === 32 || c === 160;
const CLASS: Record<string, CharSet> = {
  d: set(isDigit, false),
  D: set((c) => !isDigit(c), true),
  w: set(isWord, false),
  W: set((c) => !isWord(c), true),
  s: set(isSpace, true),
  S: set((c) => !isSpace(c), true),
};
function one(c: number): CharSet {
  const s = new Uint8Array(SIZE);
  s[Math.min(c, 256)] = 1;
  return s;
}
/** Case-insensitive, as every user pattern is compiled (`i`): a letter stands for both cases. */
function fold(s: CharSet): CharSet {
  for (let c = 65; c <= 90; c++) if (s[c] || s[c + 32]) s[c] = s[c + 32] = 1;
  return s;
}

/** A recursive-descent parser of the JavaScript (non-Unicode) pattern syntax, enough to judge it. */
class Parser {
  i = 0;
  constructor(readonly src: string) {}

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) throw new SyntaxError(`unmatched ")" at ${this.i}`);
    return n;
  }

  private alternation(): Node {
    const alts = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      let atom = this.atom();
      const q = this.quantifier();
      if (q) {
        if (atom.t === 'assert') throw new SyntaxError('nothing to repeat');
        atom = { t: 'rep', body: atom, ...q };
      }
      items.push(atom);
    }
    return { t: 'seq', items };
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.src[this.i];
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return null; // a literal brace (Annex B)
      this.i += m[0].length - 1;
      q = { min: Number(m[1]), max: m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]) };
    }
    if (!q) return null;
    this.i++;
    if (this.src[this.i] === '?') this.i++; // lazy: the same backtracking, in another order
    return q;
  }

  private atom(): Node {
    const c = this.src[this.i++];
    switch (c) {
      case '^':
        return { t: 'assert', start: true };
      case '$':
        return { t: 'assert' };
      case '.':
        return { t: 'chars', set: set((x) => x !== 10 && x !== 13, true) };
      case '[':
        return { t: 'chars', set: fold(this.charClass()) };
      case '(':
        return this.group();
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        throw new SyntaxError('nothing to repeat');
      default:
        return { t: 'char', code: c.charCodeAt(0) };
    }
  }

  private group(): Node {
    const look = /^\?(=|!|<=|<!)/.exec(this.src.slice(this.i));
    if (look) {
      this.i += look[0].length;
      const body = this.alternation();
      if (this.src[this.i] !== ')') throw new SyntaxError('unterminated group');
      this.i++;
      return { t: 'look', body };
    }
    if (this.src.startsWith('?:', this.i)) this.i += 2;
    else if (this.src.startsWith('?<', this.i)) {
      const end = this.src.indexOf('>', this.i);
      if (end < 0) throw new SyntaxError('unterminated group name');
      this.i = end + 1;
    } else if (this.src[this.i] === '?') throw new SyntaxError('invalid group');
    const body = this.alternation();
    if (this.src[this.i] !== ')') throw new SyntaxError('unterminated group');
    this.i++;
    return body;
  }

  /** After a backslash; in a class, `\b` is a backspace and there are no backreferences. */
  private escape(inClass: boolean): { t: 'chars'; set: CharSet } | { t: 'assert' } {
    const c = this.src[this.i++];
    if (c === undefined) throw new SyntaxError('\\ at end of pattern');
    if (CLASS[c]) return { t: 'chars', set: CLASS[c].slice() };
    if (!inClass && (c === 'b' || c === 'B')) return { t: 'assert' };
    if (!inClass && (/[1-9]/.test(c) || (c === 'k' && this.src[this.i] === '<'))) throw new Refused('uses a backreference, which user patterns may not');
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12, '0': 0, b: 8 };
    if (c in simple) return { t: 'chars', set: one(simple[c]) };
    const hex = c === 'x' ? /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i)) : c === 'u' ? /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.i)) : null;
    if (hex) {
      this.i += hex[0].length;
      return { t: 'chars', set: fold(one(parseInt(hex[0], 16))) };
    }
    if (c === 'c' && /[A-Za-z]/.test(this.src[this.i] ?? '')) return { t: 'chars', set: one(this.src.charCodeAt(this.i++) % 32) };
    return { t: 'chars', set: fold(one(c.charCodeAt(0))) };
  }

  private charClass(): CharSet {
    const negate = this.src[this.i] === '^';
    if (negate) this.i++;
    const s = new Uint8Array(SIZE);
    const single = (): { set: CharSet; code: number | null } => {
      const c = this.src[this.i++];
      if (c === undefined) throw new SyntaxError('unterminated character class');
      if (c !== '\\') return { set: one(c.charCodeAt(0)), code: c.charCodeAt(0) };
      const e = this.escape(true) as { t: 'chars'; set: CharSet };
      const codes = [...e.set.keys()].filter((k) => e.set[k]);
      return { set: e.set, code: codes.length === 1 && codes[0] < 256 ? codes[0] : null };
    };
    while (this.src[this.i] !== ']') {
      const a = single();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        this.i++;
        const b = single();
        if (a.code === null || b.code === null) {
          // `[\w-.]`: the dash is literal beside a class escape (Annex B); a range past 255 is "beyond".
          for (const x of [a.set, b.set, one(45)]) for (let k = 0; k < SIZE; k++) s[k] |= x[k];
          if (a.code === null && b.code === null) continue;
          s[256] = 1;
          continue;
        }
        if (b.code < a.code) throw new SyntaxError('range out of order in character class');
        for (let k = a.code; k <= Math.min(b.code, 255); k++) s[k] = 1;
        if (b.code > 255) s[256] = 1;
      } else for (let k = 0; k < SIZE; k++) s[k] |= a.set[k];
    }
    this.i++;
    if (negate) for (let k = 0; k < SIZE; k++) s[k] = s[k] ? 0 : 1;
    if (negate) s[256] = 1;
    return s;
  }
}

function nullable(n: Node): boolean {
  switch (n.t) {
    case 'chars':
    case 'char':
      return false;
    case 'assert':
    case 'look':
      return true;
    case 'seq':
      return n.items.every(nullable);
    case 'alt':
      return n.alts.some(nullable);
    case 'rep':
      return n.min === 0 || nullable(n.body);
  }
}

/** The characters a match of `n` can start with. */
function first(n: Node): CharSet {
  const out = new Uint8Array(SIZE);
  const add = (s: CharSet) => {
    for (let k = 0; k < SIZE; k++) out[k] |= s[k];
  };
  switch (n.t) {
    case 'chars':
      add(n.set);
      break;
    case 'char':
      add(fold(one(n.code)));
      break;
    case 'assert':
    case 'look':
      break;
    case 'seq':
      for (const x of n.items) {
        add(first(x));
        if (!nullable(x)) break;
      }
      break;
    case 'alt':
      for (const x of n.alts) add(first(x));
      break;
    case 'rep':
      add(first(n.body));
      break;
  }
  return out;
}

const overlap = (a: CharSet, b: CharSet) => a.some((v, k) => v === 1 && b[k] === 1);

/** Walks the tree; `looped`: inside a repetition that can run more than once. */
function judge(n: Node, looped: boolean): string | null {
  switch (n.t) {
    case 'chars':
    case 'char':
    case 'assert':
      return null;
    case 'look':
      // Once per position it is tried at: linear, unless a loop runs it again and again.
      return looped ? 'lookaround inside a repetition' : judge(n.body, false);
    case 'seq':
      for (const x of n.items) {
        const why = judge(x, looped);
        if (why) return why;
      }
      return null;
    case 'alt':
      if (looped) {
        const starts = n.alts.map(first);
        for (let a = 0; a < starts.length; a++) for (let b = a + 1; b < starts.length; b++) if (overlap(starts[a], starts[b])) return 'overlapping alternatives under a repetition';
      }
      for (const x of n.alts) {
        const why = judge(x, looped);
        if (why) return why;
      }
      return null;
    case 'rep': {
      // Inside a loop, any optional part (`*`, `+`, `?`, `{1,3}`) gives the same text several
      // parses, and their number grows exponentially with the length: `(a+)+`, `(aa?)+`.
      if (looped && n.min < n.max) return 'nested quantifier';
      // A loop that runs a few times over bounded parts (`(\d{1,3}\.){3}`) stays small.
      const loops = n.max > 1 && (n.max === Infinity || n.max > 10 || hasUnbounded(n.body));
      return judge(n.body, looped || loops);
    }
  }
}

function hasUnbounded(n: Node): boolean {
  switch (n.t) {
    case 'chars':
    case 'char':
    case 'assert':
    case 'look':
      return false;
    case 'seq':
      return n.items.some(hasUnbounded);
    case 'alt':
      return n.alts.some(hasUnbounded);
    case 'rep':
      return n.max === Infinity || hasUnbounded(n.body);
  }
}

/** Every character any part of `n` can match. */
function charsOf(n: Node): CharSet {
  switch (n.t) {
    case 'chars':
      return n.set;
    case 'char':
      return fold(one(n.code));
    case 'assert':
    case 'look':
      return new Uint8Array(SIZE);
    case 'rep':
      return charsOf(n.body);
    case 'seq':
    case 'alt': {
      const out = new Uint8Array(SIZE);
      for (const x of n.t === 'seq' ? n.items : n.alts) {
        const c = charsOf(x);
        for (let k = 0; k < SIZE; k++) out[k] |= c[k];
      }
      return out;
    }
  }
}

/** Unbounded repetitions in a row over shared characters: each can end anywhere in the others. */
const MAX_DEGREE = 3;
interface Open {
  set: CharSet;
  degree: number;
}

/**
 * `\d*\d*\d*\d*x` tries every way to cut a string in four: polynomial of degree 4, 2.6 s on 255
 * digits (degree 5: 157 s). Walks the pattern in order with the repetitions still "open" (the
 * next one can take characters from them); a character none of them can match closes them.
 * Throws Refused past MAX_DEGREE.
 */
function chain(n: Node, open: Open[]): Open[] {
  switch (n.t) {
    case 'assert':
      return open;
    case 'look':
      chain(n.body, []);
      return open;
    case 'char':
    case 'chars': {
      const c = charsOf(n);
      return open.filter((o) => overlap(o.set, c));
    }
    case 'seq':
      return n.items.reduce((acc, x) => chain(x, acc), open);
    case 'alt':
      return n.alts.flatMap((x) => chain(x, open));
    case 'rep': {
      if (n.max === Infinity) {
        const set = charsOf(n.body);
        const degree = 1 + Math.max(0, ...open.filter((o) => overlap(o.set, set)).map((o) => o.degree));
        if (degree > MAX_DEGREE) throw new Refused(`can take polynomial time of degree ${degree} (repetitions in a row over the same characters)`);
        const kept = nullable(n) ? open : open.filter((o) => overlap(o.set, set));
        return [...kept, { set, degree }];
      }
      const after = chain(n.body, open);
      return n.min === 0 ? [...open, ...after] : after;
    }
  }
}

/**
 * Why a user pattern is refused, as the end of a sentence that starts with the pattern (`can take
 * exponential time (nested quantifier)`), or null when it is safe. Syntax errors are left to
 * `new RegExp`, which words them better (null here).
 */
export function unsafePattern(src: string): string | null {
  if (src.length > MAX_PATTERN) return `is longer than ${MAX_PATTERN} characters`;
  try {
    new RegExp(src);
  } catch {
    return null;
  }
  let tree: Node;
  try {
    tree = new Parser(src).parse();
  } catch (e) {
    if (e instanceof Refused) return e.message;
    // Valid for JavaScript but not understood here: refused rather than run unchecked.
    return `cannot be checked (${(e as Error).message})`;
  }
  const why = judge(tree, false);
  if (why) return `can take exponential time (${why})`;
  try {
    // Unanchored, the engine tries each start position: one more repetition over everything.
    const anchored = (tree.t === 'alt' ? tree.alts : [tree]).every((x) => x.t === 'seq' && x.items[0]?.t === 'assert' && x.items[0].start === true);
    chain(tree, anchored ? [] : [{ set: set(() => true, true), degree: 1 }]);
  } catch (e) {
    if (e instanceof Refused) return e.message;
    throw e;
  }
  return null;
}

/**
 * A user pattern that only ever sees the first MAX_MATCHED characters of a string (what is left
 * after the check is polynomial: bounded by the length). `test`, `match` and the rest all go
 * through `exec`, so capping it caps them all. A `$` then anchors at the cap.
 */
export class BoundedRegExp extends RegExp {
  override exec(s: string): RegExpExecArray | null {
    return super.exec(s.length > MAX_MATCHED ? s.slice(0, MAX_MATCHED) : s);
  }
}

/** Compiles a user pattern (case-insensitive), or throws with the reason it is refused. */
export function compileUserPattern(src: string): RegExp {
  const re = new BoundedRegExp(src, 'i');
  const why = unsafePattern(src);
  if (why) throw new UnsafePatternError(`pattern ${JSON.stringify(src)} ${why}`);
  return re;
}

export class UnsafePatternError extends Error {}
