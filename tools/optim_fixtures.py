"""Fixtures for the training kernels (test/optim-kernels.test.ts), computed with PyTorch 1.13.

Writes test/fixtures/train/optim.json:
  optim:  a 7-element w and 3 gradients; w after each step of torch.optim.SGD (momentum 0.9,
          nesterov on/off, dampening, weight decay), Adam, AdamW, Adam(amsgrad), RMSprop
          (plain, centered, momentum, both with weight decay), single-tensor path (foreach=False).
  losses: F.cross_entropy (class weights, label_smoothing), F.binary_cross_entropy_with_logits
          (pos_weight), F.mse_loss, F.smooth_l1_loss (beta): inputs, mean loss, input gradient.
  acts:   activation gradients (autograd of F.relu, hardtanh, relu6, leaky_relu, sigmoid, tanh,
          hardsigmoid, hardswish, silu, gelu both forms, elu) at points including the kinks.
  norms:  BatchNorm2d in training mode (y, running stats, dx, dgamma, dbeta) and LayerNorm.

Run: /usr/bin/python3 tools/optim_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'train', 'optim.json')


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run_optim(make, w0, grads):
    p = torch.nn.Parameter(w0.clone())
    opt = make([p])
    out = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        out.append(flat(p))
    return out


def optim_cases():
    w0 = torch.randn(7)
    grads = [torch.randn(7) for _ in range(3)]
    cases = []

    def add(name, kind, hp, make):
        cases.append({'name': name, 'kind': kind, 'hp': hp, 'w': run_optim(make, w0, grads)})

    O = torch.optim
    for hp in [
        dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
        dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
        dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True),
        dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.0, nesterov=False),
        dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True),
        dict(lr=0.05, momentum=0.0, dampening=0.0, weight_decay=0.01, nesterov=False),
    ]:
        add('sgd %s' % hp, 'sgd', hp, lambda ps, hp=hp: O.SGD(ps, foreach=False, **hp))
    for name, cls, hp in [
        ('adam', O.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)),
        ('adam L2', O.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05, amsgrad=False)),
        ('amsgrad', O.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0, amsgrad=True)),
        ('adamw', O.AdamW, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False)),
        ('adamw amsgrad', O.AdamW, dict(lr=0.02, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, amsgrad=True)),
    ]:
        h = dict(hp)
        h['beta1'], h['beta2'] = h.pop('betas')
        h['decoupled'] = cls is O.AdamW
        add(name, 'adam', h, lambda ps, cls=cls, hp=hp: cls(ps, foreach=False, **hp))
    for hp in [
        dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
        dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=True),
        dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.9, centered=False),
        dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.02, momentum=0.9, centered=True),
    ]:
        add('rmsprop %s' % hp, 'rmsprop', hp, lambda ps, hp=hp: O.RMSprop(ps, foreach=False, **hp))
    return {'w0': flat(w0), 'grads': [flat(g) for g in grads], 'cases': cases}


def loss_cases():
    out = {}
    N, C = 7, 5
    x = torch.randn(N, C) * 2
    t = torch.randint(0, C, (N,))
    w = torch.rand(C) + 0.2
    xe = []
    for weight in [None, w]:
        for s in [0.0, 0.1, 0.3]:
            xi = x.clone().requires_grad_(True)
            l = F.cross_entropy(xi, t, weight=weight, label_smoothing=s)
            l.backward()
            xe.append({'weighted': weight is not None, 'smoothing': s, 'loss': float(l), 'grad': flat(xi.grad)})
    out['xent'] = {'N': N, 'C': C, 'x': flat(x), 't': t.tolist(), 'w': flat(w), 'cases': xe}
    # ignore_index (segmentation's void label): rows 1 and 4 take no part
    ti = t.clone()
    ti[1] = ti[4] = 255
    xi_cases = []
    for weight in [None, w]:
        for s in [0.0, 0.2]:
            xi = x.clone().requires_grad_(True)
            l = F.cross_entropy(xi, ti, weight=weight, label_smoothing=s, ignore_index=255)
            l.backward()
            xi_cases.append({'weighted': weight is not None, 'smoothing': s, 'ignore': 255, 'loss': float(l), 'grad': flat(xi.grad)})
    out['xentIgnore'] = {'t': ti.tolist(), 'cases': xi_cases}
    n = 13
    z = torch.randn(n) * 3
    tt = torch.rand(n)
    bce = []
    for pw in [1.0, 2.5]:
        zi = z.clone().requires_grad_(True)
        l = F.binary_cross_entropy_with_logits(zi, tt, pos_weight=None if pw == 1.0 else torch.tensor([pw]))
        l.backward()
        bce.append({'posWeight': pw, 'loss': float(l), 'grad': flat(zi.grad)})
    out['bce'] = {'x': flat(z), 't': flat(tt), 'cases': bce}
    a = torch.randn(n) * 2
    b = torch.randn(n) * 2
    ai = a.clone().requires_grad_(True)
    l = F.mse_loss(ai, b)
    l.backward()
    out['mse'] = {'x': flat(a), 't': flat(b), 'loss': float(l), 'grad': flat(ai.grad)}
    sl = []
    for beta in [1.0, 0.5, 0.0]:
        ai = a.clone().requires_grad_(True)
        l = F.smooth_l1_loss(ai, b, beta=beta)
        l.backward()
        sl.append({'beta': beta, 'loss': float(l), 'grad': flat(ai.grad)})
    out['smoothL1'] = {'x': flat(a), 't': flat(b), 'cases': sl}
    return out


def act_cases():
    pts = torch.tensor([-7.0, -3.5, -3.0, -2.0, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 3.5, 6.0, 7.0]
                       + (torch.randn(15) * 3).tolist())
    dy = torch.randn(pts.numel())
    # [name, ACT op name, p0, p1, function]
    table = [
        ('relu', 'RELU', 0, 0, F.relu),
        ('hardtanh', 'CLAMP', -1, 1, lambda v: F.hardtanh(v, -1.0, 1.0)),
        ('relu6', 'CLAMP', 0, 6, F.relu6),
        ('leaky_relu', 'LEAKY', 0.1, 0, lambda v: F.leaky_relu(v, 0.1)),
        ('sigmoid', 'SIGMOID', 0, 0, torch.sigmoid),
        ('tanh', 'TANH', 0, 0, torch.tanh),
        ('hardsigmoid', 'HARDSIGMOID', 1.0 / 6.0, 0.5, F.hardsigmoid),
        ('hardswish', 'HARDSWISH', 0, 0, F.hardswish),
        ('silu', 'SILU', 0, 0, F.silu),
        ('gelu', 'GELU_ERF', 0, 0, F.gelu),
        ('gelu_tanh', 'GELU_TANH', 0, 0, lambda v: F.gelu(v, approximate='tanh')),
        ('elu', 'ELU', 0.7, 0, lambda v: F.elu(v, 0.7)),
    ]
    cases = []
    for name, op, p0, p1, f in table:
        xi = pts.clone().requires_grad_(True)
        y = f(xi)
        y.backward(dy)
        cases.append({'name': name, 'op': op, 'p0': p0, 'p1': p1, 'y': flat(y), 'dx': flat(xi.grad)})
    return {'x': flat(pts), 'dy': flat(dy), 'cases': cases}


def norm_cases():
    N, C, H, W = 3, 5, 3, 3
    x = torch.randn(N, C, H, W) * 2 + 0.5
    r = torch.randn(N, C, H, W)
    bn = torch.nn.BatchNorm2d(C, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(C) + 0.5)
        bn.bias.copy_(torch.randn(C))
        bn.running_mean.copy_(torch.randn(C) * 0.1)
        bn.running_var.copy_(torch.rand(C) + 0.5)
    g0, b0, rm0, rv0 = flat(bn.weight), flat(bn.bias), flat(bn.running_mean), flat(bn.running_var)
    bn.train()
    xi = x.clone().requires_grad_(True)
    y = bn(xi)
    y.backward(r)
    out = {'bn': {'N': N, 'C': C, 'HW': H * W, 'eps': 1e-5, 'momentum': 0.1, 'x': flat(x), 'dy': flat(r),
                  'gamma': g0, 'beta': b0, 'runMean0': rm0, 'runVar0': rv0, 'y': flat(y),
                  'runMean': flat(bn.running_mean), 'runVar': flat(bn.running_var), 'dx': flat(xi.grad),
                  'dgamma': flat(bn.weight.grad), 'dbeta': flat(bn.bias.grad)}}
    rows, n = 5, 13
    x = torch.randn(rows, n) * 1.5
    r = torch.randn(rows, n)
    ln = torch.nn.LayerNorm(n, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(torch.rand(n) + 0.5)
        ln.bias.copy_(torch.randn(n))
    xi = x.clone().requires_grad_(True)
    y = ln(xi)
    y.backward(r)
    out['ln'] = {'rows': rows, 'n': n, 'eps': 1e-5, 'x': flat(x), 'dy': flat(r), 'gamma': flat(ln.weight),
                 'beta': flat(ln.bias), 'y': flat(y), 'dx': flat(xi.grad), 'dgamma': flat(ln.weight.grad),
                 'dbeta': flat(ln.bias.grad)}
    return out


def main():
    data = {'torch': torch.__version__, 'optim': optim_cases(), 'losses': loss_cases(), 'acts': act_cases(),
            'norms': norm_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.relpath(OUT), os.path.getsize(OUT), 'bytes')


if __name__ == '__main__':
    main()
