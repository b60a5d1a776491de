#!/usr/bin/env python3
"""The same LeNet-5 training step in PyTorch, for the device run's comparison.

The classic preset of src/graph/spec.ts, exactly: conv 6@5x5 'same' + tanh,
avg-pool 2, conv 16@5x5 'valid' + tanh, avg-pool 2, flatten, dense 120 tanh,
dense 84 tanh, dense 10 softmax (61,706 parameters; the softmax is folded into
the cross-entropy, as the engine's fused softmax-xent kernel does). Adam with
the engine's (Keras's) hyper-parameters: lr 0.001, betas 0.9/0.999, eps 1e-7.
Glorot-uniform weights, zero biases. MNIST's training images resident on the
GPU as float32 pixels / 255 (what the engine's gather kernel produces), and
each step gathers its batch there by a shuffled index list and a cursor on
the GPU, as the engine does: no host work or transfer per step. fp32 only
(TF32 off), as the engine computes.

Two modes per batch size: eager, and a CUDA graph holding one whole step
(gather, forward, loss, backward, capturable Adam). Timing as the engine's
bench: warm-up steps, a calibration that sizes each repeat to about
--repeat-seconds, then timed repeats from a synchronize to a synchronize;
medians are reported.

Writes --json: {"skipped": reason} where there is no PyTorch or no CUDA
device, else the rows. --device cpu runs the eager mode on the CPU, to check
the script on a machine without a GPU.
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return data[4 + 4 * dims:], shape


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--mnist", required=True, help="folder holding train-images-idx3-ubyte and train-labels-idx1-ubyte")
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--modes", default="eager,cuda-graph")
    ap.add_argument("--repeat-seconds", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    out = {}

    def write():
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")

    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001 - any import failure means "no PyTorch here"
        out["skipped"] = f"no PyTorch ({type(e).__name__}: {e})"
        write()
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        out["skipped"] = f"torch {torch.__version__} sees no CUDA device"
        write()
        return 0

    dev = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    out.update({
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if args.device == "cuda" else None,
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "settings": {"dtype": "float32", "tf32": False, "cudnn.benchmark": True, "adam": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-7},
                     "warmup": args.warmup, "repeatSeconds": args.repeat_seconds, "repeats": args.repeats},
        "rows": [],
    })
    write()

    pixels, shape = read_idx(os.path.join(args.mnist, "train-images-idx3-ubyte"))
    labels_raw, _ = read_idx(os.path.join(args.mnist, "train-labels-idx1-ubyte"))
    n = shape[0]
    images = (torch.frombuffer(bytearray(pixels), dtype=torch.uint8).to(dev).float().div_(255.0)).view(n, 1, 28, 28)
    labels = torch.frombuffer(bytearray(labels_raw), dtype=torch.uint8).to(dev).long()

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)  # 'same' for an odd kernel: 2 on each side
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)  # Keras's glorot_uniform: the same fans
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
            x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
            x = x.flatten(1)
            x = torch.tanh(self.fc1(x))
            x = torch.tanh(self.fc2(x))
            return self.fc3(x)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    def setup(batch, capturable):
        torch.manual_seed(1)
        model = LeNet5().to(dev)
        assert sum(p.numel() for p in model.parameters()) == 61706
        opt = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7, capturable=capturable)
        perm = torch.randperm(n, device=dev)
        lanes = torch.arange(batch, device=dev)
        cursor = torch.zeros((), dtype=torch.long, device=dev)

        def step():
            idx = perm[(cursor + lanes) % n]
            cursor.add_(batch)
            loss = F.cross_entropy(model(images[idx]), labels[idx])
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    def measure(run, batch):
        """Calibrated repeats of run(k) (k steps); returns ms/step values."""
        run(args.warmup)
        sync()
        t0 = time.perf_counter()
        run(10)
        sync()
        ms = (time.perf_counter() - t0) * 1000 / 10
        steps = max(10, min(20000, round(args.repeat_seconds * 1000 / max(ms, 1e-3))))
        values = []
        for _ in range(args.repeats):
            sync()
            t0 = time.perf_counter()
            run(steps)
            sync()
            values.append((time.perf_counter() - t0) * 1000 / steps)
        return steps, values

    for batch in [int(b) for b in args.batches.split(",")]:
        for mode in args.modes.split(","):
            row = {"batch": batch, "mode": mode}
            try:
                if mode == "eager":
                    model, opt, step = setup(batch, capturable=False)

                    def run(k):
                        for _ in range(k):
                            opt.zero_grad(set_to_none=True)
                            loss = step()
                        return loss
                elif mode == "cuda-graph":
                    if args.device != "cuda":
                        raise RuntimeError("CUDA graphs need a CUDA device")
                    model, opt, step = setup(batch, capturable=True)
                    # Warm up on a side stream before capture, as torch.cuda.graphs' docs ask.
                    side = torch.cuda.Stream()
                    side.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(side):
                        for _ in range(3):
                            opt.zero_grad(set_to_none=True)
                            step()
                    torch.cuda.current_stream().wait_stream(side)
                    graph = torch.cuda.CUDAGraph()
                    opt.zero_grad(set_to_none=True)
                    with torch.cuda.graph(graph):
                        static_loss = step()

                    def run(k):
                        for _ in range(k):
                            graph.replay()
                        return static_loss
                else:
                    raise ValueError(f"unknown mode {mode}")
                steps, values = measure(run, batch)
                ms = statistics.median(values)
                loss = float(run(1).item())
                row.update({"samplesPerSecond": batch * 1000 / ms, "msPerStep": ms, "stepsPerRepeat": steps, "repeats": len(values),
                            "values": values, "lossAfter": loss})
                print(f"torch B={batch} {mode}: {batch * 1000 / ms:.0f} samples/s, {ms:.4f} ms/step (loss {loss:.4f})", flush=True)
            except Exception as e:  # noqa: BLE001 - one failed mode must not lose the others
                row["error"] = f"{type(e).__name__}: {e}"
                print(f"torch B={batch} {mode}: FAILED {row['error']}", flush=True)
            out["rows"].append(row)
            write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
