/**
 * A stand-in for `vitest` inside the device kit's parity bundle
 * (bench/device/parity-main.ts): vitest itself (its workers, Vite, the
 * reporters) does not fit in the 64 MiB kit, so the bundler aliases `vitest`
 * to this module. It implements what the parity test files use, with
 * vitest's semantics where they change a result:
 *
 *  - describe/suite (with .each, .for, .skip, .only, .todo, .skipIf, .runIf),
 *    it/test (the same modifiers), beforeAll/afterAll/beforeEach/afterEach
 *    (a returned function is a teardown, as in vitest); suite factories run
 *    after the file's module has loaded, parents before children; hooks in
 *    'stack' order (after* hooks in reverse), tests one at a time;
 *  - `.only` restricts its own file, as vitest does in run mode;
 *  - per-test and per-hook timeouts (vitest's `it(name, fn, ms)` and the
 *    options forms), defaults from the repository's vite.config.ts;
 *  - `expect` is the real one: @vitest/expect's Jest matchers on chai, with
 *    expect.assertions/hasAssertions checked after each test.
 *
 * Not implemented: snapshots, expect.poll, concurrent tests, fixtures
 * (test.extend), vi.mock. A file that uses them fails to bundle or fails
 * loudly at run time, never silently.
 */
import { chai, customMatchers, getState, GLOBAL_EXPECT, JestAsymmetricMatchers, JestChaiExpect, JestExtend, setState, ASYMMETRIC_MATCHERS_OBJECT, type ExpectStatic } from '@vitest/expect';
import { fn as spyFn, spyOn } from '@vitest/spy';

// ---------------------------------------------------------------- expect

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

interface ExpectState {
  assertionCalls: number;
  isExpectingAssertions: boolean;
  isExpectingAssertionsError: Error | null;
  expectedAssertionsNumber: number | null;
  expectedAssertionsNumberErrorGen: (() => Error) | null;
}

type Loose = Record<string, unknown>;

/** vitest's createExpect, less what needs its worker state (poll, soft errors on the task, snapshots). */
function createExpect(): ExpectStatic {
  const expect = ((value: unknown, message?: string) => {
    const { assertionCalls } = getState(expect) as ExpectState;
    setState({ assertionCalls: assertionCalls + 1 }, expect);
    return chai.expect(value, message);
  }) as unknown as ExpectStatic;
  Object.assign(expect, chai.expect);
  Object.assign(expect, (globalThis as unknown as Loose)[ASYMMETRIC_MATCHERS_OBJECT as unknown as string]);
  const e = expect as unknown as Loose;
  e.getState = () => getState(expect);
  e.setState = (state: Partial<ExpectState>) => setState(state, expect);
  e.extend = (matchers: unknown) => (chai.expect as unknown as { extend(e: unknown, m: unknown): void }).extend(expect, matchers);
  // Soft assertions fail at once here: stricter than vitest (which runs on), never more lenient.
  e.soft = (value: unknown, message?: string) => expect(value, message);
  e.poll = () => {
    throw new Error('expect.poll is not supported by the device kit\'s vitest shim (bench/device/vitest-shim.ts)');
  };
  e.unreachable = (message?: string) => chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
  e.assertions = (expected: number) => {
    const errorGen = () => new Error(`expected number of assertions to be ${expected}, but got ${(getState(expect) as ExpectState).assertionCalls}`);
    setState({ expectedAssertionsNumber: expected, expectedAssertionsNumberErrorGen: errorGen }, expect);
  };
  e.hasAssertions = () => setState({ isExpectingAssertions: true, isExpectingAssertionsError: new Error('expected any number of assertion, but got none') }, expect);
  e.assert = chai.assert;
  (e.extend as (m: unknown) => void)(customMatchers);
  return expect;
}

export const expect: ExpectStatic = createExpect();
Object.defineProperty(globalThis, GLOBAL_EXPECT, { value: expect, writable: true, configurable: true });
export const assert = chai.assert;

