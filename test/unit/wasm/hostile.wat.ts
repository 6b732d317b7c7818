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

/**
 * Calls alone, no loops: `$f0` is a leaf and each `$f<k>` calls `$f<k-1>` twice, so calling the
 * last of `n` functions makes 2^n - 1 calls (2^64 for n = 64: only fuel stops it).
 */
export function doublingChain(n: number): string {
  const fns = ['(func $f0 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))'];
  for (let k = 1; k < n; k++) fns.push(`(func $f${k} (param i32) (result i32) (call $f${k - 1} (call $f${k - 1} (local.get 0))))`);
  return hostile(`(drop (call $f${n - 1} (i32.const 0))) (i64.const 0)`, fns.join('\n  '));
}

/** Three functions calling each other in a ring, without end and without loops. */
export const mutualRecursion = hostile('(drop (call $ra (i32.const 0))) (i64.const 0)', `
  (func $ra (param i32) (result i32) (i32.add (call $rb (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $rb (param i32) (result i32) (i32.add (call $rc (i32.add (local.get 0) (i32.const 2))) (i32.const 1)))
  (func $rc (param i32) (result i32) (i32.add (call $ra (i32.add (local.get 0) (i32.const 3))) (i32.const 1)))`);

/** A function that calls itself through a table (no direct call edge to see). */
export const indirectRecursion = hostile('(drop (call $ri (i32.const 0))) (i64.const 0)', `
  (type $ri_t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $ri)
  (func $ri (param i32) (result i32)
    (i32.add (call_indirect (type $ri_t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)) (i32.const 1)))`);

/** Recursion from inside a loop body: each level pays at its loop header, not at its entry. */
export const recursionInLoop = hostile('(call $rl (i32.const 1)) (i64.const 0)', `
  (func $rl (param $go i32) (local $i i32)
    (loop $again
      (call $rl (local.get $go))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.and (local.get $go) (i32.lt_u (local.get $i) (i32.const 3))))))`);
