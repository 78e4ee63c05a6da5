import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFullySync } from '../fs/durable.js';

/**
 * Records that arrive in one order (rows as they finish) and must come out in another (input
 * line order), with flat memory: each record goes to a spool file on disk at once; memory keeps
 * only a compact index (20 bytes a record in typed arrays, like the journal's index), so 100,000
 * rows cost about 2 MB however long their records are. `sorted()` reads them back by key, in
 * large blocks (rows finish nearly in input order, so a block serves many records in a row).
 *
 * The spool is made beside `near` (same disk: a full disk fails during the run, not at the end),
 * else in the temp directory, and is unlinked as soon as it is open (POSIX), so a crash leaves
 * nothing behind. Errors are Node's own; the caller words them and names its file.
 */
export class OrderedSpool {
  readonly #fd: number;
  readonly #path: string;
  #keys = new Float64Array(1024);
  #offsets = new Float64Array(1024);
  #lengths = new Uint32Array(1024);
  #count = 0;
  #size = 0;
  #inOrder = true;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #closed = false;

  constructor(near: string) {
    const name = `.${basename(near)}.${process.pid}.${randomBytes(6).toString('hex')}.spool`;
    let path = join(dirname(near), name);
    let fd: number;
    try {
      fd = openSync(path, 'wx+', 0o600);
    } catch {
      // The report's directory cannot hold it (a device such as /dev/stdout, a read-only place).
      path = join(tmpdir(), name);
      fd = openSync(path, 'wx+', 0o600);
    }
    this.#fd = fd;
    this.#path = path;
    if (process.platform !== 'win32') this.#unlink();
  }

  /** Records so far. */
  get count(): number {
    return this.#count;
  }

  /** Add one record under its key (an input line number). */
  add(key: number, text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    if (this.#count === this.#keys.length) this.#grow();
    if (this.#count > 0 && key < this.#keys[this.#count - 1]!) this.#inOrder = false;
    this.#keys[this.#count] = key;
    this.#offsets[this.#count] = this.#size;
    this.#lengths[this.#count] = bytes.length;
    this.#count++;
    this.#size += bytes.length;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= 256 * 1024) this.flush();
  }

  /** Write what is buffered to the spool file. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    writeFullySync(this.#fd, bytes);
  }

  /**
   * Every record in key order (equal keys keep their arrival order), as chunks of about 256 KiB of
   * whole records, ready to write.
   */
  *sorted(): Generator<Buffer> {
    this.flush();
    const order = new Uint32Array(this.#count);
    for (let index = 0; index < this.#count; index++) order[index] = index;
    if (!this.#inOrder) {
      const keys = this.#keys;
      order.sort((a, b) => keys[a]! - keys[b]! || a - b);
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    let block = Buffer.alloc(0);
    let blockStart = 0;
    // Reads adapt: large blocks while each serves many records (nearly in order), small ones when
    // records come from all over the spool (many rows finished late), so no order reads it all twice.
    let blockSize = 64 * 1024;
    let served = 0;
    for (const index of order) {
      const offset = this.#offsets[index]!;
      const length = this.#lengths[index]!;
      if (offset < blockStart || offset + length > blockStart + block.length) {
        blockSize = served >= 4 ? Math.min(blockSize * 2, 1024 * 1024) : Math.max(blockSize / 2, 4096);
        served = 0;
        const size = Math.max(blockSize, length);
        const buffer = Buffer.allocUnsafe(Math.min(size, this.#size - offset));
        let read = 0;
        while (read < buffer.length) {
          const got = readSync(this.#fd, buffer, read, buffer.length - read, offset + read);
          if (got <= 0) break;
          read += got;
        }
        block = buffer.subarray(0, read);
        blockStart = offset;
      }
      served++;
      const record = block.subarray(offset - blockStart, offset - blockStart + length);
      out.push(record);
      outBytes += length;
      if (outBytes >= 256 * 1024) {
        yield Buffer.concat(out, outBytes);
        out.length = 0;
        outBytes = 0;
      }
    }
    if (outBytes > 0) yield Buffer.concat(out, outBytes);
  }

  /** Close and remove the spool file (idempotent). */
  dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      closeSync(this.#fd);
    } catch {
      // nothing more to do with it
    }
    this.#unlink();
  }

  #unlink(): void {
    try {
      unlinkSync(this.#path);
    } catch {
      // already gone
    }
  }

  #grow(): void {
    const size = this.#keys.length * 2;
    const keys = new Float64Array(size);
    keys.set(this.#keys);
    const offsets = new Float64Array(size);
    offsets.set(this.#offsets);
    const lengths = new Uint32Array(size);
    lengths.set(this.#lengths);
    this.#keys = keys;
    this.#offsets = offsets;
    this.#lengths = lengths;
  }
}
