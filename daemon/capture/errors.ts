/**
 * Errors a user can act on: they name the input and the reason, and the CLI prints them as one
 * line (no stack) with exit code 2.
 */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source === '-' ? 'standard input' : source}: ${reason}`);
    this.name = 'InputError';
  }
}