function resetExpectState(testName: string): void {
  setState(
    { assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null, currentTestName: testName, testPath: currentFile },
    expect,
  );
}

/** The expect.assertions / hasAssertions checks vitest makes after a test. */
function checkExpectState(): void {
  const s = getState(expect) as ExpectState;
  if (s.expectedAssertionsNumber !== null && s.assertionCalls !== s.expectedAssertionsNumber) throw s.expectedAssertionsNumberErrorGen!();
  if (s.isExpectingAssertions && s.assertionCalls === 0) throw s.isExpectingAssertionsError!;
}

/** What the test files may take from `vi`: spies only (no module mocking in a bundle). */
export const vi = { fn: spyFn, spyOn };
export const vitest = vi;

// ---------------------------------------------------------------- registry

type Mode = 'run' | 'skip' | 'only' | 'todo';
type HookFn = (...args: unknown[]) => unknown;
type TestFn = (...args: unknown[]) => unknown;

interface Options {
  timeout?: number;
  skip?: boolean;
  only?: boolean;
  todo?: boolean;
}

export interface ShimTest {
  kind: 'test';
  name: string;
  fn?: TestFn;
  mode: Mode;
  timeout?: number;
  parent: ShimSuite;
}

export interface ShimSuite {
  kind: 'suite';
  name: string;
  factory?: () => unknown;
  mode: Mode;
  timeout?: number;
  parent?: ShimSuite;
  children: (ShimSuite | ShimTest)[];
  hooks: { beforeAll: HookFn[]; afterAll: HookFn[]; beforeEach: HookFn[]; afterEach: HookFn[] };
}

function newSuite(name: string, mode: Mode, parent?: ShimSuite, factory?: () => unknown, timeout?: number): ShimSuite {
  return { kind: 'suite', name, factory, mode, timeout, parent, children: [], hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] } };
}

let currentFile = '';
let current: ShimSuite = newSuite('', 'run');

/** vitest's three argument forms: (name, fn, timeout), (name, fn, options), (name, options, fn). */
function parseArgs(a?: unknown, b?: unknown): { fn?: TestFn; options: Options } {
  if (typeof a === 'function') return { fn: a as TestFn, options: typeof b === 'number' ? { timeout: b } : ((b as Options | undefined) ?? {}) };
  if (typeof b === 'function') return { fn: b as TestFn, options: typeof a === 'number' ? { timeout: a } : ((a as Options | undefined) ?? {}) };
  return { options: typeof a === 'number' ? { timeout: a } : ((a as Options | undefined) ?? {}) };
}

function modeOf(base: Mode, options: Options, hasFn: boolean): Mode {
  if (!hasFn || options.todo) return 'todo';
  if (base !== 'run') return base;
  if (options.skip) return 'skip';
  if (options.only) return 'only';
  return 'run';
}

function nameOf(name: unknown): string {
  return typeof name === 'function' ? (name as { name: string }).name : String(name);
}

/** printf-style titles of .each/.for, after vitest's formatTitle: %s %d %i %f %j %o %O %#, %$ and $key of object rows. */
function formatTitle(template: string, items: unknown[], index: number): string {
  const show = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'function') return `[Function ${(v as { name?: string }).name || 'anonymous'}]`;
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  };
  let t = template.replace(/%%/g, '\u0000').replace(/%#/g, String(index)).replace(/%\$/g, String(index + 1));
  let i = 0;
  t = t.replace(/%[sdifjoOp]/g, (m) => {
    if (i >= items.length) return m;
    const v = items[i++];
    if (m === '%d' || m === '%i') return String(m === '%i' ? Math.trunc(Number(v)) : Number(v));
    if (m === '%f') return String(Number(v));
    if (m === '%s') return typeof v === 'string' ? v : show(v);
    return show(v);
  });
  const row = items[0];
  if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
    t = t.replace(/\$([\w.]+)/g, (m, key: string) => {
      let v: unknown = row;
      for (const k of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Loose)[k] : undefined;
      return v === undefined ? m : show(v);
    });
  }
  return t.replace(/\u0000/g, '%');
}

