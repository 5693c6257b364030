// The flows' texts held in a temporary file: given back in id order, byte for byte, whatever
// their size; nothing left in the temporary folder; in memory when no file can be made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowSpill } from '../../daemon/analysis/flow-spill.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-spill-test-'));
  dirs.push(d);
  return d;
}

function texts(n: number): { id: number; text: string }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    // Out of id order, some large (beyond the 1 MiB block), some not ASCII.
    const id = (i * 7919) % n;
    const size = i % 997 === 0 ? 1.5e6 : 20 + (i % 300);
    out.push({ id, text: JSON.stringify({ id, host: i % 5 === 0 ? `caméra-${i}.例え.jp` : `h${i}`, pad: 'x'.repeat(size) }) });
  }
  return out;
}

describe('FlowSpill', () => {
  it('gives the texts back in id order, identical, from a file that is already gone from the folder', () => {
    const dir = tmp();
    const s = new FlowSpill(dir);
    expect(s.spilled).toBe(true);
    const all = texts(5000);
    for (const t of all) s.add(t.id, t.text);
    expect(fs.readdirSync(dir)).toEqual([]);
    const back = [...s.texts()];
    s.close();
    expect(back).toEqual([...all].sort((a, b) => a.id - b.id).map((t) => t.text));
  });

  it('keeps equal ids in the order they came, and can be read twice', () => {
    const s = new FlowSpill(tmp());
    s.add(2, '"b1"');
    s.add(1, '"a"');
    s.add(2, '"b2"');
    expect([...s.texts()]).toEqual(['"a"', '"b1"', '"b2"']);
    expect([...s.texts()]).toEqual(['"a"', '"b1"', '"b2"']);
    s.close();
  });

  it('keeps the texts in memory when the temporary folder cannot be written', () => {
    const s = new FlowSpill('/nonexistent-vigie-folder');
    expect(s.spilled).toBe(false);
    const all = texts(300);
    for (const t of all) s.add(t.id, t.text);
    expect([...s.texts()]).toEqual([...all].sort((a, b) => a.id - b.id).map((t) => t.text));
    s.close();
  });
});
