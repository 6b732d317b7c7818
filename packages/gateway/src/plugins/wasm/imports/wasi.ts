/**
 * wasi_snapshot_preview1, the subset a sandboxed plugin may use: stdout/stderr (to the gateway log,
 * line by line), clocks, random, args/environ (both empty), proc_exit. No preopened directories,
 * so every path call fails with ENOTCAPABLE; no sockets (ENOSYS).
 *
 * Written here rather than taken from node:wasi because node:wasi prints an ExperimentalWarning,
 * writes to the real fds 1/2 (we need lines tagged with the plugin name), and cannot be moved into
 * a worker's custom import object cheaply. Every preview1 name is present so a module importing
 * one we do not implement still links; the call then answers ENOSYS like a restricted host would.
 */
import { getRandomValues } from 'node:crypto';

import { LOG_LINE_MAX } from '../limits.js';
import type { OutputBudget } from '../output-budget.js';

const ESUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOSYS = 52;
const ESPIPE = 70;
const ENOTCAPABLE = 76;

export const WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
]);

/** Thrown by `proc_exit`; the caller decides whether the exit was normal (code 0 during start-up). */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
    this.name = 'ProcExit';
  }
}

export type Stream = 'stdout' | 'stderr';

/** What the WASI functions need from the instance that owns them. */
export interface GuestIO {
  memory(): WebAssembly.Memory;
  print(stream: Stream, line: string): void;
}

/**
 * Splits the plugin's writes into lines; keeps partial lines until a newline or a flush. Bytes and
 * lines past the plugin's output budget are dropped before they are decoded (output-budget.ts).
 */
export class LineBuffer {
  private partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly decoder = new TextDecoder('utf-8'); // lossy on purpose: logs, not data

  constructor(private readonly emit: (stream: Stream, line: string) => void, private readonly budget?: OutputBudget) {}

  write(stream: Stream, bytes: Uint8Array): void {
    let chunk = bytes;
    if (this.budget) {
      const n = this.budget.admitBytes(chunk.length);
      if (n === 0) return;
      if (n < chunk.length) chunk = chunk.subarray(0, n);
    }
    let text = this.partial[stream] + this.decoder.decode(chunk);
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.line(stream, text.slice(0, Math.min(nl, LOG_LINE_MAX)));
      text = text.slice(nl + 1);
    }
    this.partial[stream] = text.length > LOG_LINE_MAX ? (this.line(stream, text.slice(0, LOG_LINE_MAX)), '') : text;
  }

  flush(): void {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.line(s, this.partial[s]);
      this.partial[s] = '';
    }
  }

  private line(stream: Stream, text: string): void {
    if (!this.budget || this.budget.admitLine(text.length)) this.emit(stream, text);
  }
}

export function wasiImports(io: GuestIO, lines: LineBuffer): Record<string, (...args: never[]) => unknown> {
  const view = (): DataView => new DataView(io.memory().buffer);
  const bytes = (): Uint8Array => new Uint8Array(io.memory().buffer);
  const nosys = (): number => ENOSYS;
  const notcapable = (): number => ENOTCAPABLE;
  const isStd = (fd: number): boolean => fd >= 0 && fd <= 2;

  const imports: Record<string, (...args: never[]) => unknown> = {
    args_sizes_get: (argc: number, bufSize: number) => { const v = view(); v.setUint32(argc, 0, true); v.setUint32(bufSize, 0, true); return ESUCCESS; },
    args_get: () => ESUCCESS,
    environ_sizes_get: (count: number, bufSize: number) => { const v = view(); v.setUint32(count, 0, true); v.setUint32(bufSize, 0, true); return ESUCCESS; },
    environ_get: () => ESUCCESS,
    clock_res_get: (id: number, out: number) => {
      if (id > 3) return EINVAL;
      view().setBigUint64(out, id === 0 ? 1_000_000n : 1_000n, true);
      return ESUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      if (id > 3) return EINVAL;
      const ns = id === 0
        ? BigInt(Date.now()) * 1_000_000n
        : process.hrtime.bigint();
      view().setBigUint64(out, ns, true);
      return ESUCCESS;
    },
    random_get: (ptr: number, len: number) => {
      const mem = bytes();
      if (ptr + len > mem.length) throw new RangeError('random_get: buffer out of bounds');
      for (let off = 0; off < len; off += 65536) getRandomValues(mem.subarray(ptr + off, ptr + Math.min(len, off + 65536)));
      return ESUCCESS;
    },
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      if (fd !== 1 && fd !== 2) return EBADF;
      const v = view();
      const mem = bytes();
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > mem.length) throw new RangeError('fd_write: iovec out of bounds');
        lines.write(fd === 1 ? 'stdout' : 'stderr', mem.subarray(ptr, ptr + len));
        total += len;
      }
      v.setUint32(nwritten, total, true);
      return ESUCCESS;
    },
    fd_read: (fd: number, _iovs: number, _iovsLen: number, nread: number) => {
      if (fd !== 0) return EBADF;
      view().setUint32(nread, 0, true); // stdin is always at end of file
      return ESUCCESS;
    },
    fd_fdstat_get: (fd: number, out: number) => {
      if (!isStd(fd)) return EBADF;
      const v = view();
      v.setUint8(out, 2); // character device
      v.setUint16(out + 2, 0, true);
      // rights: fd_read (bit 1) for stdin, fd_write (bit 6) for stdout/stderr
      v.setBigUint64(out + 8, fd === 0 ? 2n : 64n, true);
      v.setBigUint64(out + 16, 0n, true);
      return ESUCCESS;
    },
    fd_fdstat_set_flags: (fd: number) => (isStd(fd) ? ESUCCESS : EBADF),
    fd_prestat_get: () => EBADF, // no preopened directories: this ends libc's preopen scan
    fd_prestat_dir_name: () => EBADF,
    fd_close: (fd: number) => (isStd(fd) ? ESUCCESS : EBADF),
    fd_seek: (fd: number) => (isStd(fd) ? ESPIPE : EBADF),
    fd_tell: (fd: number) => (isStd(fd) ? ESPIPE : EBADF),
    fd_sync: (fd: number) => (isStd(fd) ? ESUCCESS : EBADF),
    fd_datasync: (fd: number) => (isStd(fd) ? ESUCCESS : EBADF),
    proc_exit: (code: number) => {
      lines.flush();
      throw new ProcExit(code >>> 0);
    },
    proc_raise: nosys,
    sched_yield: () => ESUCCESS,
    poll_oneoff: nosys,
  };
  for (const name of WASI_FUNCTIONS) {
    if (imports[name]) continue;
    imports[name] = name.startsWith('path_') ? notcapable : name.startsWith('fd_') ? (() => EBADF) : nosys;
  }
  return imports;
}
