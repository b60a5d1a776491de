/**
 * The generator of every unrolled section of the WGSL kernels. SwiftShader's
 * JIT keeps a chain of multiply-adds in registers only when it is written out
 * (a loop would index arrays dynamically and spill them lane by lane), so
 * these sections are straight-line code, guarded by override constants that
 * the compiler folds. Nobody should write or edit them by hand: each is
 * generated here and stands in its shader between
 *
 *   // @generated NAME: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines
 *   ...
 *   // @end NAME
 *
 * test/kernels/wgsl-generated.test.ts fails when a committed section differs
 * from what this file generates; `npm run gen:wgsl` rewrites them.
 */

const LANE = ['x', 'y', 'z', 'w'];

// ---------------------------------------------------------------- conv2d-window.wgsl

/** Source column j of a tile row (a Span: a = 0-3, b = 4-7, c = 8-11). */
const span = (j: number): string => `${'abc'[j >> 2]}.${LANE[j & 3]}`;
/** Output column c of a row (a Pair: l = 0-3, r = 4-7). */
const pair = (c: number): string => `${c < 4 ? 'l' : 'r'}.${LANE[c & 3]}`;
/** Kernel tap (kh, kw): a KernelRow holds taps 0-3 in w and tap 4 in w4. */
const tap = (kh: number, kw: number): string => (kw < 4 ? `k[${kh}].w.${LANE[kw]}` : `k[${kh}].w4`);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** out_row: one output row's COLS sums for one source channel, one chain per column. */
function outRow(): string {
  const lines: string[] = [];
  lines.push('fn out_row(p: Pair, k: Kern, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> Pair {');
  lines.push('  var q = p;');
  // A 5x5 kernel: each column's 25 taps as one expression.
  lines.push('  if (KH == 5 && KW == 5) {');
  for (const c of range(8)) {
    if (c === 4) lines.push('    if (COLS > 4) {');
    const indent = c < 4 ? '    ' : '      ';
    const terms = range(5).flatMap((kh) => range(5).map((kw) => `${tap(kh, kw)} * x${kh}.${span(c + kw)}`));
    lines.push(`${indent}q.${pair(c)} += ${terms.join(' + ')};`);
  }
  lines.push('    }');
  lines.push('    return q;');
  lines.push('  }');
  // Any other kernel size: the same chains, each tap guarded by KH and KW.
  for (const c of range(8)) {
    if (c === 4) lines.push('  if (COLS > 4) {');
    const ind = c < 4 ? '  ' : '    ';
    const row = (kh: number): string =>
      range(5)
        .map((kw) => (kw === 0 ? `${kh === 0 ? 'var o =' : 'o +='} ${tap(kh, 0)} * x${kh}.${span(c)};` : `if (KW > ${kw}) { o += ${tap(kh, kw)} * x${kh}.${span(c + kw)}; }`))
        .join(' ');
    lines.push(`${ind}{`);
    lines.push(`${ind}  ${row(0)}`);
    for (const kh of range(5).slice(1)) lines.push(`${ind}  if (KH > ${kh}) { ${row(kh)} }`);
    lines.push(`${ind}  q.${pair(c)} += o;`);
    lines.push(`${ind}}`);
  }
  lines.push('  }');
  lines.push('  return q;');
  lines.push('}');
  return lines.join('\n');
}

