"""Export a detector post-processing tail (no weights, data-dependent ops only) to ONNX at opsets
11 and 17: the fixture test/host-eval.test.ts runs through wasmcnn's host evaluator and through
onnxruntime-node on the same inputs, at two different anchor counts.

The tail follows torchvision 0.14's detection post-processing (torchvision/models/detection/
_utils.py BoxCoder.decode_single, ssd.py / retinanet.py postprocess_detections): softmax class
scores without the background column, box decoding from (dx, dy, dw, dh) deltas against anchors
with dw/dh clamped at log(1000/16), boxes clipped to the image, a score threshold (NonZero), a
top-k capped by the number of candidates (torchvision's _topk_min: TopK with a run-time K), then
labels and box rows recovered from the flat candidate index (integer Div and Mod) and gathered.
Exported with a dynamic anchor count, as a real export is.

Also a scripted module with data-dependent control flow (torch.jit.script, so the export keeps
it): a for-loop over a dynamic dim and a while-loop on a data condition (ONNX Loop, the second
with an If in its condition from the short-circuit `and`), and an if on the data whose branches
select with a boolean mask (If around NonZero/GatherND, empty results possible).

Run:  /usr/bin/python3 tools/host_eval_fixtures.py
Writes test/fixtures/host-eval/tail_opset{11,17}.onnx and flow_opset{11,17}.onnx (a few kB each).
"""

import math
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'host-eval')


class Tail(nn.Module):
    def __init__(self, size=320.0, score_thresh=0.05, topk=100):
        super().__init__()
        self.size = size
        self.score_thresh = score_thresh
        self.topk = topk
        self.clip = math.log(1000.0 / 16)

    def forward(self, logits, deltas, anchors):
        num_classes = logits.shape[1]
        scores = torch.softmax(logits, -1)[:, 1:]
        widths = anchors[:, 2] - anchors[:, 0]
        heights = anchors[:, 3] - anchors[:, 1]
        ctr_x = anchors[:, 0] + 0.5 * widths
        ctr_y = anchors[:, 1] + 0.5 * heights
        dx = deltas[:, 0] / 10.0
        dy = deltas[:, 1] / 10.0
        dw = torch.clamp(deltas[:, 2] / 5.0, max=self.clip)
        dh = torch.clamp(deltas[:, 3] / 5.0, max=self.clip)
        px = dx * widths + ctr_x
        py = dy * heights + ctr_y
        pw = torch.exp(dw) * widths
        ph = torch.exp(dh) * heights
        boxes = torch.stack([px - 0.5 * pw, py - 0.5 * ph, px + 0.5 * pw, py + 0.5 * ph], dim=1)
        boxes = boxes.clamp(min=0.0, max=self.size)
        flat = scores.flatten()
        keep = torch.where(flat > self.score_thresh)[0]
        kept = flat[keep]
        # torchvision's _topk_min under tracing: K = min(topk, number of candidates), a run-time value
        k = torch.min(torch.cat((torch.tensor([self.topk]), torch._shape_as_tensor(kept)[0].unsqueeze(0))))
        top, idx = kept.topk(k)
        keep = keep[idx]
        labels = keep % (num_classes - 1) + 1
        rows = torch.div(keep, num_classes - 1, rounding_mode='floor')
        return boxes[rows], top, labels


class Flow(nn.Module):
    def forward(self, x, t):
        acc = torch.zeros_like(x)
        for i in range(x.size(0)):
            acc = acc + x * float(i)
        n = torch.zeros([1], dtype=torch.long)
        while bool(acc.abs().max() < t) and bool(n[0] < 20):
            acc = acc * 2.0
            n = n + 1
        if bool(acc.sum() > 0):
            y = acc[acc > t]
        else:
            y = -acc[acc < -t]
        return y, acc, n


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    n, c = 200, 6
    logits = torch.randn(n, c) * 2
    deltas = torch.randn(n, 4)
    xy = torch.rand(n, 2) * 280
    anchors = torch.cat([xy, xy + 10 + torch.rand(n, 2) * 60], 1)
    for opset in (11, 17):
        path = os.path.join(OUT, f'tail_opset{opset}.onnx')
        torch.onnx.export(
            Tail(), (logits, deltas, anchors), path, opset_version=opset,
            input_names=['logits', 'deltas', 'anchors'], output_names=['boxes', 'scores', 'labels'],
            dynamic_axes={'logits': {0: 'anchors'}, 'deltas': {0: 'anchors'}, 'anchors': {0: 'anchors'},
                          'boxes': {0: 'detections'}, 'scores': {0: 'detections'}, 'labels': {0: 'detections'}},
        )
        import onnx
        ops = sorted({node.op_type for node in onnx.load(path).graph.node})
        print(path, os.path.getsize(path), 'bytes:', ' '.join(ops))
        path = os.path.join(OUT, f'flow_opset{opset}.onnx')
        torch.onnx.export(
            torch.jit.script(Flow()), (torch.randn(5), torch.tensor(3.0)), path, opset_version=opset,
            input_names=['x', 't'], output_names=['y', 'acc', 'n'], dynamic_axes={'x': {0: 'n'}, 'y': {0: 'k'}, 'acc': {0: 'n'}},
        )
        print(path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()
