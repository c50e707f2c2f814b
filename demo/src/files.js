// Tab 2: a dropped image through a dropped model. An .onnx file goes through loadOnnx; a
// .safetensors file holds weights for a zoo architecture picked on the page (createModel(name,
// { weights })). Classification shows the top 5 ImageNet classes; segmentation the per-pixel
// class map over the image. Preprocessing (resize 256, centre crop 224, ImageNet mean/std, as
// torchvision's weights expect), labels, top-k and the overlay come from the package's image API.
import * as wasmcnn from 'wasmcnn';

const $ = (id) => document.getElementById(id);
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** The image API this tab needs from the package (src/image, src/labels). */
const NEEDED = ['fromImage', 'topK', 'softmax', 'IMAGENET_LABELS'];

export class FilesTab {
  constructor() {
    this.model = undefined;
    this.modelFile = undefined;
    this.image = undefined;
    this.dropZone('drop-image', 'image-file', (f) => this.setImage(f));
    this.dropZone('drop-model', 'model-file', (f) => this.setModel(f));
    $('arch').addEventListener('change', () => this.modelFile && this.setModel(this.modelFile));
    $('run').addEventListener('click', () => this.run().catch((e) => this.status(`${e.name ?? 'Error'}: ${e.message}`, true)));
    const missing = NEEDED.filter((n) => !(n in wasmcnn));
    if (missing.length) this.status(`this build of wasmcnn lacks ${missing.join(', ')}: classification needs the image API`, true);
  }

  /** Drops the loaded model (threads changed: models keep the threads they were created with). */
  reset() {
    this.model?.dispose();
    this.model = undefined;
    if (this.modelFile) this.setModel(this.modelFile);
  }

  dropZone(zoneId, inputId, take) {
    const zone = $(zoneId);
    const input = $(inputId);
    input.addEventListener('change', () => input.files?.[0] && take(input.files[0]));
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const f = e.dataTransfer?.files?.[0];
      if (f) take(f);
    });
  }

  status(text, error = false) {
    const s = $('run-status');
    s.textContent = text;
    s.classList.toggle('error', error);
  }

  async setImage(file) {
    const img = $('image-preview');
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(file);
    await img.decode();
    img.hidden = false;
    this.image = img;
    this.ready();
  }

  async setModel(file) {
    this.modelFile = file;
    this.model?.dispose();
    this.model = undefined;
    this.ready();
    const info = $('model-info');
    info.textContent = `loading ${file.name} (${(file.size / 1e6).toFixed(1)} MB)…`;
    const bytes = new Uint8Array(await file.arrayBuffer());
    const t0 = performance.now();
    try {
      this.model = /\.onnx$/i.test(file.name)
        ? await wasmcnn.loadOnnx(bytes)
        : await wasmcnn.createModel($('arch').value, { weights: bytes });
    } catch (e) {
      info.textContent = `${file.name}: ${e.name ?? 'Error'}: ${e.message}`;
      info.classList.add('error');
      return;
    }
    info.classList.remove('error');
    const m = this.model;
    const shape = m.inputShapes[m.inputNames[0]];
    info.textContent = `${file.name}: input ${shape.join('×')}, ${(m.paramCount / 1e6).toFixed(2)} M parameters, loaded in ${(performance.now() - t0).toFixed(0)} ms on ${m.threads} thread${m.threads > 1 ? 's' : ''}`;
    // a 4-D output is a class map: offer segmentation
    const out = m.outputShapes[m.outputNames[0]];
    document.querySelector(`input[name=task][value=${out.length === 4 ? 'segment' : 'classify'}]`).checked = true;
    this.ready();
  }

  ready() {
    $('run').disabled = !(this.model && this.image && NEEDED.every((n) => n in wasmcnn));
  }

  async run() {
    const m = this.model;
    const [, C, H, W] = m.inputShapes[m.inputNames[0]];
    const task = document.querySelector('input[name=task]:checked').value;
    this.status('running…');
    const t0 = performance.now();
    const x = await wasmcnn.fromImage(this.image, { size: task === 'classify' ? Math.round((H * 256) / 224) : [H, W], crop: [H, W], ...IMAGENET, channels: C });
    const out = (await m.run({ [m.inputNames[0]]: x }))[m.outputNames[0]];
    const ms = performance.now() - t0;
    $('result-card').hidden = false;
    if (task === 'classify') this.showTop5(out);
    else this.showSegmentation(out);
    this.status(`${task === 'classify' ? 'classified' : 'segmented'} in ${ms.toFixed(0)} ms (preprocessing + run)`);
  }

  showTop5(out) {
    const probs = wasmcnn.softmax(out);
    const top = wasmcnn.topK(probs, 5, wasmcnn.IMAGENET_LABELS);
    $('overlay').hidden = true;
    $('legend').replaceChildren();
    $('top5').replaceChildren(...top.map((t, i) => {
      const li = document.createElement('li');
      li.className = i === 0 ? 'best' : '';
      li.innerHTML = '<span class="lab"></span><span class="bar"><span></span></span><span class="val"></span>';
      li.querySelector('.lab').textContent = `${t.index} ${t.label}`;
      li.querySelector('.val').textContent = `${(100 * t.score).toFixed(1)}%`;
      li.style.setProperty('--v', t.score.toFixed(4));
      return li;
    }));
  }

  showSegmentation(out) {
    const { segmentationOverlay, VOC_LABELS } = wasmcnn;
    if (!segmentationOverlay) throw new Error('this build of wasmcnn lacks segmentationOverlay');
    const seg = segmentationOverlay(out, { labels: VOC_LABELS });
    const cv = $('overlay');
    cv.width = seg.width;
    cv.height = seg.height;
    cv.getContext('2d').putImageData(seg.image, 0, 0);
    cv.hidden = false;
    $('top5').replaceChildren();
    $('legend').replaceChildren(...seg.classes.map((c) => {
      const li = document.createElement('li');
      const i = document.createElement('i');
      i.style.background = c.color;
      li.append(i, c.label);
      return li;
    }));
  }
}
