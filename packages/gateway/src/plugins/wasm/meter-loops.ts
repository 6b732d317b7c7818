/**
 * The text rewrite behind fuel metering (meter.ts): binaryen's folded text form of a module that
 * went through `log-execution` in, the metered text out. Runs in meter.ts's helper process,
 * serialised with Function.prototype.toString, so `instrumentText` is one self-contained plain
 * JavaScript function: no imports, no closures over module scope, only nested functions.
 *
 * Each function is parsed into a tree (binaryen's text is regular: parentheses, atoms, `$names`,
 * no strings inside function bodies), rewritten, and printed back on one line.
 *
 * Accounting (fuel bounds "calls + loop iterations"):
 * - the counter lives in a local of each function (`$…_fc`, a register, not a memory access);
 *   a loop header decrements it and, when it goes below zero, refills it with `batch` units
 *   taken from the exported global (`$…_refill` traps when the global goes below zero). The
 *   local starts at 0, so an activation pays its first batch at its first metered iteration;
 * - a *bounded* loop (below) pays its whole trip count at entry instead and runs a copy without
 *   the per-iteration check; early exits give back the unused part;
 * - a function pays 1 at entry unless its unpaid call tree is small (below).
 *
 * Entry charges. A *paying loop* is one that keeps its header site and has a branch back: every
 * visit of its header is paid (per iteration, or prepaid for a bounded loop). Split a call's
 * execution into *segments*: an activation's entry segment runs the code outside its paying
 * loops, one iteration segment per header visit runs one pass of a loop body (nested paying
 * loops excluded). Wasm has no back edge other than a loop's, so a segment runs each instruction
 * of its region at most once: its length and its number of calls are bounded by the function's
 * size. Iteration segments are paid. An entry segment is paid when its function is *charged*.
 * For the others (*free*), define over the call sites outside paying loops
 *   W(f) = 1 + Σ W(g) over direct calls to free functions g (+1 per call to an import: host code),
 * and make f free only when W(f) ≤ K (o.maxFreeTree), f makes no indirect call (call_indirect,
 * call_ref: callee unknown) there, and the free functions form no cycle there (a DFS over those
 * edges charges the target of each back edge, so every cycle has a charged member; recursion
 * pays at each turn). Then the unpaid segments started from any segment, directly or through
 * free calls, number at most W of each free callee ≤ K per call site: every unpaid segment hangs
 * under a paid one, at most (calls per segment) × K of them, each bounded by its function's size.
 * So fuel still bounds the work, a unit standing for up to ~K small function bodies (like one
 * iteration of a large loop body). Calls inside paying loops add nothing to W (indirect ones
 * included): each is preceded by its own paid header visit and reaches either a charged function
 * or a free one with W ≤ K. A free function may have loops: they pay per header visit, its entry
 * segment is in its caller's tree. A leaf function has W = 1 and is always free.
 * Example: a chain where $f<k> calls $f<k-1> twice (2^64 calls for 64 functions, no loops): with
 * K = 32, $f0..$f4 (W = 31) are free, $f5 (W = 63) pays, $f6 counts $f5 as 0, so W = 1, and so
 * on: one unit per 63 calls at most (a charged $f5 and its two free subtrees).
 *
 * Bounded loops. A loop $L is bounded when there is an i32 induction local $i and a bound N
 * (`(local.get $n)` with $n never written inside L and $n ≠ $i, or an `(i32.const k)`) such that
 * 1. inside L, $i is written only as `local.set/tee $i (i32.add (local.get $i) (i32.const c))`,
 *    1 ≤ c, none of those inside a loop nested in L; C, the sum of all such c, is ≤ 65536;
 * 2. L is top-tested (its body is one `(if TEST (then …))` without else) or bottom-tested (its
 *    last statement is `(br_if $L TEST)`, the only branch to $L), with TEST `i <u N` / `i <s N`
 *    (or `N >u i` / `N >s i`), i being `(local.get $i)` or the increment `(local.tee $i …)`;
 * 3. every branch back to $L comes after at least one increment of $i since the header (a
 *    "definitely incremented" flag computed by a walk in execution order); no br_table to $L.
 * Or, *tested in the middle* (serde_json: `if p + i == end {…leave…}; i += 1; if !special(p[i])
 * {continue}`): on every path to every branch back, a test on i (a `br_if` or an `if`, either
 * polarity; also `p + i != e` = `i != e − p` with p, e never written in L) passed and i was
 * incremented after it (a second flag in the same walk); N is never written in L. Each header
 * visit that leads to a branch back then saw `i_test <(=) N` (or ≠) with i_test ≥ i at the header
 * and raised i after it, so the count is that of a top-tested loop, and so are the formulas.
 * Such a loop becomes
 *   (if (i32.and GUARD (i32.le_u TRIP fuel)) (then fuel -= TRIP; UNMETERED-COPY) (else METERED-L))
 * with GUARD = i, n ≤ 0x7FFEFFFF at entry and TRIP = ceil(max(n − i, 0) / s) + 1 where s is the
 * smallest step (rounded down to a power of two).
 * Why that is safe: under GUARD, i only grows, by at most C per iteration, so it stays below
 * 2^31 and `<s` agrees with `<u`; each iteration of the copy raises i by ≥ s before it returns to
 * the header, and the copy leaves once i ≥ n, so it visits its header at most TRIP times, all
 * paid at entry. Everything else the copy does (calls, nested loops) is metered on its own.
 * A refund of ceil(max(n − i, 0) / s) at an exit (each `br`/`br_if` without a value to a label
 * outside L, each `return`, and the fall-through end of a top-tested loop) never exceeds the
 * charge, because i only grew since the entry, and still leaves at least one unit per header
 * visit made. Branches with values and br_table out of L do not refund (overcharging is safe).
 * Without enough fuel, or when GUARD fails, the metered original runs and traps exactly as
 * before. A loop that does not match keeps the per-iteration check, so this never weakens the
 * bound.
 */

