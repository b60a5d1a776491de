/**
 * The low-priority wait (src/gpu/node-wait-priority.ts): while the JS thread
 * waits for a CPU adapter, it runs at nice 19 and gets its own priority back
 * afterwards; SwiftShader's shader threads keep theirs. Unit cases drive a
 * fake thread; the last case watches the real thread during a real GPU wait.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isCpuAdapter } from '../../src/gpu/device.ts';
import { awaitGpu } from '../../src/gpu/gpu-wait.ts';
import { canRestore, lowPriorityWaiter, readNicePermissions, type NicePermissions, type ThreadPriority } from '../../src/gpu/node-wait-priority.ts';
import { testGpu } from '../helpers/gpu.ts';

const root: NicePermissions = { capSysNice: true, rlimitNice: 0 };
const user: NicePermissions = { capSysNice: false, rlimitNice: 0 };

function fakeThread(nice = 0): ThreadPriority & { nice: number; history: number[] } {
  const t = {
    nice,
    history: [] as number[],
    get: () => t.nice,
    set: (n: number) => {
      t.nice = n;
      t.history.push(n);
    },
  };
  return t;
}

function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function waiterOf(result: ReturnType<typeof lowPriorityWaiter>) {
  if ('reason' in result) throw new Error(`expected a waiter, got: ${result.reason}`);
  return result.waiter;
}

describe('low-priority GPU wait', () => {
  it('lowers the thread for the span of overlapping waits and restores it after the last', async () => {
    const thread = fakeThread(-8);
    const wait = waiterOf(lowPriorityWaiter({ env: {}, platform: 'linux', thread, permissions: root }));
    const a = deferred();
    const b = deferred();
    const waitA = wait(a.promise);
    expect(thread.nice).toBe(19);
    const waitB = wait(b.promise);
    a.resolve('a');
    expect(await waitA).toBe('a');
    expect(thread.nice).toBe(19); // b still pending
    b.resolve('b');
    expect(await waitB).toBe('b');
    expect(thread.nice).toBe(-8);
    expect(thread.history).toEqual([19, -8]);
  });

  it('restores the priority when the wait rejects, and passes the rejection on', async () => {
    const thread = fakeThread(0);
    const wait = waiterOf(lowPriorityWaiter({ env: {}, platform: 'linux', thread, permissions: root }));
    const d = deferred();
    const waiting = wait(d.promise);
    d.reject(new Error('device lost'));
    await expect(waiting).rejects.toThrow('device lost');
    expect(thread.nice).toBe(0);
  });

  it('is not installed where the priority could not be taken back, or when turned off', () => {
    const reason = (r: ReturnType<typeof lowPriorityWaiter>) => ('reason' in r ? r.reason : 'installed');
    expect(reason(lowPriorityWaiter({ env: {}, platform: 'linux', thread: fakeThread(0), permissions: user }))).toMatch(/could not take its priority back.*ulimit -e 20/);
    expect(reason(lowPriorityWaiter({ env: {}, platform: 'linux', thread: fakeThread(0), permissions: { capSysNice: false, rlimitNice: 20 } }))).toBe('installed');
    expect(reason(lowPriorityWaiter({ env: { LENET_GPU_WAIT_NICE: 'off' }, platform: 'linux', thread: fakeThread(0), permissions: root }))).toMatch(/off/);
    expect(reason(lowPriorityWaiter({ env: { LENET_GPU_WAIT_NICE: '40' }, platform: 'linux', thread: fakeThread(0), permissions: root }))).toMatch(/not off or a nice value/);
    expect(reason(lowPriorityWaiter({ env: {}, platform: 'darwin', thread: fakeThread(0), permissions: root }))).toMatch(/Linux/);
    expect(reason(lowPriorityWaiter({ env: {}, platform: 'linux', thread: fakeThread(19), permissions: root }))).toMatch(/already runs at nice 19/);
    const custom = lowPriorityWaiter({ env: { LENET_GPU_WAIT_NICE: '10' }, platform: 'linux', thread: fakeThread(0), permissions: root });
    expect('nice' in custom && custom.nice).toBe(10);
  });

  it('reads CAP_SYS_NICE and RLIMIT_NICE from /proc text', () => {
    const status = (capEff: string) => `Name:\tnode\nCapEff:\t${capEff}\n`;
    const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}\n`;
    expect(readNicePermissions(status('000001fffeffffff'), limits('0'))).toEqual({ capSysNice: true, rlimitNice: 0 });
    expect(readNicePermissions(status('00000000a80425fb'), limits('0'))).toEqual({ capSysNice: false, rlimitNice: 0 }); // Docker's default set
    expect(readNicePermissions(status('0000000000800000'), limits('25'))).toEqual({ capSysNice: true, rlimitNice: 25 });
    expect(readNicePermissions('', '')).toEqual({ capSysNice: false, rlimitNice: 0 });
    expect(canRestore(0, { capSysNice: false, rlimitNice: 20 })).toBe(true);
    expect(canRestore(-5, { capSysNice: false, rlimitNice: 20 })).toBe(false);
  });

  it('on a hardware adapter, waits at normal priority (the poll does not compete with shaders)', async () => {
    const gpu = await testGpu();
    if (isCpuAdapter(gpu.report)) {
      // This machine's adapter is a CPU one: the expectation is the next test's.
      expect(gpu.report.waiting).toMatch(/nice 19|normal priority \(/);
      return;
    }
    expect(gpu.report.waiting).toMatch(/^promises at normal priority \(hardware adapter/);
    // And the JS thread keeps its priority through a wait.
    const own = getPriority(0);
    const waiting = awaitGpu(gpu.device, gpu.device.queue.onSubmittedWorkDone());
    expect(getPriority(0)).toBe(own);
    await waiting;
  });

  it('on a CPU adapter in Node, the real JS thread waits at nice 19 and the shader threads keep their priority', async () => {
    const gpu = await testGpu();
    if (!isCpuAdapter(gpu.report)) {
      // A hardware adapter: the previous test holds its expectation (normal priority).
      expect(gpu.report.waiting).toMatch(/hardware adapter/);
      return;
    }
    const threadNice = (): Map<string, number> => {
      const out = new Map<string, number>();
      for (const tid of readdirSync('/proc/self/task')) {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        out.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
      }
      return out;
    };
    const allowed = canRestore(getPriority(0), readNicePermissions());
    if (!allowed) {
      // Without the right to restore, the engine must say so and leave the thread alone.
      expect(gpu.report.waiting).toMatch(/normal priority/);
      return;
    }
    expect(gpu.report.waiting, 'SwiftShader (a CPU adapter) with permission to restore should get the low-priority wait').toMatch(/nice 19/);
    const own = getPriority(0);
    const before = threadNice();
    let during = NaN;
    let othersDuring = new Map<string, number>();
    // Work long enough that the check below runs while the wait is pending.
    const encoder = gpu.device.createCommandEncoder();
    const buffer = gpu.device.createBuffer({ size: 64 << 20, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    const other = gpu.device.createBuffer({ size: 64 << 20, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    for (let i = 0; i < 8; i++) encoder.copyBufferToBuffer(i % 2 ? other : buffer, 0, i % 2 ? buffer : other, 0, 64 << 20);
    gpu.device.queue.submit([encoder.finish()]);
    const waiting = awaitGpu(gpu.device, gpu.device.queue.onSubmittedWorkDone());
    during = getPriority(0);
    othersDuring = threadNice();
    await waiting;
    buffer.destroy();
    other.destroy();
    expect(during).toBe(19);
    expect(getPriority(0)).toBe(own);
    // Every other thread that existed before kept its nice value.
    const mainTid = String(process.pid);
    for (const [tid, nice] of before) {
      if (tid === mainTid || !othersDuring.has(tid)) continue;
      expect(othersDuring.get(tid), `thread ${tid}`).toBe(nice);
    }
    expect(othersDuring.get(mainTid)).toBe(19);
  });
});
