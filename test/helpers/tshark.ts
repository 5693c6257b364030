/** tshark (Wireshark 4.0 in Debian 12) as an independent oracle, run on the same files. */
import { execFileSync } from 'node:child_process';

export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Rows of `tshark -T fields` with every occurrence of a field joined by ','. */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...extra];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

export interface FollowedStream {
  node0: string;
  node1: string;
  /** Bytes sent by node 0 and by node 1, in stream order. */
  data0: Buffer;
  data1: Buffer;
  /** Holes tshark reports as "[N bytes missing in capture file]", per node, in bytes. */
  gaps0: number[];
  gaps1: number[];
}

/** Reassembled payload of TCP stream `index` as tshark's "Follow TCP Stream" gives it. */
export function tsharkFollow(file: string, index: number): FollowedStream {
  const out = execFileSync('tshark', ['-n', '-r', file, '-q', '-z', `follow,tcp,raw,${index}`], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = out.split('\n');
  const node0 = /Node 0: (.*)/.exec(out)?.[1] ?? '';
  const node1 = /Node 1: (.*)/.exec(out)?.[1] ?? '';
  const c: [Buffer[], Buffer[]] = [[], []];
  const gaps: [number[], number[]] = [[], []];
  let inData = false;
  for (const l of lines) {
    if (l.startsWith('Node 1:')) {
      inData = true;
      continue;
    }
    if (!inData || l.startsWith('====') || l.length === 0) continue;
    const node = l.startsWith('\t') ? 1 : 0;
    const bytes = Buffer.from(node ? l.slice(1) : l, 'hex');
    const missing = /^\[(\d+) bytes missing in capture file\]\0?$/.exec(bytes.toString('latin1'));
    if (missing) gaps[node].push(Number(missing[1]));
    else c[node].push(bytes);
  }
  return { node0, node1, data0: Buffer.concat(c[0]), data1: Buffer.concat(c[1]), gaps0: gaps[0], gaps1: gaps[1] };
}
