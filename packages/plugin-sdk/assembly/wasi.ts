// The two WASI functions the SDK uses: the clock and writing a line to stdout/stderr (the host
// sends those lines to its log, tagged with the plugin's name). Imported only when used.

@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;
const scratch = memory.data(16);

function clock(id: u32): u64 {
  if (clock_time_get(id, 1000, scratch) != 0) return 0;
  return load<u64>(scratch);
}

/** Wall-clock time in milliseconds since the Unix epoch. */
export function nowMs(): f64 {
  return <f64>clock(REALTIME) / 1e6;
}

/** A monotonic clock in milliseconds (only differences are meaningful). */
export function monotonicMs(): f64 {
  return <f64>clock(MONOTONIC) / 1e6;
}

function write(fd: u32, line: string): void {
  const bytes = String.UTF8.encode(line + "\n");
  store<u32>(scratch, changetype<usize>(bytes));
  store<u32>(scratch + 4, <u32>bytes.byteLength);
  fd_write(fd, scratch, 1, scratch + 8);
}

/** Writes a line to the gateway's log (info level). */
export function log(line: string): void {
  write(1, line);
}

/** Writes a line to the gateway's log (warn level); lines written during a failing `init` are in its error. */
export function logError(line: string): void {
  write(2, line);
}
