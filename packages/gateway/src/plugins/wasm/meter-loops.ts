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
 * - a function that calls anything pays 1 at entry (this bounds recursion); a leaf function is
 *   bounded by its own size plus its metered loops and pays nothing at entry;
 * - a *bounded* loop (below) pays its whole trip count at entry instead and runs a copy without
 *   the per-iteration check; early exits give back the unused part.
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
}

export interface TextStats {
  functions: number; loops: number; bounded: number;
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
  const stats: TextStats = { functions: 0, loops: 0, bounded: 0, rejected: {}, verdicts: {} };
  let siteId = '';
  let fresh = 0;
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

  /** The induction variable of TEST (`i < N` in one of its spellings), or null. */
  function exitTest(test: SNode | undefined): { iv: string; step: number; n: SNode[] } | null {
    if (!isList(test) || test.length !== 3) return null;
    const op = test[0];
    let iexpr: SNode | undefined;
    let nexpr: SNode | undefined;
    if (op === 'i32.lt_u' || op === 'i32.lt_s') { iexpr = test[1]; nexpr = test[2]; }
    else if (op === 'i32.gt_u' || op === 'i32.gt_s') { iexpr = test[2]; nexpr = test[1]; }
    else return null;
    let iv: string | null = null;
    if (head(iexpr) === 'local.get' && (iexpr as SNode[]).length === 2 && isName((iexpr as SNode[])[1])) iv = (iexpr as SNode[])[1] as string;
    else if (head(iexpr) === 'local.tee') iv = increment(iexpr as SNode[]) ? (iexpr as SNode[])[1] as string : null;
    if (!iv) return null;
    if (!isList(nexpr) || nexpr.length !== 2) return null;
    if (nexpr[0] === 'local.get' && isName(nexpr[1]) && nexpr[1] !== iv) return { iv, step: 0, n: nexpr };
    if (nexpr[0] === 'i32.const' && typeof nexpr[1] === 'string' && /^\d+$/.test(nexpr[1]) && Number(nexpr[1]) <= MAX_GUARD) return { iv, step: 0, n: nexpr };
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

    // Which kind of loop: top-tested `(if TEST (then ...))`, bottom-tested `... (br_if $L TEST)`.
    let test: SNode | undefined;
    let topTested = false;
    if (body.length === 1) {
      let y = body[0];
      while (isPlainBlock(y) && y.length === 2) y = y[1];
      if (head(y) === 'if' && (y as SNode[]).length === 3 && head((y as SNode[])[2]) === 'then') { test = (y as SNode[])[1]; topTested = true; }
    }
    if (!topTested && body.length > 0) {
      let y = body[body.length - 1];
      while (isPlainBlock(y) && y.length > 1) y = y[y.length - 1];
      if (head(y) === 'br_if' && (y as SNode[]).length === 3 && (y as SNode[])[1] === label) test = (y as SNode[])[2];
    }

    // Scan the body: writes, references to the label, labels defined inside.
    let refs = 0;
    let branches = 0;
    let stepSum = 0;
    let minStep = Infinity;
    let bad: string | null = null;
    const t = test === undefined ? null : exitTest(test);
    const iv = t?.iv;
    const nv = t && t.n[0] === 'local.get' ? t.n[1] : null;
    function scan(x: SNode, depth: number): void {
      if (bad) return;
      if (typeof x === 'string') { if (x === label) refs++; return; }
      const h = head(x);
      if (h === undefined) { bad = 'odd node'; return; }
      if (UNKNOWN_CONTROL.test(h)) { bad = `unsupported ${h}`; return; }
      if (h === 'local.set' || h === 'local.tee' || h === 'local.get') {
        if (!isName(x[1])) { bad = 'numeric local'; return; }
        if (h !== 'local.get' && x[1] === nv) { bad = 'bound written'; return; }
        if (h !== 'local.get' && x[1] === iv) {
          const c = increment(x);
          if (!c) { bad = 'induction variable not only incremented'; return; }
          if (depth > 0) { bad = 'increment in a nested loop'; return; }
          stepSum += c;
          minStep = Math.min(minStep, c);
        }
      }
      if ((h === 'br' || h === 'br_if') && x[1] === label) {
        branches++;
        if (x.length !== (h === 'br' ? 2 : 3)) { bad = 'branch with a value'; return; }
      }
      if (h === 'br_table' && x.includes(label as string)) { bad = 'br_table to the loop'; return; }
      const d = h === 'loop' ? depth + 1 : depth;
      for (let k = 1; k < x.length; k++) scan(x[k]!, d);
    }
    for (const x of body) scan(x, 0);
    if (bad) return reject(bad);
    if (refs !== branches) return reject('label used otherwise');
    if (refs === 0) {
      // Nothing branches back: the body runs once, like a block. No per-iteration check needed.
      stats.bounded++;
      stats.verdicts[siteId] = 'runs once';
      const copy = loop.slice();
      copy.splice(start, 1);
      return copy;
    }
    if (!t) return reject(test === undefined ? 'no exit test' : 'exit test not i < n');
    if (stepSum === 0 || stepSum > MAX_STEP_SUM) return reject('step sum');
    if (!topTested && branches !== 1) return reject('more branches to a bottom-tested loop');

    // "Definitely incremented" walk: every branch back to $L must come after an increment.
    const DEAD = 2;
    const meet = (a: number, b: number): number => (a === DEAD ? b : b === DEAD ? a : a & b);
    const blocks = new Map<string, number>();
    let backEdgeOk = true;
    const record = (target: SNode | undefined, s: number): void => {
      if (target === label) { if (s === 0) backEdgeOk = false; return; }
      if (typeof target === 'string' && blocks.has(target)) blocks.set(target, meet(blocks.get(target)!, s));
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
      if (h === 'loop') return seq(x, bodyStart(x), s); // header state = entry state: $i is only ever incremented
      if (h === 'if') {
        let k = 1;
        while (k < x.length && isClause(x[k])) k++;
        const s0 = walk(x[k]!, s);
        let s1 = s0;
        let s2 = s0;
        for (k++; k < x.length; k++) {
          const arm = x[k] as SNode[];
          if (arm[0] === 'then') s1 = seq(arm, 1, s0);
          else if (arm[0] === 'else') s2 = seq(arm, 1, s0);
        }
        return meet(s1, s2);
      }
      if (h === 'br' || h === 'br_if') {
        const s1 = seq(x, 2, s);
        record(x[1], s1);
        return h === 'br' ? DEAD : s1;
      }
      if (h === 'br_table') {
        let s1 = s;
        for (let k = 1; k < x.length; k++) if (isList(x[k])) s1 = walk(x[k]!, s1);
        for (let k = 1; k < x.length; k++) if (isName(x[k])) record(x[k], s1);
        return DEAD;
      }
      if ((h === 'local.set' || h === 'local.tee') && x[1] === iv) {
        const s1 = seq(x, 2, s);
        return s1 === DEAD ? DEAD : 1;
      }
      const s1 = seq(x, 1, s);
      return typeof h === 'string' && EXITS.has(h) ? DEAD : s1;
    }
    seq(body, 0, 0);
    if (!backEdgeOk) return reject('back edge before an increment');

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
    const refund = (): SNode[] => ['global.set', G, ['i32.add', ['global.get', G], remaining(get(iv!), t.n, shift)]];
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
    const trip: SNode[] = ['i32.add', remaining(get(A), get(B), shift), i32(1)];
    const then: SNode[] = ['then', ['global.set', G, ['i32.sub', ['global.get', G], get(T)]], copy];
    if (topTested && clauses.length === 0) then.push(refund());
    stats.bounded++;
    stats.verdicts[siteId] = `bounded (${topTested ? 'top' : 'bottom'}-tested)`;
    return ['block', ...clauses,
      ['local.set', A, get(iv!)],
      ['local.set', B, clone(t.n)],
      ['local.set', T, trip],
      ['if', ...clauses.map(clone),
        ['i32.and', ['i32.le_u', ['i32.or', get(A), get(B)], i32(MAX_GUARD)], ['i32.le_u', get(T), ['global.get', G]]],
        then,
        ['else', loop]]];
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

  function instrumentFunction(fn: SNode[]): void {
    stats.functions++;
    let h = isName(fn[1]) ? 2 : 1;
    while (h < fn.length && ['type', 'param', 'result', 'local', 'export'].includes(head(fn[h]) ?? '')) h++;
    const bounded = o.bounded && boundAll(fn);
    let calls = false;
    (function find(x: SNode): void {
      if (!isList(x) || calls) return;
      if (CALLS.has(x[0] as string) && !isSite(x)) { calls = true; return; }
      for (const c of x) find(c);
    })(fn);
    let first = true;
    (function replace(x: SNode[]): void {
      for (let k = 0; k < x.length; k++) {
        const c = x[k]!;
        if (!isList(c)) continue;
        if (isSite(c)) {
          // The pass puts the entry site first in the body; every other one is a loop header.
          x[k] = first ? (calls ? entryCharge : ['nop']) : headerCheck();
          first = false;
        } else replace(c);
      }
    })(fn);
    const locals: SNode[] = [['local', FC, 'i32']];
    if (bounded) locals.push(['local', A, 'i32'], ['local', B, 'i32'], ['local', T, 'i32']);
    fn.splice(h, 0, ...locals);
  }

  const trapBelowZero = (amount: string): string =>
    `(global.set ${G} (local.tee $t (i32.sub (global.get ${G}) ${amount}))) (if (i32.lt_s (local.get $t) (i32.const 0)) (then (unreachable)))`;
  const body = text.replace(importLine, '').split(/\n (?=\(func )/).map((chunk) => {
    if (!chunk.startsWith('(func ')) return chunk;
    const { node, end } = parse(chunk);
    instrumentFunction(node);
    const out: string[] = [];
    print(node, out);
    return out.join('') + chunk.slice(end);
  }).join('\n ');
  const extra = `
 (global ${G} (mut i32) (i32.const ${o.startFuel | 0}))
 (export "${o.fuelExport}" (global ${G}))
 (func $${p}_charge (local $t i32) ${trapBelowZero('(i32.const 1)')})
 (func $${p}_refill (result i32) (local $t i32) ${trapBelowZero(`(i32.const ${o.batch})`)} (i32.const ${o.batch - 1}))
)`;
  return { text: body.replace(/\)\s*$/, extra), stats };
}