type Each = (cases: readonly unknown[]) => (name: unknown, a?: unknown, b?: unknown) => void;

interface Chain {
  (name: unknown, a?: unknown, b?: unknown): void;
  each: Each;
  for: Each;
  skip: Chain;
  only: Chain;
  todo: Chain;
  concurrent: Chain;
  sequential: Chain;
  skipIf(condition: unknown): Chain;
  runIf(condition: unknown): Chain;
}

function chain(register: (name: string, fn: TestFn | undefined, options: Options, mode: Mode) => void, mode: Mode): Chain {
  const call = ((name: unknown, a?: unknown, b?: unknown) => {
    const { fn, options } = parseArgs(a, b);
    register(nameOf(name), fn, options, modeOf(mode, options, fn !== undefined));
  }) as Chain;
  // .each spreads array rows into the handler; .for passes each row whole.
  const each = (spread: boolean): Each => (cases) => (name, a, b) => {
    const { fn, options } = parseArgs(a, b);
    const arraysOnly = cases.every(Array.isArray);
    cases.forEach((row, index) => {
      const items = Array.isArray(row) ? row : [row];
      const handler = fn && (spread && arraysOnly ? (...rest: unknown[]) => fn(...items, ...rest) : (...rest: unknown[]) => fn(row, ...rest));
      register(formatTitle(nameOf(name), items, index), handler, options, modeOf(mode, options, handler !== undefined));
    });
  };
  call.each = each(true);
  call.for = each(false);
  Object.defineProperty(call, 'skip', { get: () => chain(register, mode === 'run' || mode === 'only' ? 'skip' : mode) });
  Object.defineProperty(call, 'only', { get: () => chain(register, mode === 'run' ? 'only' : mode) });
  Object.defineProperty(call, 'todo', { get: () => chain(register, 'todo') });
  Object.defineProperty(call, 'concurrent', { get: () => call });
  Object.defineProperty(call, 'sequential', { get: () => call });
  call.skipIf = (condition) => (condition ? call.skip : call);
  call.runIf = (condition) => (condition ? call : call.skip);
  return call;
}

export const describe: Chain = chain((name, factory, options, mode) => {
  current.children.push(newSuite(name, mode === 'todo' && factory ? 'skip' : mode, current, factory as (() => unknown) | undefined, options.timeout));
}, 'run');
export const suite = describe;

export const it: Chain = chain((name, fn, options, mode) => {
  current.children.push({ kind: 'test', name, fn, mode, timeout: options.timeout, parent: current });
}, 'run');
export const test = it;

function hook(kind: keyof ShimSuite['hooks']) {
  return (fn: HookFn, timeout?: number): void => {
    current.hooks[kind].push(timeout === undefined ? fn : Object.assign((...a: unknown[]) => fn(...a), { timeout }));
  };
}
export const beforeAll = hook('beforeAll');
export const afterAll = hook('afterAll');
export const beforeEach = hook('beforeEach');
export const afterEach = hook('afterEach');

/** A test context's skip(): ends the test as skipped. */
class SkipSignal extends Error {
  override name = 'SkipSignal';
}

// ---------------------------------------------------------------- runner

export interface TestResult {
  file: string;
  name: string;
  state: 'pass' | 'fail' | 'skip' | 'todo';
  ms: number;
  error?: string;
}

export interface RunOptions {
  testTimeoutMs: number;
  hookTimeoutMs: number;
  /** Only tests whose full name (file > suites > test) passes run; the rest count as filtered. */
  filter?: (fullName: string) => boolean;
  /** At most this many more tests run (shared across files, counted down); the rest count as filtered. */
  limit?: { left: number };
  onResult?: (r: TestResult) => void;
}

