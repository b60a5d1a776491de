/**
 * Faults on demand, for the tests that prove a run survives them
 * (test/cli/interruptions.test.ts); not for users. LENET_GPU_FAULT holds a
 * comma-separated list of:
 *   kill@E:S            SIGKILL this process once step S of epoch E is reported
 *   sigint@E:S          send it SIGINT (Ctrl-C) there: the run stops and saves
 *   kill@checkpoint:N   SIGKILL it halfway through writing its Nth last.ckpt
 *   lose-device@E:S     destroy the GPU device once step S of epoch E is
 *                       reported (the run recovers on a new device)
 * Each fires once. A malformed list is an error, so a test cannot pass by
 * injecting nothing.
 */
export interface Faults {
  /** Called with every step event; `device` gives the device in use now. */
  onStep(epoch: number, step: number, device: () => GPUDevice): void;
  /** The hook to pass to writeFileAtomic for the nth last.ckpt, if that write is to be killed. */
  duringCheckpoint(n: number): (() => void) | undefined;
}

type StepFault = 'kill' | 'sigint' | 'lose-device';
type Fault = { kind: StepFault; epoch: number; step: number; fired: boolean } | { kind: 'kill-checkpoint'; n: number };

export function faultsFrom(spec: string | undefined): Faults {
  const faults: Fault[] = [];
  for (const item of (spec ?? '').split(',').filter(Boolean)) {
    const step = /^(kill|sigint|lose-device)@(\d+):(\d+)$/.exec(item);
    const checkpoint = /^kill@checkpoint:(\d+)$/.exec(item);
    if (step) faults.push({ kind: step[1] as StepFault, epoch: Number(step[2]), step: Number(step[3]), fired: false });
    else if (checkpoint) faults.push({ kind: 'kill-checkpoint', n: Number(checkpoint[1]) });
    else throw new Error(`LENET_GPU_FAULT: cannot read "${item}" (expected kill@E:S, sigint@E:S, kill@checkpoint:N or lose-device@E:S)`);
  }
  const kill = (): never => {
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable: SIGKILL did not end the process');
  };
  return {
    onStep(epoch, stepDone, device) {
      for (const f of faults) {
        if (f.kind === 'kill-checkpoint' || f.fired || epoch !== f.epoch || stepDone < f.step) continue;
        f.fired = true;
        if (f.kind === 'kill') kill();
        else if (f.kind === 'sigint') process.kill(process.pid, 'SIGINT');
        else device().destroy();
      }
    },
    duringCheckpoint(n) {
      return faults.some((f) => f.kind === 'kill-checkpoint' && f.n === n) ? kill : undefined;
    },
  };
}
