/** Runs the engine on a capture and collects its protocol events and flow records. */
import { analyzeCapture } from '../../daemon/analysis/analyze.js';
import type { ProtocolEvent } from '../../daemon/protocols/events.js';
import { DEFAULT_CONFIG, type EngineConfig } from '../../daemon/analysis/config.js';
import type { AnalysisReport } from '../../daemon/report/types.js';

export async function eventsOf(file: string, config?: Partial<EngineConfig>): Promise<{ events: ProtocolEvent[]; report: AnalysisReport }> {
  const events: ProtocolEvent[] = [];
  const report = await analyzeCapture(file, { events: (e) => events.push(e), config: { ...DEFAULT_CONFIG, ...config } });
  return { events, report };
}

export interface OracleRow {
  frame: number;
  src: string;
  dst: string;
  /** Columns between the addresses and the fields (e.g. "1/2", "CONNECT"). */
  cols: string[];
  fields: Map<string, string>;
  flags: Set<string>;
  raw: string;
}

/**
 * Rows of one "## SECTION" table of a corpus tshark.txt. Fields are `key=value` tokens; a quoted
 * payload="..." and the "! expert" tail are set aside; bare upper-case words become flags.
 */
export function oracleRows(text: string, section: string): OracleRow[] {
  const start = text.indexOf(`## ${section}`);
  if (start < 0) return [];
  const body = text.slice(start).split('\n').slice(2);
  const rows: OracleRow[] = [];
  for (const line of body) {
    if (line.startsWith('## ') || line.trim() === '') break;
    const parts = line.split(' | ');
    const frame = Number(parts[0]);
    const [src, dst] = parts[1].split(' -> ');
    const rest = parts.slice(2);
    let fieldText = rest.pop() ?? '';
    const bang = fieldText.indexOf(' ! ');
    if (bang >= 0) fieldText = fieldText.slice(0, bang);
    if (fieldText.startsWith('! ')) fieldText = '';
    // A quoted payload may itself hold quotes (JSON): it ends before the next "key=" or the end.
    fieldText = fieldText.replace(/payload=".*?"(?= [A-Za-z_][\w.()]*=|$)/g, '');
    // Long values are shortened to "prefix...(len N)": keep that in one token.
    fieldText = fieldText.replace(/\.\.\.\(len (\d+)\)/g, '...(len:$1)');
    const fields = new Map<string, string>();
    const flags = new Set<string>();
    // Values may hold spaces (mDNS instance names, user agents): a token starts at "key=".
    for (let tok of fieldText.trim().split(/ (?=[A-Za-z_][\w.()]*=)/).filter(Boolean)) {
      let m: RegExpExecArray | null;
      while ((m = / ([A-Z][A-Z_]{3,})$/.exec(tok))) {
        flags.add(m[1]);
        tok = tok.slice(0, m.index);
      }
      const eq = tok.indexOf('=');
      if (eq > 0) fields.set(tok.slice(0, eq), tok.slice(eq + 1));
      else if (/^[A-Z_]+$/.test(tok)) flags.add(tok);
    }
    rows.push({ frame, src, dst, cols: rest, fields, flags, raw: line });
  }
  return rows;
}
