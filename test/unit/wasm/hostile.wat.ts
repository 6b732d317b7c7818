// Hostile plugin modules in WAT. Each one is a working plugin (bump allocator, init, a good
// `pre_hook`) whose `http_pre_hook` misbehaves in one way. Calling `http_pre_hook` sets a
// "poisoned" global first, and `pre_hook` traps on a poisoned instance: so a good `pre_hook` call
// after a failure proves the host threw the old instance away and built (and init-ed) a new one.

const OK_OUTPUT = '{"context":{"ok":true},"request":null}';

export function hostile(body: string, extra = '', imports = ''): string {
  return `(module
  ${imports}
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (global $poisoned (mut i32) (i32.const 0))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.and (i32.add (i32.add (global.get $bump) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (block $done (loop $more
      (br_if $done (i32.le_u (global.get $bump) (i32.shl (memory.size) (i32.const 16))))
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
      (br $more)))
    (local.get $p))
  (func (export "free") (param i32))
  (func (export "init") (param i32 i32) (result i32) (i32.const 0))
  (data (i32.const 16) ${JSON.stringify(OK_OUTPUT)})
  (func (export "pre_hook") (param i32 i32) (result i64)
    (if (global.get $poisoned) (then unreachable))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const ${OK_OUTPUT.length})))
  ${extra}
  (func (export "http_pre_hook") (param $p i32) (param $n i32) (result i64)
    (global.set $poisoned (i32.const 1))
    ${body}))`;
}

/** Returns a constant output placed at 2048 (as bytes in WAT string syntax). */
export function returns(watString: string, len: number): string {
  return hostile(`(i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const ${len}))`, `(data (i32.const 2048) "${watString}")`);
}

/** An AssemblyScript string object: u32 byte length at ptr-4, then UTF-16LE. */
export function asString(ptr: number, s: string): string {
  const bytes: number[] = [];
  const len = s.length * 2;
  bytes.push(len & 255, (len >> 8) & 255, 0, 0);
  for (const ch of s) { const c = ch.charCodeAt(0); bytes.push(c & 255, c >> 8); }
  return `(data (i32.const ${ptr - 4}) "${bytes.map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}")`;
}
