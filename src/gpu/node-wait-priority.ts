/**
 * Node's waiter for CPU adapters: while the JS thread waits for the GPU, it
 * runs at the lowest scheduling priority (nice 19), and gets its own back
 * when the last pending wait ends.
 *
 * Why: Dawn's Node binding polls for completion on the JS thread while a
 * WebGPU promise is pending, keeping it runnable all the time. With
 * SwiftShader, the "GPU" is a pool of worker threads on the same cores, so on
 * a 2-core machine the poll takes about a third of the shaders' CPU. At nice
 * 19 the scheduler gives the poll about 1.5% against a busy worker, and the
 * poll still notices completion at once, because the workers go idle then.
 *
 * Linux only, where nice is per thread: setpriority(PRIO_PROCESS, 0) changes
 * the calling thread alone, so SwiftShader's threads (created earlier, when
 * the device was) and the rest of the process keep their priority. Taking
 * the priority back up needs CAP_SYS_NICE or a high enough RLIMIT_NICE; where
 * the process has neither, the waiter is not installed, rather than leave
 * the thread at nice 19 for good. LENET_GPU_WAIT_NICE=off turns it off;
 * a number sets the nice used while waiting.
 */
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { GpuWaiter } from './gpu-wait.ts';

export const WAIT_NICE = 19;
const CAP_SYS_NICE = 23n;

/** What the process may do about its threads' nice values, from /proc. */
export interface NicePermissions {
  /** CAP_SYS_NICE in the effective set: any nice value. */
  capSysNice: boolean;
  /** Soft RLIMIT_NICE: nice values down to 20 - this are allowed without the capability. */
  rlimitNice: number;
}

export function readNicePermissions(status = readProc('/proc/self/status'), limits = readProc('/proc/self/limits')): NicePermissions {
  const cap = /^CapEff:\s*([0-9a-f]+)/im.exec(status);
  const rlimit = /^Max nice priority\s+(\d+|unlimited)/im.exec(limits);
  return {
    capSysNice: cap ? ((BigInt(`0x${cap[1]}`) >> CAP_SYS_NICE) & 1n) === 1n : false,
    rlimitNice: rlimit ? (rlimit[1] === 'unlimited' ? 40 : Number(rlimit[1])) : 0,
  };
}

/** True when a thread at `waitNice` may go back to `ownNice`. */
export function canRestore(ownNice: number, permissions: NicePermissions): boolean {
  return permissions.capSysNice || ownNice >= 20 - permissions.rlimitNice;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export interface ThreadPriority {
  get(): number;
  set(nice: number): void;
}

/** The calling thread's nice value (pid 0 is the calling thread on Linux). */
export const callingThread: ThreadPriority = {
  get: () => getPriority(0),
  set: (nice) => setPriority(0, nice),
};

/**
 * The waiter, or why there is none. Nested and overlapping waits share one
 * lowered span: the priority drops when the first begins and is restored
 * when the last ends.
 */
export function lowPriorityWaiter(options: { env?: NodeJS.ProcessEnv; platform?: string; thread?: ThreadPriority; permissions?: NicePermissions } = {}): { waiter: GpuWaiter; nice: number } | { reason: string } {
  const env = options.env ?? process.env;
  const setting = env.LENET_GPU_WAIT_NICE?.trim();
  if (setting === 'off' || setting === '0') return { reason: 'LENET_GPU_WAIT_NICE=off' };
  const waitNice = setting ? Number(setting) : WAIT_NICE;
  if (!Number.isInteger(waitNice) || waitNice < 1 || waitNice > 19) return { reason: `LENET_GPU_WAIT_NICE=${setting} is not off or a nice value 1..19; waiting at normal priority` };
  if ((options.platform ?? process.platform) !== 'linux') return { reason: 'per-thread priority needs Linux' };
  const thread = options.thread ?? callingThread;
  const permissions = options.permissions ?? readNicePermissions();
  const own = thread.get();
  if (own >= waitNice) return { reason: `the thread already runs at nice ${own}` };
  if (!canRestore(own, permissions)) {
    return { reason: `the process could not take its priority back after a wait (no CAP_SYS_NICE, RLIMIT_NICE ${permissions.rlimitNice}); raise it with ulimit -e ${20 - own} to allow it` };
  }
  let pending = 0;
  let restoreTo = own;
  let broken = false;
  const waiter: GpuWaiter = async (promise) => {
    if (broken) return promise;
    if (pending++ === 0) {
      try {
        restoreTo = thread.get();
        if (restoreTo < waitNice) thread.set(waitNice);
      } catch {
        broken = true;
      }
    }
    try {
      return await promise;
    } finally {
      if (--pending === 0 && !broken) {
        try {
          thread.set(restoreTo);
        } catch {
          broken = true; // stays lowered; no further waits change it
        }
      }
    }
  };
  return { waiter, nice: waitNice };
}
