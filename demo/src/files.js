// Tab 2: a dropped image through a dropped model. An .onnx file goes through loadOnnx; a
// .safetensors file holds weights for a zoo architecture picked on the page (createModel(name,
// { weights })). Classification shows the top 5 ImageNet classes; segmentation the per-pixel
// class map over the image. Preprocessing (resize 256, centre crop 224, ImageNet mean/std, as
// torchvision's weights expect), labels, top-k and the overlay come from the package's image API.
import {
  createModel, fromImage, IMAGENET_LABELS, loadOnnx, segmentationMap, segmentationOverlay, softmax, toRawImage, topK,
  VOC_LABELS, vocPalette,
} from 'wasmcnn';

const $ = (id) => document.getElementById(id);
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export class FilesTab {
  constructor() {
    this.model = undefined;
    this.modelFile = undefined;
    this.image = undefined;
    this.dropZone('drop-image', 'image-file', (f) => this.setImage(f));
    this.dropZone('drop-model', 'model-file', (f) => this.setModel(f));
    $('arch').addEventListener('change', () => this.modelFile && this.setModel(this.modelFile));
    $('run').addEventListener('click', () => this.run().catch((e) => this.status(`${e.name ?? 'Error'}: ${e.message}`, true)));
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
        ? await loadOnnx(bytes)
        : await createModel($('arch').value, { weights: bytes });
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
    $('run').disabled = !(this.model && this.image);
  }

  async run() {
    const m = this.model;
    const [, C, H, W] = m.inputShapes[m.inputNames[0]];
    const task = document.querySelector('input[name=task]:checked').value;
    this.status('running…');
    const t0 = performance.now();
    // classify: torchvision's eval transform, Resize(H·256/224) then CenterCrop; segment: the
    // whole image stretched to the model's input, so the class map lies over all of it
    const channels = C === 1 ? 1 : 3;
    const x = await fromImage(this.image, task === 'classify'
      ? { size: Math.round((Math.min(H, W) * 256) / 224), crop: [H, W], ...IMAGENET, channels }
      : { size: [H, W], ...IMAGENET, channels });
    const t1 = performance.now();
    const out = (await m.run({ [m.inputNames[0]]: x }))[m.outputNames[0]];
    const t2 = performance.now();
    $('result-card').hidden = false;
    if (task === 'classify') this.showTop5(out);
    else await this.showSegmentation(out);
    this.status(`${task === 'classify' ? 'classified' : 'segmented'}: preprocessing ${(t1 - t0).toFixed(0)} ms, model ${(t2 - t1).toFixed(0)} ms on ${m.threads} thread${m.threads > 1 ? 's' : ''}`);
    document.body.dataset.result = task;
  }

  showTop5(out) {
    const classes = out.data.length / out.shape[0];
    const flat = { data: out.data.subarray(0, classes), shape: [1, classes] };
    const [top] = topK(softmax(flat), 5, classes === IMAGENET_LABELS.length ? IMAGENET_LABELS : undefined);
    $('overlay').hidden = true;
    $('legend').replaceChildren();
    $('top5').replaceChildren(...top.map((t, i) => {
      const li = document.createElement('li');
      li.className = i === 0 ? 'best' : '';
      li.innerHTML = '<span class="lab"></span><span class="bar"><span></span></span><span class="val"></span>';
      li.querySelector('.lab').textContent = `${t.index} · ${t.label}`;
      li.querySelector('.val').textContent = `${(100 * t.score).toFixed(1)}%`;
      li.style.setProperty('--v', t.score.toFixed(4));
      return li;
    }));
  }

  async showSegmentation(out) {
    const map = segmentationMap(out);
    const image = await toRawImage(this.image);
    const seg = segmentationOverlay(map, image, { alpha: 0.55 });
    const cv = $('overlay');
    cv.width = seg.width;
    cv.height = seg.height;
    cv.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength), seg.width, seg.height), 0, 0);
    cv.hidden = false;
    $('top5').replaceChildren();
    // legend: the classes present, largest area first
    const area = new Array(map.classes).fill(0);
    for (const c of map.data) area[c]++;
    const palette = vocPalette(map.classes);
    const names = map.classes === VOC_LABELS.length ? VOC_LABELS : undefined;
    const present = area.map((a, c) => [a, c]).filter(([a]) => a > 0).sort((p, q) => q[0] - p[0]);
    $('legend').replaceChildren(...present.map(([a, c]) => {
      const li = document.createElement('li');
      const i = document.createElement('i');
      i.style.background = `rgb(${palette[3 * c]}, ${palette[3 * c + 1]}, ${palette[3 * c + 2]})`;
      li.dataset.class = String(c);
      li.append(i, `${names ? names[c] : c} ${((100 * a) / map.data.length).toFixed(1)}%`);
      return li;
    }));
  }
}
