// Optimizers and learning-rate schedules as plain settings objects: the update rules themselves
// are wasm kernels (assembly/optim.ts) run by the trainer over each parameter in place. Defaults
// and rules are PyTorch 1.13's torch.optim (SGD, Adam, AdamW, RMSprop) and lr_scheduler
// (StepLR, CosineAnnealingLR, linear warm-up as LinearLR with start_factor).
import { ValueError } from '../errors';

/** Settings a parameter group may override (lr, weightDecay) on top of its optimizer's. */
export interface ParamGroup {
  /** Parameters whose state_dict name starts with one of these prefixes (or equals it). */
  prefixes: string[];
  /** This group's learning rate (default: the optimizer's). */
  lr?: number;
  /** This group's weight decay (default: the optimizer's; 0 is the usual choice for biases and norms). */
  weightDecay?: number;
}

interface Common {
  /** Learning rate. */
  lr: number;
  /** L2 penalty added to the gradient (SGD, Adam, RMSprop) or decoupled decay (AdamW). */
  weightDecay: number;
  /** Groups of parameters with their own lr / weightDecay (first matching group wins). */
  groups: ParamGroup[];
}

/** torch.optim.SGD. */
export interface SgdOptimizer extends Common {
  /** Which update rule. */
  kind: 'sgd';
  /** Momentum factor (0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer. */
  dampening: number;
  /** Nesterov momentum. */
  nesterov: boolean;
}
/** torch.optim.Adam (decoupled: false) and torch.optim.AdamW (decoupled: true). */
export interface AdamOptimizer extends Common {
  /** Which update rule: L2 penalty in the gradient ('adam') or decoupled decay ('adamw'). */
  kind: 'adam' | 'adamw';
  /** Decay rates of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
}
/** torch.optim.RMSprop. */
export interface RmspropOptimizer extends Common {
  /** Which update rule. */
  kind: 'rmsprop';
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Momentum factor (0: none). */
  momentum: number;
  /** Normalise by the gradient's estimated variance (centered RMSprop). */
  centered: boolean;
}
/** An optimizer's settings (from sgd(), adam(), adamw() or rmsprop()); its state lives with the model. */
export type Optimizer = SgdOptimizer | AdamOptimizer | RmspropOptimizer;

function num(what: string, v: unknown, dflt: number, min = 0, max = Infinity): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new ValueError(`${what} must be a number in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function groupsOf(what: string, g: unknown): ParamGroup[] {
  if (g === undefined) return [];
  if (!Array.isArray(g)) throw new ValueError(`${what}.groups must be an array of { prefixes, lr?, weightDecay? }`);
  return g.map((x: ParamGroup, i) => {
    if (!x || !Array.isArray(x.prefixes) || x.prefixes.some((p) => typeof p !== 'string'))
      throw new ValueError(`${what}.groups[${i}].prefixes must be an array of parameter-name prefixes`);
    return { prefixes: x.prefixes.slice(), lr: x.lr === undefined ? undefined : num(`${what}.groups[${i}].lr`, x.lr, 0), weightDecay: x.weightDecay === undefined ? undefined : num(`${what}.groups[${i}].weightDecay`, x.weightDecay, 0) };
  });
}

/** SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD; lr has no default there, here 0.01). */
export function sgd(o: { lr?: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number; groups?: ParamGroup[] } = {}): SgdOptimizer {
  const r: SgdOptimizer = {
    kind: 'sgd', lr: num('sgd: lr', o.lr, 0.01), momentum: num('sgd: momentum', o.momentum, 0), dampening: num('sgd: dampening', o.dampening, 0, 0, 1),
    nesterov: o.nesterov === true, weightDecay: num('sgd: weightDecay', o.weightDecay, 0), groups: groupsOf('sgd', o.groups),
  };
  if (r.nesterov && (r.momentum <= 0 || r.dampening !== 0)) throw new ValueError('sgd: nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)');
  return r;
}

function adamLike(kind: 'adam' | 'adamw', o: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; groups?: ParamGroup[] }): AdamOptimizer {
  const betas = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) throw new ValueError(`${kind}: betas must be [beta1, beta2]`);
  return {
    kind, lr: num(`${kind}: lr`, o.lr, 1e-3), betas: [num(`${kind}: betas[0]`, betas[0], 0.9, 0, 0.999999999), num(`${kind}: betas[1]`, betas[1], 0.999, 0, 0.999999999)],
    eps: num(`${kind}: eps`, o.eps, 1e-8), weightDecay: num(`${kind}: weightDecay`, o.weightDecay, kind === 'adamw' ? 1e-2 : 0),
    amsgrad: o.amsgrad === true, groups: groupsOf(kind, o.groups),
  };
}

/** Adam (torch.optim.Adam: lr 1e-3, betas (0.9, 0.999), eps 1e-8, L2 weight decay 0). */
export function adam(o: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; groups?: ParamGroup[] } = {}): AdamOptimizer {
  return adamLike('adam', o);
}

/** AdamW (torch.optim.AdamW: as Adam, decoupled weight decay 1e-2). */
export function adamw(o: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; groups?: ParamGroup[] } = {}): AdamOptimizer {
  return adamLike('adamw', o);
}

/** RMSprop (torch.optim.RMSprop: lr 1e-2, alpha 0.99, eps 1e-8, momentum 0, not centered). */
export function rmsprop(o: { lr?: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean; groups?: ParamGroup[] } = {}): RmspropOptimizer {
  return {
    kind: 'rmsprop', lr: num('rmsprop: lr', o.lr, 1e-2), alpha: num('rmsprop: alpha', o.alpha, 0.99, 0, 1), eps: num('rmsprop: eps', o.eps, 1e-8),
    weightDecay: num('rmsprop: weightDecay', o.weightDecay, 0), momentum: num('rmsprop: momentum', o.momentum, 0), centered: o.centered === true,
    groups: groupsOf('rmsprop', o.groups),
  };
}

/** A learning-rate schedule: the factor applied to each group's lr at epoch `epoch` (0-based, fractional within an epoch allowed). */
export type Schedule = (epoch: number) => number;

/** StepLR: lr × gamma^floor(epoch / stepSize). */
export function stepLR(stepSize: number, gamma = 0.1): Schedule {
  num('stepLR: stepSize', stepSize, 1, 1);
  return (e) => gamma ** Math.floor(e / stepSize);
}

/** CosineAnnealingLR (closed form): lr_min/lr + (1 - lr_min/lr)(1 + cos(π e / tMax)) / 2; `minFactor` is lr_min/lr. */
export function cosineLR(tMax: number, minFactor = 0): Schedule {
  num('cosineLR: tMax', tMax, 1, Number.MIN_VALUE);
  return (e) => minFactor + ((1 - minFactor) * (1 + Math.cos((Math.PI * Math.min(e, tMax)) / tMax))) / 2;
}

/** Linear warm-up from `startFactor` to 1 over `epochs`, then `after` (default constant 1), shifted by the warm-up. */
export function warmup(epochs: number, after?: Schedule, startFactor = 1 / 3): Schedule {
  num('warmup: epochs', epochs, 1, 0);
  return (e) => (e < epochs ? startFactor + ((1 - startFactor) * e) / epochs : after ? after(e - epochs) : 1);
}
