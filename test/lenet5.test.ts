// The default job's model: LeNet-5 with the bundled weights gives PyTorch's logits
// (test/fixtures/lenet5/reference.json, written by tools/train_lenet5.py) and PyTorch's
// held-out accuracy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, listModels } from '../src/index';
import { loadMnistSplit } from '../src/data/mnist';

const ref = JSON.parse(readFileSync(new URL('./fixtures/lenet5/reference.json', import.meta.url), 'utf8')) as {
  heldOutCorrect: number;
  heldOutCount: number;
  digits: { heldOutIndex: number; label: number; predicted: number; logits: number[] }[];
};

describe('lenet5', () => {
  const { train, heldOut } = loadMnistSplit();

  it('is registered and split 8000/2000', () => {
    expect(listModels()).toContain('lenet5');
    expect(train.length).toBe(8000);
    expect(heldOut.length).toBe(2000);
  });

  it('matches PyTorch logits within 1e-4 on held-out digits', async () => {
    const m = await createModel('lenet5');
    for (const d of ref.digits) {
      const y = await m.predict({ data: heldOut[d.heldOutIndex].image, shape: [1, 1, 32, 32] });
      const scale = Math.max(1, ...d.logits.map(Math.abs));
      for (let i = 0; i < 10; i++) expect(Math.abs(y.data[i] - d.logits[i])).toBeLessThanOrEqual(1e-4 * scale);
      expect(heldOut[d.heldOutIndex].label).toBe(d.label);
    }
    m.dispose();
  });

  it('reaches PyTorch held-out accuracy (>= 97%), also batched', async () => {
    const batch = 50;
    const m = await createModel('lenet5', { batch });
    let correct = 0;
    const x = new Float32Array(batch * 1024);
    for (let s = 0; s < heldOut.length; s += batch) {
      for (let j = 0; j < batch; j++) x.set(heldOut[s + j].image, j * 1024);
      const y = await m.predict({ data: x, shape: [batch, 1, 32, 32] });
      for (let j = 0; j < batch; j++) {
        const row = y.data.subarray(j * 10, j * 10 + 10);
        const p = row.indexOf(Math.max(...row));
        if (p === heldOut[s + j].label) correct++;
      }
    }
    expect(correct / heldOut.length).toBeGreaterThanOrEqual(0.97);
    expect(Math.abs(correct - ref.heldOutCorrect)).toBeLessThanOrEqual(1);
    m.dispose();
  });
});
