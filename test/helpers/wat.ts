/**
 * The bump allocator the hand-written WAT test plugins share: a `$bump` global starting at
 * `start`, and an exported `malloc` that grows memory when an allocation passes its end.
 * (Each module still declares its own `memory` and `free`.)
 */
export function bumpMalloc(start: number): string {
  return `(global $bump (mut i32) (i32.const ${start}))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $n)))
    (if (i32.gt_u (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))))))
    (local.get $p))`;
}
