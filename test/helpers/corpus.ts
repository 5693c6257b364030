/**
 * The shared corpus of third-party captures (../shared/corpus beside the checkout, or
 * VIGIE_CORPUS) and its tshark.txt oracle files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS = process.env.VIGIE_CORPUS ?? path.resolve(ROOT, '../shared/corpus');

export interface CorpusCase {
  case: string;
  file: string;
  linktype: string;
  packets: number;
  protocols: string;
  expected: string;
}

export function corpusCases(): CorpusCase[] {
  if (!fs.existsSync(path.join(CORPUS, 'index.json'))) {
    throw new Error(`the capture corpus is not at ${CORPUS}: check the repository out beside shared/, or set VIGIE_CORPUS`);
  }
  return JSON.parse(fs.readFileSync(path.join(CORPUS, 'index.json'), 'utf8')) as CorpusCase[];
}

export function casePath(c: CorpusCase | string): string {
  const cc = typeof c === 'string' ? corpusCases().find((x) => x.case === c) : c;
  if (!cc) throw new Error(`no corpus case ${String(c)}`);
  return path.join(CORPUS, cc.case, cc.file);
}

export interface TsharkTxt {
  packets: number;
  encapsulation: string;
  /** `vlan.id` lists (e.g. "421,785") with the number of frames that carry them; "" = untagged. */
  vlans: Map<string, number>;
  /** Options given to tshark when the oracle was made (decode-as). */
  extraArgs: string;
}

export function readTsharkTxt(caseName: string): TsharkTxt {
  const text = fs.readFileSync(path.join(CORPUS, caseName, 'tshark.txt'), 'utf8');
  const packets = Number(/Number of packets:\s+(\d+)/.exec(text)?.[1]);
  const encapsulation = /File encapsulation:\s+(\S+)/.exec(text)?.[1] ?? '';
  const extraArgs = /# extra tshark args: (.*)/.exec(text)?.[1] ?? '';
  const vlans = new Map<string, number>();
  const sec = text.split('## VLAN ids per frame')[1];
  if (sec) {
    for (const line of sec.split('\n')) {
      const m = /^\s+(\d+)\s+'([^\\']*)\\t/.exec(line);
      if (m) vlans.set(m[2], Number(m[1]));
    }
  }
  return { packets, encapsulation, vlans, extraArgs };
}

/** tshark's encapsulation names, mapped to ours. */
export const ENCAPSULATION: Record<string, string> = { ether: 'ethernet', null: 'null', 'linux-sll': 'linux-sll', rawip: 'raw', 'raw-ip': 'raw', rawip4: 'raw' };