export interface FileOutcome {
  file: string;
  results: TestResult[];
  /** Errors outside any test: the file failed to load, a beforeAll/afterAll threw. */
  errors: string[];
  filtered: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

async function withTimeout<T>(what: string, ms: number, run: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(run),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out in ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Suite names and the test's, outermost first; the file's root suite is left out. */
function fullName(node: ShimSuite | ShimTest): string {
  const parts: string[] = [];
  for (let n: ShimSuite | ShimTest | undefined = node; n?.parent; n = n.parent) parts.unshift(n.name);
  return parts.join(' > ');
}

async function collect(s: ShimSuite): Promise<void> {
  const outer = current;
  current = s;
  try {
    await s.factory?.();
  } finally {
    current = outer;
  }
  for (const child of s.children) if (child.kind === 'suite') await collect(child);
}

function hasOnly(s: ShimSuite): boolean {
  return s.children.some((c) => c.mode === 'only' || (c.kind === 'suite' && hasOnly(c)));
}

/** Marks what does not run: skipped/todo subtrees, and outside `.only` when the file has one. */
function effectiveModes(s: ShimSuite, inherited: Mode, onlyInFile: boolean, underOnly: boolean, out: Map<ShimTest, Mode>): void {
  for (const c of s.children) {
    const own = c.mode;
    const m: Mode = inherited === 'skip' || inherited === 'todo' ? inherited : own === 'only' ? 'run' : own;
    const only = underOnly || own === 'only';
    if (c.kind === 'suite') {
      const childOnly = onlyInFile && !only && !hasOnly(c) ? 'skip' : m;
      effectiveModes(c, childOnly, onlyInFile, only, out);
    } else out.set(c, onlyInFile && !only && m === 'run' ? 'skip' : m);
  }
}

function testsUnder(s: ShimSuite): ShimTest[] {
  return s.children.flatMap((c) => (c.kind === 'test' ? [c] : testsUnder(c)));
}

async function callHooks(hooks: HookFn[], args: unknown[], timeoutMs: number, what: string): Promise<HookFn[]> {
  const teardowns: HookFn[] = [];
  for (const h of hooks) {
    const ms = (h as { timeout?: number }).timeout ?? timeoutMs;
    const r = await withTimeout(what, ms, () => h(...args));
    if (typeof r === 'function') teardowns.push(r as HookFn);
  }
  return teardowns;
}

/**
 * Loads one test file (its module registers suites and tests at import), then
 * runs what it registered. `load` is the bundler's lazy import of the file.
 */
export async function runFile(file: string, load: () => Promise<unknown>, options: RunOptions): Promise<FileOutcome> {
  const outcome: FileOutcome = { file, results: [], errors: [], filtered: 0 };
  const root = newSuite(file, 'run');
  currentFile = file;
  current = root;
  try {
    await load();
    current = root;
    await collect(root);
  } catch (error) {
    outcome.errors.push(`${file}: failed to load: ${errorText(error)}`);
    return outcome;
  } finally {
    current = newSuite('', 'run');
  }
  const modes = new Map<ShimTest, Mode>();
  effectiveModes(root, 'run', hasOnly(root), false, modes);
  const record = (r: TestResult): void => {
    outcome.results.push(r);
    options.onResult?.(r);
  };
  const selected = (t: ShimTest): boolean => modes.get(t) === 'run' && (options.filter?.(`${file} > ${fullName(t)}`) ?? true);
  for (const t of testsUnder(root)) if (modes.get(t) === 'run' && !selected(t)) outcome.filtered++;

  const runSuite = async (s: ShimSuite, eachHooks: { before: HookFn[]; after: HookFn[] }): Promise<void> => {
    const tests = testsUnder(s);
    const runs = tests.some(selected) && (options.limit?.left ?? 1) > 0;
    const failAll = (error: string) => {
      for (const t of tests) {
        const m = modes.get(t)!;
        if (m === 'run' && !selected(t)) continue;
        record({ file, name: fullName(t), state: m === 'run' ? 'fail' : m === 'todo' ? 'todo' : 'skip', ms: 0, error });
      }
    };
    if (!runs) {
      // Nothing selected here, or --limit used up: the selected ones count as filtered, skip/todo as such.
      for (const t of tests) {
        const m = modes.get(t)!;
        if (m === 'run') {
          if (selected(t)) outcome.filtered++;
        } else record({ file, name: fullName(t), state: m === 'todo' ? 'todo' : 'skip', ms: 0 });
      }
      return;
    }
    const hookMs = s.timeout ?? options.hookTimeoutMs;
    let teardowns: HookFn[] = [];
    try {
      teardowns = await callHooks(s.hooks.beforeAll, [s], hookMs, `beforeAll of "${fullName(s) || file}"`);
    } catch (error) {
      // vitest runs none of the suite's tests after a failed beforeAll; each counts as failed here, so the run fails.
      const text = `beforeAll failed: ${errorText(error)}`;
      outcome.errors.push(`${file} > ${fullName(s)}: ${text}`);
      failAll(text);
      await callHooks([...s.hooks.afterAll].reverse(), [s], hookMs, 'afterAll').catch((e: unknown) => outcome.errors.push(`${file} > ${fullName(s)}: afterAll failed: ${errorText(e)}`));
      return;
    }
    const inner = { before: [...eachHooks.before, ...s.hooks.beforeEach], after: [...s.hooks.afterEach].reverse().concat(eachHooks.after) };
    for (const child of s.children) {
      if (child.kind === 'suite') {
        await runSuite(child, inner);
        continue;
      }
      const m = modes.get(child)!;
      if (m !== 'run') {
        record({ file, name: fullName(child), state: m === 'todo' ? 'todo' : 'skip', ms: 0 });
        continue;
      }
      if (!selected(child)) continue;
      if (options.limit && options.limit.left <= 0) {
        outcome.filtered++;
        continue;
      }
      if (options.limit) options.limit.left--;
      record(await runTest(child, inner, s.timeout));
    }
    try {
      // vitest's order: afterAll hooks, then what beforeAll hooks returned.
      await callHooks([...s.hooks.afterAll].reverse(), [s], hookMs, `afterAll of "${fullName(s) || file}"`);
      for (const td of teardowns.reverse()) await withTimeout('beforeAll teardown', hookMs, td);
    } catch (error) {
      outcome.errors.push(`${file} > ${fullName(s)}: afterAll failed: ${errorText(error)}`);
    }
  };

  const runTest = async (t: ShimTest, hooks: { before: HookFn[]; after: HookFn[] }, suiteTimeout?: number): Promise<TestResult> => {
    const name = fullName(t);
    const started = performance.now();
    const context = {
      task: { name: t.name, fullName: name, file: { name: file } },
      expect,
      signal: new AbortController().signal,
      skip: (note?: string) => {
        throw new SkipSignal(note ?? 'skipped');
      },
      onTestFinished: (fn: HookFn) => finished.push(fn),
      onTestFailed: (fn: HookFn) => failed.push(fn),
    };
    const finished: HookFn[] = [];
    const failed: HookFn[] = [];
    resetExpectState(name);
    let error: unknown;
    let teardowns: HookFn[] = [];
    try {
      teardowns = await callHooks(hooks.before, [context], options.hookTimeoutMs, `beforeEach of "${name}"`);
      await withTimeout(`test "${name}"`, t.timeout ?? suiteTimeout ?? options.testTimeoutMs, () => t.fn!(context));
      checkExpectState();
    } catch (e) {
      error = e;
    }
    try {
      for (const td of teardowns.reverse()) await td();
      await callHooks(hooks.after, [context], options.hookTimeoutMs, `afterEach of "${name}"`);
      if (error !== undefined && !(error instanceof SkipSignal)) for (const f of failed) await f(context);
      for (const f of finished) await f(context);
    } catch (e) {
      error ??= e;
    }
    const ms = performance.now() - started;
    if (error instanceof SkipSignal) return { file, name, state: 'skip', ms };
    return error === undefined ? { file, name, state: 'pass', ms } : { file, name, state: 'fail', ms, error: errorText(error) };
  };

  await runSuite(root, { before: [], after: [] });
  return outcome;
}
