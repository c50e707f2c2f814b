#!/usr/bin/env python3
"""PyTorch's side of wasmcnn's training benchmark (bench/train.js, issue 16).

1. CPU time of one training step -- forward, softmax cross-entropy (F.cross_entropy), backward,
   SGD with momentum (lr 0.01, momentum 0.9) -- for the networks the bench times: LeNet-5
   (LeCun et al. 1998, ReLU + max pooling, as models/lenet.ts) at batch 32 on 1x32x32, and
   torchvision's mobilenet_v2 (Sandler et al. 2018; the classifier's Dropout replaced by Identity,
   as wasmcnn builds it) on 3x224x224 at batches 8, 16 and 32; with torch.set_num_threads(1) and
   with as many threads as the machine has cores (and PyTorch's default count), for reference. Median of N steps after warm-up steps.
2. Memory of training resnet18 (torchvision, He et al. 2016) at batch 32 on 3x224x224: the bytes
   of the tensors autograd saves for backward, counted with torch.autograd.graph.saved_tensors_hooks
   (the pack hook sees every tensor as it is saved): every save summed (numel * element size), and
   the distinct storages that are not parameters (a tensor saved by two nodes, or an in-place
   ReLU's output saved over its input, counted once; weights excluded) -- the latter is the
   figure to put next to wasmcnn's kept forward values. Parameter and gradient bytes are printed
   too.

Usage: /usr/bin/python3 tools/train_bench_torch.py [--steps 10] [--skip-time] [--skip-memory]
       [--cases lenet5@32,mobilenet_v2@8,mobilenet_v2@16,mobilenet_v2@32]
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class LeNet5(nn.Module):
    """LeNet-5 as models/lenet.ts builds it (torchvision-style features/classifier names)."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def make(name):
    """The network, its input's channels/side and its class count."""
    torch.manual_seed(0)
    if name == 'lenet5':
        return LeNet5(), 1, 32, 10
    if name == 'mobilenet_v2':
        m = torchvision.models.mobilenet_v2(num_classes=1000)
        m.classifier[0] = nn.Identity()  # wasmcnn's mobilenet_v2 has no dropout before the classifier
        return m, 3, 224, 1000
    if name == 'resnet18':
        return torchvision.models.resnet18(num_classes=1000), 3, 224, 1000
    raise ValueError(name)


def batch_for(name, batch):
    model, c, s, classes = make(name)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(batch, c, s, s, generator=g) * 2 - 1
    t = torch.tensor([(i * 7) % classes for i in range(batch)], dtype=torch.long)
    return model, x, t


def time_steps(name, batch, steps, warmup):
    """Median and first step ms of a full training step."""
    model, x, t = batch_for(name, batch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        return (time.perf_counter() - t0) * 1e3, loss.item()

    first, l0 = step()
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        ms, l1 = step()
        times.append(ms)
    return statistics.median(times), first, l0, l1


def storage_of(t):
    """The tensor's storage (untyped_storage in PyTorch >= 2, storage() in 1.13)."""
    return t.untyped_storage() if hasattr(t, 'untyped_storage') else t.storage()


def saved_bytes(name, batch):
    """Bytes autograd saves for backward during one forward in training mode."""
    model, x, t = batch_for(name, batch)
    model.train()
    params = {storage_of(p).data_ptr() for p in model.parameters()}
    buffers = {storage_of(b).data_ptr() for b in model.buffers()}
    total = [0, 0]  # every save; count of saves
    storages = {}  # distinct storages of activations (not parameters)

    def pack(tensor):
        n = tensor.numel() * tensor.element_size()
        total[0] += n
        total[1] += 1
        st = storage_of(tensor)
        ptr = st.data_ptr()
        if ptr not in params and ptr not in buffers:
            storages[ptr] = max(storages.get(ptr, 0), st.nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), t)
    loss.backward()
    param_bytes = sum(p.numel() * 4 for p in model.parameters())
    return {'every_save': total[0], 'saves': total[1], 'distinct_activations': sum(storages.values()),
            'input': x.numel() * 4, 'params': param_bytes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--cases', default='lenet5@32,mobilenet_v2@8,mobilenet_v2@16,mobilenet_v2@32')
    ap.add_argument('--memory', default='resnet18@32,mobilenet_v2@8')
    ap.add_argument('--skip-time', action='store_true')
    ap.add_argument('--skip-memory', action='store_true')
    ap.add_argument('--json', action='store_true', help='also print the results as one JSON line (bench/train.js reads it)')
    a = ap.parse_args()
    out = {'torch': torch.__version__, 'steps': {}, 'memory': {}}
    default_threads = torch.get_num_threads()
    print(f'PyTorch {torch.__version__}, torchvision {torchvision.__version__}; default threads {default_threads}, {os.cpu_count()} cores')
    if not a.skip_time:
        print('training step (forward, cross-entropy, backward, SGD momentum 0.9), ms/step: median of '
              f'{a.steps} steps after {a.warmup} warm-up steps (first step apart)')
        print(f'{"case":28}{"threads":>8}{"ms/step":>12}{"first ms":>12}  loss first -> last')
        for spec in a.cases.split(','):
            name, b = spec.split('@')
            for threads in sorted({1, default_threads, os.cpu_count() or 1}):
                torch.set_num_threads(threads)
                if torch.get_num_threads() != threads:
                    print(f'{name + " b" + b:28}{threads:>8}  (set_num_threads({threads}) not honoured)')
                    continue
                steps = a.steps if name == 'lenet5' else max(3, a.steps // 3)
                ms, first, l0, l1 = time_steps(name, int(b), steps, a.warmup if name == 'lenet5' else 1)
                print(f'{name + " b" + b:28}{threads:>8}{ms:>12.1f}{first:>12.1f}  {l0:.3f} -> {l1:.3f}', flush=True)
                out['steps'][f'{spec}/{threads}'] = {'ms': ms, 'first': first}
        torch.set_num_threads(default_threads)
    if not a.skip_memory:
        print('tensors saved for backward (saved_tensors_hooks), one forward in training mode')
        for spec in a.memory.split(','):
            name, b = spec.split('@')
            r = saved_bytes(name, int(b))
            out['memory'][spec] = r
            mb = lambda v: f'{v / 2**20:.1f} MiB'
            print(f'{name} b{b}: distinct activation storages {mb(r["distinct_activations"])} '
                  f'({r["distinct_activations"]} bytes; input {mb(r["input"])} included); every save summed {mb(r["every_save"])} '
                  f'over {r["saves"]} saves; parameters {mb(r["params"])} (+ as much for their gradients)', flush=True)
    if a.json:
        print(json.dumps(out))


if __name__ == '__main__':
    main()