/** dot_kw0..4: one dout row (COLS values) against a tile row shifted by kw; tap_kw0..4: that over ROWS rows. */
function weightTaps(): string {
  const lines: string[] = [];
  for (const kw of range(5)) {
    lines.push(`fn dot_kw${kw}(o: f32, d: Pair, s: Span) -> f32 {`);
    lines.push(`  var v = o + d.${pair(0)} * s.${span(kw)};`);
    for (const c of range(3).map((i) => i + 1)) lines.push(`  v += d.${pair(c)} * s.${span(c + kw)};`);
    lines.push('  if (COLS > 4) {');
    for (const c of range(4).map((i) => i + 4)) lines.push(`    v += d.${pair(c)} * s.${span(c + kw)};`);
    lines.push('  }');
    lines.push('  return v;');
    lines.push('}');
  }
  lines.push('');
  lines.push('// Tap (kh, kw) over the whole tile: the chain over its ROWS dout rows against tile rows r + kh.');
  for (const kw of range(5)) {
    lines.push(`fn tap_kw${kw}(o: f32, d: Rows, x0: Span, x1: Span, x2: Span, x3: Span, x4: Span) -> f32 {`);
    lines.push(`  var v = dot_kw${kw}(o, d[0], x0);`);
    for (const r of range(4).map((i) => i + 1)) lines.push(`  if (ROWS > ${r}) { v = dot_kw${kw}(v, d[${r}], x${r}); }`);
    lines.push('  return v;');
    lines.push('}');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- dense.wgsl (the blocked variant)

/** mac_step: C (8 x BLOCK_COLS, 32 vec4s) += A (8 x K_STEP) B (K_STEP x BLOCK_COLS), each element one chain. */
function macStep(): string {
  const lines = ['fn mac_step(c: CBlock, a: AChunk, b: BChunk) -> CBlock {', '  var r = c;'];
  // One quarter q of row i over four steps from step t0: the four lanes of r[4i + q].
  const chain = (i: number, q: number, half: number): string =>
    `vec4f(${LANE.map((lane) => range(4).map((s) => `a[${2 * i + half}].${LANE[s]} * b[${4 * (4 * half + s) + q}].${lane}`).join(' + ')).join(', ')})`;
  for (const i of range(8)) {
    for (const q of range(4)) {
      if (q === 2) lines.push('  if (BLOCK_COLS > 8u) {');
      const ind = q < 2 ? '  ' : '    ';
      lines.push(`${ind}r[${4 * i + q}] += ${chain(i, q, 0)};`);
      lines.push(`${ind}if (K_STEP > 4u) { r[${4 * i + q}] += ${chain(i, q, 1)}; }`);
    }
    lines.push('  }');
  }
  lines.push('  return r;', '}');
  return lines.join('\n');
}

/** load_b_<src>: B's K_STEP x BLOCK_COLS values of `src` for steps k0.. (see the shader's comment above it). */
function loadB(src: string): string {
  const lines = [`fn load_b_${src}(k0: u32, n0: u32, k_last: u32, last_n: u32, b_k: u32, b_n: u32, lane: u32) -> BChunk {`, '  var b: BChunk;', '  if (SHARED_B) {'];
  const guard = (t: number, q: number, body: string): string => {
    let out = t >= 4 ? `if (K_STEP > 4u) { ${body} }` : body;
    if (q >= 2) out = `if (BLOCK_COLS > 8u) { ${out} }`;
    return `    ${out}`;
  };
  for (const t of range(8)) {
    for (const q of range(4)) {
      const body = `{ let v = ${src}[min(k0 + ${t}u, k_last) * b_k + min(n0 + ${4 * q}u + lane, last_n) * b_n]; b[${4 * t + q}] = vec4f(bcast0(v), bcast1(v), bcast2(v), bcast3(v)); }`;
      lines.push(guard(t, q, body));
    }
  }
  lines.push('  } else {');
  for (const t of range(8)) {
    for (const q of range(4)) {
      const body = `{ let k = min(k0 + ${t}u, k_last) * b_k; let n = clamped_n(n0 + ${4 * q}u, last_n) * b_n; b[${4 * t + q}] = vec4f(${LANE.map((l) => `${src}[k + n.${l}]`).join(', ')}); }`;
      lines.push(guard(t, q, body));
    }
  }
  lines.push('  }', '  return b;', '}');
  return lines.join('\n');
}

/** load_a_<src>: A's 8 x K_STEP values of `src` for the rows `rows`, zero for steps at or past k_end. */
function loadA(src: string): string {
  const lines = [
    `fn load_a_${src}(rows: array<vec4u, 2>, k0: u32, k_end: u32, a_m: u32, a_k: u32) -> AChunk {`,
    '  let k_lo = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);',
    '  let k_hi = k_lo + 4u;',
    '  let ok_lo = k_lo < vec4u(k_end);',
    '  let ok_hi = k_hi < vec4u(k_end);',
    '  let kl = min(k_lo, vec4u(k_end - 1u)) * a_k;',
    '  let kh = min(k_hi, vec4u(k_end - 1u)) * a_k;',
    '  var a: AChunk;',
  ];
  const load = (ks: string): string => `vec4f(${LANE.map((l) => `${src}[m + ${ks}.${l}]`).join(', ')})`;
  for (const i of range(8)) {
    lines.push(`  { let m = rows[${i >> 2}].${LANE[i & 3]} * a_m; a[${2 * i}] = select(vec4f(0.0), ${load('kl')}, ok_lo);`);
    lines.push(`    if (K_STEP > 4u) { a[${2 * i + 1}] = select(vec4f(0.0), ${load('kh')}, ok_hi); } }`);
  }
  lines.push('  return a;', '}');
  return lines.join('\n');
}

/** store_block_<dst>: the block at rows m0.. of C into `dst` through store4_<dst>, rows past M left alone. */
function storeBlock(dst: string): string {
  const lines = [`fn store_block_${dst}(c: CBlock, m0: u32, n0: u32, M: u32, N: u32, base: u32) {`];
  for (const i of range(8)) {
    lines.push(`  if (m0 + ${i}u < M) {`);
    lines.push(`    let at = base + (m0 + ${i}u) * N + n0;`);
    lines.push(`    store4_${dst}(at, n0, N, c[${4 * i}]);`);
    lines.push(`    store4_${dst}(at + 4u, n0 + 4u, N, c[${4 * i + 1}]);`);
    lines.push(`    if (BLOCK_COLS > 8u) { store4_${dst}(at + 8u, n0 + 8u, N, c[${4 * i + 2}]); store4_${dst}(at + 12u, n0 + 12u, N, c[${4 * i + 3}]); }`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n');
}

/** Every generated section, by shader file and section name. */
export function generatedSections(): Record<string, Record<string, string>> {
  return {
    'conv2d-window.wgsl': { out_row: outRow(), weight_taps: weightTaps() },
    'dense.wgsl': {
      mac_step: macStep(),
      load_b_weight: loadB('weight'),
      load_b_dout: loadB('dout'),
      load_a_inp: loadA('inp'),
      load_a_dout: loadA('dout'),
      store_block_out: storeBlock('out'),
      store_block_dinp: storeBlock('dinp'),
      store_block_partials: storeBlock('partials'),
    },
  };
}

export const BEGIN = (name: string): string => `// @generated ${name}: scripts/wgsl/unrolled.ts (npm run gen:wgsl); edit the generator, not these lines`;
export const END = (name: string): string => `// @end ${name}`;

/** The shader's text with every generated section replaced by the generator's; throws on a missing or unclosed marker. */
export function regenerate(file: string, code: string, sections: Record<string, string>): string {
  let out = code;
  for (const [name, body] of Object.entries(sections)) {
    const begin = out.indexOf(BEGIN(name));
    const end = out.indexOf(END(name));
    if (begin < 0 || end < begin) throw new Error(`shaders/${file}: no section "${name}" between "${BEGIN(name)}" and "${END(name)}"`);
    out = `${out.slice(0, begin)}${BEGIN(name)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}
