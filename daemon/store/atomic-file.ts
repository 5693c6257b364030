/**
 * Files that are never seen half-written: the new content goes to a temporary file in the same
 * folder, is flushed to the disk (fsync), then renamed over the old one (rename(2) is atomic on
 * one file system), and the folder is flushed so that the rename itself survives a power cut.
 * A reader sees the old file or the new one, whatever kills the writer and when.
 */
import fs from 'node:fs';
import path from 'node:path';

let sequence = 0;

/**
 * The error with the target's name where it had the temporary file's: each attempt has its own
 * temporary name, and a message that changed at every retry would be logged at every retry.
 */
function naming(e: unknown, tmp: string, file: string): unknown {
  if (e instanceof Error && e.message.includes(tmp)) e.message = e.message.split(tmp).join(file);
  return e;
}

export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, 'w', mode);
  } catch (e) {
    throw naming(e, tmp, file);
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    // A full disk can fail the close too: the temporary file is removed whatever happens.
    await fh.close().catch(() => {});
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw naming(e, tmp, file);
  }
  try {
    await fh.close();
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw naming(e, tmp, file);
  }
  await syncDir(path.dirname(file));
}

/** The same, synchronously: for `vigie passwd` and for the last write before exit. */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++sequence}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  try {
    const d = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(d);
    fs.closeSync(d);
  } catch {
    // Some file systems refuse fsync on a folder: the rename is still atomic.
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await fs.promises.open(dir, 'r');
    await d.sync();
    await d.close();
  } catch {
    // As above.
  }
}

/** Temporary files a killed writer left behind. */
export function removeStaleTemporaries(file: string): number {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(prefix) && f.endsWith('.tmp')) {
      fs.rmSync(path.join(dir, f), { force: true });
      n++;
    }
  }
  return n;
}

/**
 * Moves an unreadable file aside, never deleting it: `name.corrupt-<UTC time>`. Returns the new
 * path (the person reading the log can look at it, or send it with a bug report).
 */
export function setAside(file: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let i = 1; fs.existsSync(target); i++) target = `${file}.corrupt-${stamp}-${i}`;
  fs.renameSync(file, target);
  return target;
}
