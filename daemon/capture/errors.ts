/**
 * Errors a user can act on: they name the input and the reason, and the CLI prints them as one
 * line (no stack) with exit code 2.
 */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
    /** Further lines (one per rule-file error): kept apart so the CLI can escape each as a line of its own. */
    readonly details: string[] = [],
  ) {
    super(`${source === '-' ? 'standard input' : source}: ${reason}${details.map((d) => `\n${d}`).join('')}`);
    this.name = 'InputError';
  }
}
