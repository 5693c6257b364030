/**
 * Text from the network (DHCP, mDNS, SNI host names; file names; rule files) reaches terminals
 * and syslog. An ESC in a host name would recolour or erase the terminal, a newline would forge a
 * summary or syslog line. Every human and syslog output passes such text through here.
 */

/** C0 controls, DEL and C1 controls (U+0080-U+009F, which terminals also obey, e.g. U+009B CSI). */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces each control character with a visible `\xHH` (or `\n`, `\r`, `\t`) escape. */
export function escapeControls(s: string): string {
  return s.replace(CONTROLS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
