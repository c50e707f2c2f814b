// Tab 1: LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998) classifying a digit as it is drawn.
// The zoo's LeNet-5 is rebuilt through modelBuilder('lenet5') with two extra graph outputs (the
// ReLU after each convolution), so one run gives the logits and both layers' feature maps.
// Hovering a feature-map pixel outlines its receptive field (Araujo, Norris & Sim 2019,
// "Computing Receptive Fields of Convolutional Neural Networks"): size, jump and start per layer
// from receptiveField(model), position o seeing the box centred at start + o * jump.
import { createModel, modelBuilder, receptiveField, softmax } from 'wasmcnn';
import { digitToInput } from './mnist-input.js';

const $ = (id) => document.getElementById(id);
const PAD = 280;
const INPUT = 32;
/** The feature maps drawn: graph output name, the convolution whose ReLU it is, CSS px per pixel. */
const LAYERS = [
  { name: 'conv1', conv: 'features.0', zoom: 3 },
  { name: 'conv2', conv: 'features.3', zoom: 6 },
];
const STEP_LABELS = { 'features.0': 'conv1 + ReLU', 'features.3': 'conv2 + ReLU', 'classifier.0': 'fc1 + ReLU', 'classifier.2': 'fc2 + ReLU', 'classifier.4': 'fc3 (logits)' };

/**
 * LeNet-5 with its bundled weights and the ReLU outputs of both convolutions as extra outputs.
 * Public API only: the weights come from the zoo model's source graph, keyed by state_dict name.
 */
export async function lenetWithFeatureMaps() {
  const zoo = await createModel('lenet5');
  const b = modelBuilder('lenet5');
  for (const l of LAYERS) {
    const relu = b.graph.nodes.find((n) => n.op === 'Relu' && n.inputs[0] === l.conv);
    if (!relu) throw new Error(`lenet5 has no ReLU after ${l.conv}`);
    b.output(relu.outputs[0], l.name);
  }
  const weights = new Map([...b.weightShapes().keys()].map((k) => [k, zoo.sourceGraph.initializers.get(k)]));
  zoo.dispose();
  const model = await b.build(weights);
  const rf = Object.fromEntries(receptiveField(model).filter((r) => LAYERS.some((l) => l.name === r.name)).map((r) => [r.name, r]));
  return { model, rf };
}

export class DigitsTab {
  constructor() {
    this.pad = $('pad');
    this.ctx = this.pad.getContext('2d', { willReadFrequently: true });
    this.inputView = $('input-view');
    this.lenet = undefined;
    this.input = undefined;
    this.timer = 0;
    this.last = undefined;
    this.clear();
    this.bindPad();
    $('clear').addEventListener('click', () => this.clear());
    this.buildBars();
    this.buildMaps();
  }

  /** (Re)creates the model, e.g. after init({ threads }) changed. */
  async load() {
    this.lenet?.model.dispose();
    this.lenet = await lenetWithFeatureMaps();
    for (const l of LAYERS) {
      const r = this.lenet.rf[l.name];
      $(`rf-${l.name}`).textContent = `· receptive field ${r.size[0]}×${r.size[1]}, jump ${r.jump[0]}, start ${r.start[0]}`;
    }
    if (this.input) this.predict();
  }