type SNode = string | SNode[];

export interface TextOptions {
  /** Name of the log-execution import (without `$`) and the module it is imported from. */
  hook: string;
  hookModule: string;
  /** A prefix no name in the module starts with (fresh names are `$<prefix>_…`). */
  prefix: string;
  fuelExport: string;
  startFuel: number;
  batch: number;
  /** Charge bounded loops at entry (off: every loop header checks the counter). */
  bounded: boolean;
  /** K: a function whose unpaid call tree has at most this many activations pays nothing at entry. */
  maxFreeTree: number;
}

export interface TextStats {
  functions: number; loops: number; bounded: number;
  /** Functions that pay 1 at entry. */
  charged: number;
  /** Why loops kept their per-iteration check, by reason. */
  rejected: Record<string, number>;
  /** The verdict per loop, by the id of its log-execution site (diagnostics). */
  verdicts: Record<string, string>;
}

export function instrumentText(text: string, o: TextOptions): { text: string; stats: TextStats } {
  const hook = `$${o.hook}`;
  const p = o.prefix;
  const G = `$${p}_fuel`;
  const FC = `$${p}_fc`;
  const A = `$${p}_a`;
  const B = `$${p}_b`;
  const T = `$${p}_t`;
  const stats: TextStats = { functions: 0, loops: 0, bounded: 0, charged: 0, rejected: {}, verdicts: {} };
  let siteId = '';
  let fresh = 0;
  /** Locals the current function needs besides the counter and the scratch ones. */
  const extraLocals: string[] = [];
  const esc = o.hook.replace(/[$^\\.*+?()[\]{}|]/g, '\\$&');
  const importLine = new RegExp(`\\n\\s*\\(import "${o.hookModule}" "log_execution" \\(func \\$${esc} [^\\n]*\\)\\)`);
  if (!importLine.test(text)) throw new Error('log_execution import not found in text');

  // ---- s-expressions ----
  function parse(s: string): { node: SNode[]; end: number } {
    const stack: SNode[][] = [];
    let cur: SNode[] | null = null;
    let i = 0;
    const n = s.length;
    while (i < n) {
      const ch = s.charCodeAt(i);
      if (ch === 40) { // (
        if (s.charCodeAt(i + 1) === 59) { // (; block comment ;)
          const e = s.indexOf(';)', i + 2);
          if (e < 0) throw new Error('unterminated comment');
          i = e + 2;
          continue;
        }
        const l: SNode[] = [];
        if (cur) cur.push(l);
        stack.push(l);
        cur = l;
        i++;
        continue;
      }
      if (ch === 41) { // )
        const done = stack.pop();
        if (!done) throw new Error('unbalanced parenthesis');
        i++;
        if (stack.length === 0) return { node: done, end: i };
        cur = stack[stack.length - 1]!;
        continue;
      }
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13) { i++; continue; }
      if (ch === 59 && s.charCodeAt(i + 1) === 59) { // ;; line comment
        const e = s.indexOf('\n', i);
        i = e < 0 ? n : e;
        continue;
      }
      let j = i;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 40 || c === 41) break;
        if (c === 34) { // a string or a quoted $"name"
          j++;
          while (j < n && s.charCodeAt(j) !== 34) j += s.charCodeAt(j) === 92 ? 2 : 1;
        }
        j++;
      }
      if (!cur) throw new Error('atom outside a list');
      cur.push(s.slice(i, j));
      i = j;
    }
    throw new Error('unbalanced parenthesis');
  }
  function print(node: SNode, out: string[]): void {
    if (typeof node === 'string') { out.push(node); return; }
    out.push('(');
    for (let i = 0; i < node.length; i++) {
      if (i > 0) out.push(' ');
      print(node[i]!, out);
    }
    out.push(')');
  }
  function clone(node: SNode): SNode {
    return typeof node === 'string' ? node : node.map(clone);
  }
  const isList = (x: SNode | undefined): x is SNode[] => Array.isArray(x);
  const head = (x: SNode | undefined): string | undefined => (isList(x) && typeof x[0] === 'string' ? x[0] : undefined);
  const isName = (x: SNode | undefined): x is string => typeof x === 'string' && x.charCodeAt(0) === 36;
  const isClause = (x: SNode | undefined): boolean => {
    const h = head(x);
    return h === 'result' || h === 'type' || h === 'param';
  };
  /** Index of the first body item of a block/loop (after its label and type clauses). */
  function bodyStart(x: SNode[]): number {
    let k = isName(x[1]) ? 2 : 1;
    while (k < x.length && isClause(x[k])) k++;
    return k;
  }
  const isSite = (x: SNode | undefined): boolean =>
    isList(x) && x.length === 3 && x[0] === 'call' && x[1] === hook && head(x[2]) === 'i32.const';
  /** An unnamed block without type clauses: pure grouping. */
  const isPlainBlock = (x: SNode | undefined): x is SNode[] => head(x) === 'block' && bodyStart(x as SNode[]) === 1;
  const CALLS = new Set(['call', 'call_indirect', 'call_ref', 'return_call', 'return_call_indirect', 'return_call_ref']);
  const EXITS = new Set(['return', 'unreachable', 'return_call', 'return_call_indirect', 'return_call_ref', 'throw', 'throw_ref', 'rethrow']);
  const UNKNOWN_CONTROL = /^(br_on|try|catch|delegate|resume|suspend|switch|cont\.)/;
  const MAX_GUARD = 0x7ffeffff;
  const MAX_STEP_SUM = 65536;
  /** A loop this large (in nodes, after its own nested loops were handled) is not duplicated. */
  const MAX_COPY_NODES = 4000;
  /** Deeper chains of direct calls are not followed: the function at this depth pays at entry. */
  const MAX_CALL_DEPTH = 1000;

  const get = (name: string): SNode[] => ['local.get', name];
  const i32 = (v: number): SNode[] => ['i32.const', String(v)];
  /** ceil(max(n - i, 0) / 2^shift) */
  function remaining(iv: SNode[], nv: SNode, shift: number): SNode[] {
    const d: SNode[] = ['select', ['i32.sub', clone(nv), clone(iv)], i32(0), ['i32.gt_u', clone(nv), clone(iv)]];
    return shift === 0 ? d : ['i32.shr_u', ['i32.add', d, i32((1 << shift) - 1)], i32(shift)];
  }
  function count(x: SNode): number {
    if (typeof x === 'string') return 1;
    let n = 1;
    for (const c of x) n += count(c);
    return n;
  }
  const reject = (why: string): null => {
    stats.rejected[why] = (stats.rejected[why] ?? 0) + 1;
    stats.verdicts[siteId] = why;
    return null;
  };

  /**
   * TEST as a condition on an induction variable, or null:
   * - `lt`: i <u N, i <s N, N >u i, N >s i;  `le`: i <=u N, i <=s N, N >=u i, N >=s i
   *   (N a `local.get` or an `i32.const` ≤ MAX_GUARD);
   * - `ne`: i != N, N != i, i + K (non-zero: i != -K), i - K (i != K)
   *   (N and K a `local.get` or an `i32.const`);
   * where i is `(local.get $i)` or the increment `(local.tee $i (i32.add (local.get $i) (i32.const c)))`.
   * `key` tells two tests of the same kind on the same i and N apart from others.
   */
  function exitTest(test: SNode | undefined, ind?: (name: string) => boolean, fixed?: (name: string) => boolean): { kind: 'lt' | 'le' | 'ne'; iv: string; n: SNode[]; nvar: string | null; key: string } | null {
    if (!isList(test) || test.length !== 3) return null;
    const op = test[0];
    const ivOf = (x: SNode | undefined): string | null => {
      if (head(x) === 'local.get' && (x as SNode[]).length === 2 && isName((x as SNode[])[1])) return (x as SNode[])[1] as string;
      if (head(x) === 'local.tee' && increment(x as SNode[])) return (x as SNode[])[1] as string;
      return null;
    };
    const leaf = (x: SNode | undefined): x is SNode[] => isList(x) && x.length === 2 &&
      ((x[0] === 'local.get' && isName(x[1])) || (x[0] === 'i32.const' && typeof x[1] === 'string' && /^-?\d+$/.test(x[1])));
    const make = (kind: 'lt' | 'le' | 'ne', i: SNode | undefined, n: SNode[]): ReturnType<typeof exitTest> => {
      const iv = ivOf(i);
      if (!iv) return null;
      const nvar = n[0] === 'local.get' ? n[1] as string : null;
      if (nvar === iv || (nvar === null && n[0] === 'local.get')) return null;
      const out: string[] = [];
      print(n, out);
      return { kind, iv, n, nvar, key: `${kind} ${iv} ${out.join('')}` };
    };
    let kind: 'lt' | 'le' | null = null;
    let swap = false;
    if (op === 'i32.lt_u' || op === 'i32.lt_s') kind = 'lt';
    else if (op === 'i32.gt_u' || op === 'i32.gt_s') { kind = 'lt'; swap = true; }
    else if (op === 'i32.le_u' || op === 'i32.le_s') kind = 'le';
    else if (op === 'i32.ge_u' || op === 'i32.ge_s') { kind = 'le'; swap = true; }
    if (kind) {
      const i = swap ? test[2] : test[1];
      const n = swap ? test[1] : test[2];
      if (!leaf(n)) return null;
      if (n[0] === 'i32.const' && !(/^\d+$/.test(n[1] as string) && Number(n[1]) <= MAX_GUARD)) return null;
      return make(kind, i, n);
    }
    if (op === 'i32.ne' && ind && fixed) {
      // `p + i != e` (serde_json's `ptr + i != end`), i.e. i != e - p, with p and e never written
      // in the loop (the sum may be teed to a scratch local).
      for (const [a, k] of [[test[1], test[2]], [test[2], test[1]]] as const) {
        const sum = head(a) === 'local.tee' && (a as SNode[]).length === 3 ? (a as SNode[])[2] : a;
        if (head(sum) !== 'i32.add' || (sum as SNode[]).length !== 3 || !leaf(k) || (k[0] === 'local.get' && !fixed(k[1] as string))) continue;
        const [, l, r] = sum as SNode[];
        for (const [i, q] of [[l, r], [r, l]] as const) {
          if (head(i) !== 'local.get' || head(q) !== 'local.get' || !isName((i as SNode[])[1]) || !isName((q as SNode[])[1])) continue;
          const iname = (i as SNode[])[1] as string;
          const qname = (q as SNode[])[1] as string;
          if (iname === qname || (k[0] === 'local.get' && (k[1] === iname || k[1] === qname)) || !ind(iname) || !fixed(qname)) continue;
          return make('ne', i, ['i32.sub', clone(k) as SNode[], clone(q) as SNode[]]);
        }
      }
    }
    if (op === 'i32.ne' || op === 'i32.add') {
      // Either operand may be the induction variable.
      for (const [i, k] of [[test[1], test[2]], [test[2], test[1]]] as const) {
        if (!ivOf(i) || !leaf(k)) continue;
        return make('ne', i, op === 'i32.ne' ? k : ['i32.sub', i32(0), k]);
      }
      return null;
    }
    if (op === 'i32.sub' && leaf(test[2])) return make('ne', test[1], test[2]);
    return null;
  }
  /** c when `w` is `local.set/tee $i (i32.add (local.get $i) (i32.const c))` with 1 ≤ c ≤ 65536. */
  function increment(w: SNode[]): number {
    const iv = w[1];
    const add = w[2];
    if (w.length !== 3 || !isName(iv) || !isList(add) || add.length !== 3 || add[0] !== 'i32.add') return 0;
    const [, l, r] = add;
    if (!isList(l) || l[0] !== 'local.get' || l[1] !== iv || l.length !== 2) return 0;
    if (!isList(r) || r[0] !== 'i32.const' || typeof r[1] !== 'string' || !/^\d+$/.test(r[1])) return 0;
    const c = Number(r[1]);
    return c >= 1 && c <= MAX_STEP_SUM ? c : 0;
  }

  /** The replacement for `loop` when it is bounded, else null (and the loop stays as it is). */
  function bound(loop: SNode[]): SNode | null {
    stats.loops++;
    const label = isName(loop[1]) ? loop[1] : null;
    const start = bodyStart(loop);
    for (let k = 1; k < start; k++) if (isList(loop[k]) && head(loop[k]) !== 'result') return reject('loop type');
    if (!isSite(loop[start])) return reject('no header site');
    siteId = ((loop[start] as SNode[])[2] as SNode[])[1] as string;
    const body = loop.slice(start + 1);

    // Top-tested: the body is one `(if TEST (then ...))`; the test guards every iteration.
    let top: ReturnType<typeof exitTest> = null;
    if (body.length === 1) {
      let y = body[0];
      while (isPlainBlock(y) && y.length === 2) y = y[1];
      if (head(y) === 'if' && (y as SNode[]).length === 3 && head((y as SNode[])[2]) === 'then') top = exitTest((y as SNode[])[1]);
    }

    // Scan the body: writes, branches to the label, references to it.
    let refs = 0;
    const branches: SNode[][] = [];
    let stepSum = 0;
    let steps = 0;
    let minStep = Infinity;
    let bad: string | null = null;
    const writes = new Map<string, number>(); // local -> increments (-1: another kind of write, or inside a nested loop)
    function scan(x: SNode, depth: number): void {
      if (bad) return;
      if (typeof x === 'string') { if (x === label) refs++; return; }
      const h = head(x);
      if (h === undefined) { bad = 'odd node'; return; }
      if (UNKNOWN_CONTROL.test(h)) { bad = `unsupported ${h}`; return; }
      if (h === 'local.set' || h === 'local.tee' || h === 'local.get') {
        if (!isName(x[1])) { bad = 'numeric local'; return; }
        if (h !== 'local.get') {
          const c = depth === 0 ? increment(x) : 0;
          const w = writes.get(x[1]) ?? 0;
          writes.set(x[1], c && w >= 0 ? w + 1 : -1);
        }
      }
      if ((h === 'br' || h === 'br_if' || h === 'br_table') && x.includes(label as string)) branches.push(x);
      const d = h === 'loop' ? depth + 1 : depth;
      for (let k = 1; k < x.length; k++) scan(x[k]!, d);
    }
    for (const x of body) scan(x, 0);
    if (bad) return reject(bad);
    if (refs !== branches.length) return reject('label used otherwise');
    if (refs === 0) {
      // Nothing branches back: the body runs once, like a block. No per-iteration check needed.
      stats.bounded++;
      stats.verdicts[siteId] = 'runs once';
      const copy = loop.slice();
      copy.splice(start, 1);
      return copy;
    }
    // Not top-tested: every branch back must be `br_if $L TEST`, all with the same test.
    let t = top;
    // Tested in the middle: the back edges are not the tests, but a test on i (a `br_if` or an
    // `if`, either polarity) passes on the way to each of them, with an increment after it.
    let mid = false;
    let why = '';
    if (!t) {
      for (const br of branches) {
        const bt = br[0] === 'br_if' && br.length === 3 ? exitTest(br[2]) : null;
        if (!bt) why = branches.length === 1 ? 'exit test not recognised' : 'a branch back without a test';
        else if (t && t.key !== bt.key) why = 'different tests';
        if (why) break;
        t = bt;
      }
      if (why) { t = null; mid = true; }
    }
    const ind = (name: string): boolean => (writes.get(name) ?? 0) > 0;
    const fixed = (name: string): boolean => !writes.has(name);
    /** The test `c` is, on the current i: 'pos' (c true means the test passes), 'neg', or null. */
    const NEGATE: Record<string, string> = { 'i32.eq': 'i32.ne', 'i32.ge_u': 'i32.lt_u', 'i32.ge_s': 'i32.lt_s', 'i32.gt_u': 'i32.le_u', 'i32.gt_s': 'i32.le_s' };
    const polarity = (c: SNode | undefined): 'pos' | 'neg' | null => {
      if (!t || !isList(c)) return null;
      const plain = (x: SNode | undefined) => { const e = exitTest(x, ind, fixed); return e && e.key === t!.key && (e.nvar === null || fixed(e.nvar)) ? e : null; };
      if (plain(c)) return 'pos';
      if (c[0] === 'i32.eqz' && c.length === 2 && plain(c[1])) return 'neg';
      const op = NEGATE[c[0] as string];
      return op && c.length === 3 && plain([op, c[1]!, c[2]!]) ? 'neg' : null;
    };
    const candidates: NonNullable<typeof t>[] = [];
    if (mid) {
      const seen = new Set<string>();
      (function conds(x: SNode): void {
        if (!isList(x) || x[0] === 'loop') return;
        let c: SNode | undefined;
        if (x[0] === 'br_if' && x.length === 3) c = x[2];
        if (x[0] === 'if') { let k = 1; while (k < x.length && isClause(x[k])) k++; c = x[k]; }
        if (isList(c)) {
          const neg = c[0] === 'i32.eqz' && c.length === 2 ? c[1] : NEGATE[c[0] as string] && c.length === 3 ? [NEGATE[c[0] as string]!, c[1]!, c[2]!] : null;
          for (const e of [exitTest(c, ind, fixed), neg ? exitTest(neg, ind, fixed) : null]) {
            if (e && !seen.has(e.key) && ind(e.iv) && (e.nvar === null || fixed(e.nvar))) { seen.add(e.key); candidates.push(e); }
          }
        }
        for (const y of x) conds(y);
      })(['block', ...body]);
    } else if (t) candidates.push(t);
    if (candidates.length === 0) return reject(why || 'no exit test');
    // Walk in execution order with two flags per point: 1 = "$i incremented since the header",
    // 2 = "N not written since the header". Every branch back to $L needs both. Tested in the
    // middle (`mid`): flag 4 = "the test passed since the header", and flag 1 then means
    // "incremented since the test passed"; every branch back needs all three.
    function flow(): boolean {
    const iv = t!.iv;
    const nvar = t!.nvar;
    const DEAD = 8;
    const GOOD = mid ? 7 : 3;
    const pass = (s: number): number => (s === DEAD ? DEAD : (s | 4) & ~1);
    const pol = (c: SNode | undefined): 'pos' | 'neg' | null => (mid ? polarity(c) : null);
    const meet = (a: number, b: number): number => (a === DEAD ? b : b === DEAD ? a : a & b);
    const blocks = new Map<string, number>();
    const loops = new Map<string, number>();
    let backEdgeOk = true;
    const record = (target: SNode | undefined, s: number): void => {
      if (target === label) { if (s !== DEAD && s !== GOOD) backEdgeOk = false; return; }
      if (typeof target !== 'string') return;
      if (blocks.has(target)) blocks.set(target, meet(blocks.get(target)!, s));
      else if (loops.has(target)) loops.set(target, meet(loops.get(target)!, s));
    };
    function seq(items: SNode[], from: number, s: number): number {
      for (let k = from; k < items.length; k++) s = walk(items[k]!, s);
      return s;
    }
    function walk(x: SNode, s: number): number {
      if (typeof x === 'string') return s;
      const h = x[0];
      if (h === 'block') {
        const name = isName(x[1]) ? x[1] : null;
        if (name) blocks.set(name, DEAD);
        const end = seq(x, bodyStart(x), s);
        return name ? meet(end, blocks.get(name)!) : end;
      }
      if (h === 'loop') {
        // A nested loop's header: the entry state met with its own back edges (flag 1 only rises
        // along a path, flag 2 only falls), to a fixpoint (at most two rounds of change).
        const name = isName(x[1]) ? x[1] : null;
        if (name) loops.set(name, DEAD);
        let head = s;
        for (;;) {
          const end = seq(x, bodyStart(x), head);
          const next = name ? meet(s, loops.get(name)!) : head;
          if (next === head) return end;
          head = next;
        }
      }
      if (h === 'if') {
        let k = 1;
        while (k < x.length && isClause(x[k])) k++;
        const s0 = walk(x[k]!, s);
        const c = pol(x[k]);
        let s1 = c === 'pos' ? pass(s0) : s0;
        let s2 = c === 'neg' ? pass(s0) : s0;
        for (k++; k < x.length; k++) {
          const arm = x[k] as SNode[];
          if (arm[0] === 'then') s1 = seq(arm, 1, s1);
          else if (arm[0] === 'else') s2 = seq(arm, 1, s2);
        }
        return meet(s1, s2);
      }
      if (h === 'br' || h === 'br_if') {
        const s1 = seq(x, 2, s);
        const c = h === 'br_if' && x.length === 3 ? pol(x[2]) : null;
        record(x[1], c === 'pos' ? pass(s1) : s1);
        return h === 'br' ? DEAD : c === 'neg' ? pass(s1) : s1;
      }
      if (h === 'br_table') {
        let s1 = s;
        for (let k = 1; k < x.length; k++) if (isList(x[k])) s1 = walk(x[k]!, s1);
        for (let k = 1; k < x.length; k++) if (isName(x[k])) record(x[k], s1);
        return DEAD;
      }
      if ((h === 'local.set' || h === 'local.tee') && (x[1] === iv || x[1] === nvar)) {
        const s1 = seq(x, 2, s);
        return s1 === DEAD ? DEAD : x[1] === iv ? s1 | 1 : s1 & ~2;
      }
      const s1 = seq(x, 1, s);
      return typeof h === 'string' && EXITS.has(h) ? DEAD : s1;
    }
    seq(body, 0, 2);
    return backEdgeOk;
    }
    const nWrittenOf = (x: typeof t): boolean => x !== null && x.nvar !== null && writes.has(x.nvar);
    let found = false;
    for (const cand of candidates) {
      t = cand;
      if (flow()) { found = true; break; }
    }
    if (!found || !t) return reject(mid ? why : nWrittenOf(t) ? 'back edge before an increment or after the bound is written' : 'back edge before an increment');
    const iv = t.iv;
    if ((writes.get(iv) ?? 0) < 0) return reject('induction variable not only incremented');
    const nvar = t.nvar;
    const nWritten = nWrittenOf(t);
    for (const br of branches) if (br[0] === 'br_table' || br.length !== (br[0] === 'br' ? 2 : 3)) return reject('branch back with a value or br_table');
    (function steps_(x: SNode): void {
      if (!isList(x)) return;
      if ((x[0] === 'local.set' || x[0] === 'local.tee') && x[1] === iv) {
        const c = increment(x);
        stepSum += c;
        steps++;
        minStep = Math.min(minStep, c);
      }
      for (const c of x) steps_(c);
    })(body);
    if (stepSum === 0 || stepSum > MAX_STEP_SUM) return reject('step sum');
    // `ne`: i must hit N exactly, so exactly one increment of 1 per iteration.
    if (t.kind === 'ne' && (steps !== 1 || stepSum !== 1)) return reject('ne test with a step other than one');


    if (count(loop) > MAX_COPY_NODES) return reject('too large to copy');

    // The unmetered copy: no header site, fresh labels, refunds at the exits.
    const copy = clone(loop) as SNode[];
    copy.splice(start, 1);
    const rename = new Map<string, string>();
    (function collect(x: SNode): void {
      if (!isList(x)) return;
      if ((x[0] === 'block' || x[0] === 'loop') && isName(x[1])) rename.set(x[1], `$${p}_l${fresh++}`);
      for (const c of x) collect(c);
    })(copy);
    (function relabel(x: SNode): void {
      if (!isList(x)) return;
      const h = x[0];
      if ((h === 'block' || h === 'loop' || h === 'br' || h === 'br_if') && isName(x[1]) && rename.has(x[1])) x[1] = rename.get(x[1])!;
      if (h === 'br_table') for (let k = 1; k < x.length; k++) if (isName(x[k]) && rename.has(x[k] as string)) x[k] = rename.get(x[k] as string)!;
      for (const c of x) relabel(c);
    })(copy);
    const inner = new Set(rename.values());
    let shift = 0;
    while ((2 << shift) <= minStep) shift++;
    // Header visits left from the current i (see the header comment; `ne` tests: one step of 1 per
    // iteration, so i reaches N exactly): the charge at entry is this + 1, a refund this.
    const plus1 = (x: SNode[]): SNode[] => ['i32.add', x, i32(1)];
    const left = (i: SNode[], n: SNode[]): SNode[] => {
      if (t.kind === 'lt') return remaining(i, n, shift);
      if (t.kind === 'le') return remaining(i, plus1(n), shift);
      // top-tested: (n - i) mod 2^32; tested at the back edges, after the increment: n - i - 1,
      // and 0 once i = n (only after the last increment).
      if (top || mid) return ['i32.sub', n, i];
      return ['select', ['i32.sub', ['i32.sub', n, clone(i)], i32(1)], i32(0), ['i32.ne', clone(n), clone(i)]];
    };
    // Refunds use N's value at entry: a copy of it when the loop writes N (on its way out).
    const saved = nWritten ? `$${p}_n${fresh++}` : null;
    if (saved) extraLocals.push(saved);
    const refund = (): SNode[] => ['global.set', G, ['i32.add', ['global.get', G], left(get(iv), saved ? get(saved) : clone(t.n) as SNode[])]];
    const branchy = (x: SNode): boolean => isList(x) && (/^(br|return)/.test(String(x[0])) || x.some(branchy));
    function refunds(x: SNode): void {
      if (!isList(x)) return;
      const h = x[0];
      for (const c of x) refunds(c); // first: the nodes added below must not be visited again
      const from = h === 'block' || h === 'loop' ? bodyStart(x) : h === 'then' || h === 'else' ? 1 : x.length;
      // Statement lists: a refund goes right before the exit.
      for (let k = from; k < x.length; k++) {
        const y = x[k]!;
        const yh = head(y);
        if (yh === 'br' && (y as SNode[]).length === 2 && !inner.has((y as SNode[])[1] as string)) {
          x.splice(k, 0, refund());
          k++;
        } else if (yh === 'br_if' && (y as SNode[]).length === 3 && !inner.has((y as SNode[])[1] as string)) {
          const [, target, cond] = y as SNode[];
          x[k] = ['if', cond!, ['then', refund(), ['br', target!]]];
        } else if (yh === 'return' && ((y as SNode[]).length === 1 || ((y as SNode[]).length === 2 && !branchy((y as SNode[])[1]!)))) {
          x.splice(k, 0, refund());
          k++;
        }
      }
    }
    refunds(copy);

    const clauses = loop.slice(label ? 2 : 1, start);
    const then: SNode[] = ['then', ['global.set', G, ['i32.sub', ['global.get', G], get(T)]], copy];
    // The exit at the end of the loop. Where the exit test failing leads there, there is nothing to
    // give back (i ≥ n, or i = n for `ne`), and fewer reads of the fuel global after the loop
    // measurably speed the loop up in V8 (AssemblyScript's UTF-8 loops: ~5 % of the call). So a
    // top-tested loop refunds at the end of its `then` arm when that can fall through, and a loop
    // whose last statement is its tested back edge does not refund there.
    if (clauses.length === 0) {
      const items = copy.slice(bodyStart(copy));
      const last = items[items.length - 1];
      let y: SNode | undefined = items.length === 1 ? items[0] : undefined;
      while (isPlainBlock(y) && y.length === 2) y = y[1];
      if (top && head(y) === 'if' && (y as SNode[]).length === 3 && head((y as SNode[])[2]) === 'then') {
        const arm = (y as SNode[])[2] as SNode[];
        const end = arm.length > 1 ? head(arm[arm.length - 1]) : undefined;
        if (!(end === 'br' || end === 'br_table' || end === 'return' || end === 'unreachable')) arm.push(refund());
      } else if (mid || !(head(last) === 'br_if' && (last as SNode[]).length === 3 && (last as SNode[])[1] === copy[1])) {
        then.push(refund());
      }
    }
    // TRIP may wrap to 0 for `ne` ((n - i) mod 2^32 = 2^32 - 1): TRIP - 1 <u fuel rejects that.
    let cond: SNode[] = ['i32.lt_u', ['i32.sub', get(T), i32(1)], ['global.get', G]];
    // `lt`/`le`: i and n ≤ MAX_GUARD at entry, so i stays below 2^31 (signed and unsigned agree).
    if (t.kind !== 'ne') cond = ['i32.and', ['i32.le_u', ['i32.or', get(A), get(B)], i32(MAX_GUARD)], cond];
    stats.bounded++;
    stats.verdicts[siteId] = `bounded (${top ? 'top-tested' : mid ? 'tested in the middle' : 'tested at the back edges'}, ${t.kind})`;
    return ['block', ...clauses,
      ['local.set', A, get(iv)],
      ['local.set', B, clone(t.n)],
      ...(saved ? [['local.set', saved, get(B)]] : []),
      // The charge: visits left at entry + 1 (`ne` at the back edges: (n - i - 1) mod 2^32 + 1).
      ['local.set', T, t.kind === 'ne' && !top && !mid ? ['i32.sub', get(B), get(A)] : plus1(left(get(A), get(B)))],
      ['if', ...clauses.map(clone), cond, then, ['else', loop]]];
  }

  /** Bottom-up: nested loops first, so an outer copy carries its inner loops' fast paths. */
  function boundAll(x: SNode[]): boolean {
    let any = false;
    for (let k = 0; k < x.length; k++) {
      const c = x[k];
      if (!isList(c)) continue;
      if (boundAll(c)) any = true;
      if (c[0] === 'loop') {
        const r = bound(c);
        if (r) {
          x[k] = r;
          any = true;
        }
      }
    }
    return any;
  }

  const entryCharge: SNode[] = ['call', `$${p}_charge`];
  const headerCheck = (): SNode[] => ['block',
    ['local.set', FC, ['i32.sub', get(FC), i32(1)]],
    ['if', ['i32.lt_s', get(FC), i32(0)], ['then', ['local.set', FC, ['call', `$${p}_refill`]]]]];

  /** A loop that keeps a header payment (metered or prepaid): a header site and a branch back. */
  function paying(loop: SNode[]): boolean {
    const label = loop[1];
    const start = bodyStart(loop);
    if (!isName(label) || !isSite(loop[start])) return false;
    const uses = (x: SNode): boolean => (isList(x) ? x.some(uses) : x === label);
    return loop.slice(start + 1).some(uses);
  }

  /** The functions that pay 1 unit at entry (header comment, "Entry charges"). */
  function chargedFunctions(fns: SNode[][]): Set<SNode[]> {
    const byName = new Map<string, SNode[]>();
    for (const fn of fns) if (isName(fn[1])) byName.set(fn[1], fn);
    // Per function: the direct callees at call sites outside paying loops (imports included), and
    // whether a call there cannot be followed (indirect, by reference, by index).
    const info = new Map<SNode[], { callees: string[]; opaque: boolean }>();
    for (const fn of fns) {
      const callees: string[] = [];
      let opaque = false;
      (function walk(x: SNode, covered: boolean): void {
        if (!isList(x)) return;
        const h = x[0] as string;
        if (!covered && CALLS.has(h) && !isSite(x)) {
          if ((h === 'call' || h === 'return_call') && isName(x[1])) callees.push(x[1]);
          else opaque = true;
        }
        const inner = covered || (h === 'loop' && paying(x));
        for (let k = 1; k < x.length; k++) walk(x[k]!, inner);
      })(fn, false);
      info.set(fn, { callees, opaque });
    }
    const charged = new Set<SNode[]>();
    const tree = new Map<SNode[], number>(); // W of the free functions
    const state = new Map<SNode[], number>(); // 1: on the DFS stack, 2: done
    function visit(fn: SNode[], depth: number): void {
      state.set(fn, 1);
      const { callees, opaque } = info.get(fn)!;
      let w = 1;
      if (depth <= MAX_CALL_DEPTH && !opaque) {
        for (const name of callees) {
          const g = byName.get(name);
          if (!g) { w += 1; continue; } // an import: host code, bounded by the host
          const st = state.get(g);
          // A cycle (a back edge of the DFS): its head pays, so every cycle has a paying member.
          if (st === 1) { charged.add(g); continue; }
          if (st === undefined) visit(g, depth + 1);
          w += tree.get(g) ?? 0; // a charged callee pays for itself
          if (w > o.maxFreeTree) break;
        }
      }
      state.set(fn, 2);
      if (opaque || depth > MAX_CALL_DEPTH || w > o.maxFreeTree || charged.has(fn)) charged.add(fn);
      else tree.set(fn, w);
    }
    for (const fn of fns) if (!state.has(fn)) visit(fn, 0);
    return charged;
  }

  function instrumentFunction(fn: SNode[], charged: Set<SNode[]>): void {
    stats.functions++;
    let h = isName(fn[1]) ? 2 : 1;
    while (h < fn.length && ['type', 'param', 'result', 'local', 'export'].includes(head(fn[h]) ?? '')) h++;
    const calls = charged.has(fn);
    if (calls) stats.charged++;
    const bounded = o.bounded && boundAll(fn);
    let first = true;
    (function replace(x: SNode[]): void {
      const header = x[0] === 'loop' ? bodyStart(x) : -1;
      for (let k = 0; k < x.length; k++) {
        const c = x[k]!;
        if (!isList(c)) continue;
        if (isSite(c)) {
          // The pass puts a site first in the function body (the entry), first in each loop body
          // (the header), and before each `return` and the body's last expression (exits, which
          // need no fuel: every exit follows an entry).
          x[k] = first ? (calls ? entryCharge : ['nop']) : k === header ? headerCheck() : ['nop'];
          first = false;
        } else replace(c);
      }
    })(fn);
    const locals: SNode[] = [['local', FC, 'i32']];
    if (bounded) locals.push(['local', A, 'i32'], ['local', B, 'i32'], ['local', T, 'i32']);
    for (const l of extraLocals) locals.push(['local', l, 'i32']);
    extraLocals.length = 0;
    fn.splice(h, 0, ...locals);
  }

  const trapBelowZero = (amount: string): string =>
    `(global.set ${G} (local.tee $t (i32.sub (global.get ${G}) ${amount}))) (if (i32.lt_s (local.get $t) (i32.const 0)) (then (unreachable)))`;
  const chunks = text.replace(importLine, '').split(/\n (?=\(func )/);
  const parsed = chunks.map((chunk) => (chunk.startsWith('(func ') ? parse(chunk) : null));
  const charged = chargedFunctions(parsed.filter((x) => x !== null).map((x) => x.node));
  const body = chunks.map((chunk, k) => {
    const r = parsed[k];
    if (!r) return chunk;
    instrumentFunction(r.node, charged);
    const out: string[] = [];
    print(r.node, out);
    return out.join('') + chunk.slice(r.end);
  }).join('\n ');
  const extra = `
 (global ${G} (mut i32) (i32.const ${o.startFuel | 0}))
 (export "${o.fuelExport}" (global ${G}))
 (func $${p}_charge (local $t i32) ${trapBelowZero('(i32.const 1)')})
 (func $${p}_refill (result i32) (local $t i32) ${trapBelowZero(`(i32.const ${o.batch})`)} (i32.const ${o.batch - 1}))
)`;
  return { text: body.replace(/\)\s*$/, extra), stats };
}