  /** Threads the model runs on. */
  get threads() {
    return this.lenet?.model.threads ?? 1;
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, PAD, PAD);
    this.input = undefined;
    this.pad.parentElement.classList.add('empty');
    this.inputView.getContext('2d').clearRect(0, 0, INPUT, INPUT);
    $('prediction').textContent = '–';
    document.body.dataset.prediction = '';
    for (const li of $('probs').children) li.style.setProperty('--v', '0');
    for (const li of $('probs').children) li.querySelector('.val').textContent = '';
    for (const l of LAYERS) for (const c of $(`maps-${l.name}`).querySelectorAll('canvas')) c.getContext('2d').clearRect(0, 0, c.width, c.height);
    this.hideRf();
  }

  bindPad() {
    let last;
    const at = (e) => {
      const r = this.pad.getBoundingClientRect();
      return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
    };
    const stroke = (from, to, pressure) => {
      const c = this.ctx;
      c.strokeStyle = '#fff';
      c.fillStyle = '#fff';
      c.lineCap = 'round';
      c.lineJoin = 'round';
      c.lineWidth = 16 + 8 * (pressure || 0.5);
      c.beginPath();
      if (from[0] === to[0] && from[1] === to[1]) {
        // a tap: canvases prune zero-length segments, so draw the round brush tip itself
        c.arc(from[0], from[1], c.lineWidth / 2, 0, 2 * Math.PI);
        c.fill();
        return;
      }
      c.moveTo(from[0], from[1]);
      c.lineTo(to[0], to[1]);
      c.stroke();
    };
    this.pad.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      this.pad.parentElement.classList.remove('empty');
      this.pad.setPointerCapture(e.pointerId);
      last = at(e);
      stroke(last, last, e.pressure);
      this.schedule();
    });
    this.pad.addEventListener('pointermove', (e) => {
      if (!last) return;
      const p = at(e);
      stroke(last, p, e.pressure);
      last = p;
      this.schedule();
    });
    const end = () => {
      if (!last) return;
      last = undefined;
      this.schedule(0, true);
    };
    this.pad.addEventListener('pointerup', end);
    this.pad.addEventListener('pointercancel', end);
  }

  /** Debounced prediction: a run once drawing pauses for `ms`, and one with timings when the stroke ends. */
  schedule(ms = 60, timed = false) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.predict(timed), ms);
  }

  /** Classifies the pad; `timed`: also profile the layers and time whole runs. */
  predict(timed = true) {
    if (!this.lenet) return;
    const px = this.ctx.getImageData(0, 0, PAD, PAD).data;
    const ink = new Float32Array(PAD * PAD);
    for (let i = 0; i < ink.length; i++) ink[i] = px[i * 4] / 255;
    this.input = digitToInput(ink, PAD, PAD);
    this.pad.parentElement.classList.toggle('empty', !this.input);
    if (!this.input) return this.clear();
    this.drawInput();
    const feeds = { input: { data: this.input.data, shape: [1, 1, INPUT, INPUT] } };
    const out = this.lenet.model.runSync(feeds);
    const p = Array.from(softmax(out.logits).data);
    const best = p.indexOf(Math.max(...p));
    $('prediction').textContent = String(best);
    document.body.dataset.prediction = String(best);
    [...$('probs').children].forEach((li, k) => {
      li.style.setProperty('--v', p[k].toFixed(4));
      li.classList.toggle('best', k === best);
      li.querySelector('.val').textContent = `${(100 * p[k]).toFixed(1)}%`;
    });
    for (const l of LAYERS) this.drawMaps(l, out[l.name]);
    this.last = out;
    if (timed) this.drawLatency(feeds);
  }

  drawInput() {
    const img = new ImageData(INPUT, INPUT);
    for (let i = 0; i < INPUT * INPUT; i++) {
      const v = Math.round(255 * this.input.data[i]);
      img.data.set([v, v, v, 255], i * 4);
    }
    this.inputView.getContext('2d').putImageData(img, 0, 0);
  }

  buildBars() {
    const ol = $('probs');
    for (let k = 0; k < 10; k++) {
      const li = document.createElement('li');
      li.innerHTML = `<span class="lab">${k}</span><span class="bar"><span></span></span><span class="val"></span>`;
      ol.append(li);
    }
  }

  buildMaps() {
    for (const l of LAYERS) {
      const [C, H, W] = l.name === 'conv1' ? [6, 28, 28] : [16, 10, 10];
      const box = $(`maps-${l.name}`);
      for (let c = 0; c < C; c++) {
        const tile = document.createElement('div');
        tile.className = 'tile';
        const cv = document.createElement('canvas');
        cv.width = W;
        cv.height = H;
        cv.style.width = `${W * l.zoom}px`;
        cv.style.height = `${H * l.zoom}px`;
        cv.dataset.layer = l.name;
        cv.dataset.map = String(c);
        cv.title = `${l.name} map ${c}`;
        const mark = document.createElement('div');
        mark.className = 'px-mark';
        mark.hidden = true;
        mark.style.width = mark.style.height = `${l.zoom}px`;
        tile.append(cv, mark);
        box.append(tile);
        cv.addEventListener('mousemove', (e) => {
          const x = Math.min(W - 1, Math.floor(e.offsetX / l.zoom));
          const y = Math.min(H - 1, Math.floor(e.offsetY / l.zoom));
          mark.hidden = false;
          mark.style.left = `${x * l.zoom}px`;
          mark.style.top = `${y * l.zoom}px`;
          this.showRf(l.name, c, y, x);
        });
        cv.addEventListener('mouseleave', () => {
          mark.hidden = true;
          this.hideRf();
        });
      }
    }
  }

  /** Greyscale tiles, each map scaled by the layer's largest activation (0 black, max white). */
  drawMaps(l, t) {
    const [, C, H, W] = t.shape;
    let max = 1e-6;
    for (const v of t.data) if (v > max) max = v;
    const canvases = $(`maps-${l.name}`).querySelectorAll('canvas');
    for (let c = 0; c < C; c++) {
      const img = new ImageData(W, H);
      for (let i = 0; i < H * W; i++) {
        const v = Math.round(255 * Math.min(1, t.data[c * H * W + i] / max));
        img.data.set([v, v, v, 255], i * 4);
      }
      canvases[c].getContext('2d').putImageData(img, 0, 0);
    }
  }

  /** Outlines the input box that output (y, x) of `layer` sees, on the input view and the pad. */
  showRf(layer, map, y, x) {
    if (!this.lenet) return;
    const r = this.lenet.rf[layer];
    // first and last input pixel of the box along each axis (pixel i's centre is at i)
    const lo = (a, o) => r.start[a] + o * r.jump[a] - (r.size[a] - 1) / 2;
    const top = lo(0, y), left = lo(1, x);
    const view = $('input-rf');
    const s = this.inputView.getBoundingClientRect().width / INPUT;
    Object.assign(view.style, { left: `${left * s}px`, top: `${top * s}px`, width: `${r.size[1] * s}px`, height: `${r.size[0] * s}px` });
    view.hidden = false;
    view.dataset.box = JSON.stringify({ top, left, height: r.size[0], width: r.size[1] });
    const pad = $('pad-rf');
    if (this.input) {
      // input box edges back to pad pixels through the preprocessing's scale and shift
      const { scale, dx, dy } = this.input;
      const ps = this.pad.getBoundingClientRect().width / PAD;
      Object.assign(pad.style, {
        left: `${((left - 0.5 - dx) / scale + 0.5) * ps}px`, top: `${((top - 0.5 - dy) / scale + 0.5) * ps}px`,
        width: `${(r.size[1] / scale) * ps}px`, height: `${(r.size[0] / scale) * ps}px`,
      });
      pad.hidden = false;
    }
    const act = this.last ? this.last[layer].data[(map * this.last[layer].shape[2] + y) * this.last[layer].shape[3] + x] : undefined;
    $('rf-info').textContent = `${layer} map ${map}, pixel (row ${y}, col ${x})${act === undefined ? '' : ` = ${act.toFixed(3)}`}: sees input rows ${top}–${top + r.size[0] - 1}, columns ${left}–${left + r.size[1] - 1} (${r.size[0]}×${r.size[1]} pixels; neighbouring pixels of this layer are ${r.jump[0]} input pixels apart)`;
  }

  hideRf() {
    $('input-rf').hidden = true;
    $('pad-rf').hidden = true;
  }

  /** Per-step medians from model.profile(), and the mean of whole runs (finer than the timer's step). */
  drawLatency(feeds) {
    const model = this.lenet.model;
    // browsers coarsen performance.now() (5 µs steps on isolated pages, with jitter), so one
    // median would read 0 for most of LeNet's steps: average 100 single-run profiles instead
    const reps = 100;
    const steps = model.profile(feeds, { runs: 1 });
    for (let r = 1; r < reps; r++) model.profile(feeds, { runs: 1 }).forEach((t, i) => (steps[i].ms += t.ms));
    for (const t of steps) t.ms /= reps;
    // whole runs in 21 batches of 10: the median batch, so one preempted batch does not count
    const batches = Array.from({ length: 21 }, () => {
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) model.runSync(feeds);
      return (performance.now() - t0) / 10;
    }).sort((a, b) => a - b);
    const whole = batches[10];
    const max = Math.max(...steps.map((s) => s.ms));
    const total = steps.reduce((a, s) => a + s.ms, 0);
    const ol = $('latency');
    ol.replaceChildren(...steps.map((s) => {
      const li = document.createElement('li');
      const name = STEP_LABELS[s.node] ?? (s.op === '_ToPlain' ? 'NHWC → NCHW copy' : s.op === 'MaxPool' ? 'max pool 2×2' : `${s.node} (${s.op})`);
      li.innerHTML = '<span class="lab"></span><span class="bar"><span></span></span><span class="val"></span>';
      li.querySelector('.lab').textContent = name;
      li.querySelector('.val').textContent = `${(s.ms * 1000).toFixed(1)} µs${s.macs ? ` · ${(s.macs / 1000).toFixed(0)}k MACs` : ''}`;
      li.style.setProperty('--v', (s.ms / max).toFixed(4));
      return li;
    }));
    const threads = `${model.threads} thread${model.threads > 1 ? 's' : ''}`;
    $('latency-total').textContent = `whole run ${(whole * 1000).toFixed(1)} µs per digit on ${threads} (median of 21 batches of 10 runs, ` +
      `input checks and output copies included; the steps sum to ${(total * 1000).toFixed(1)} µs). Browsers round performance.now() ` +
      `to ${globalThis.crossOriginIsolated ? '5' : '100'} µs here, so each bar is the mean of ${reps} single-run profiles. ` +
      'The Identity steps and the last copies hand out the feature maps as extra outputs.';
    document.body.dataset.threads = String(model.threads);
  }
}
