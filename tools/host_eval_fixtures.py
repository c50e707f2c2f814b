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

And torchvision's own detectors, tiny (a two-level 8-channel conv backbone, 5 classes, images
resized to 64..96 px, random weights, score thresholds 0 so random weights still detect):
FasterRCNN (RPN, MultiScaleRoIAlign, box head, class-wise NMS) and RetinaNet, exported whole
as a user would (torch.onnx.export of the eval-mode model, dynamic image size), then with every
Conv/Resize/Gemm output appended to the graph outputs (after boxes, scores, labels): the test
runs the file in onnxruntime to feed those (the wasm body's part) and runs every other node on
the host evaluator. Stored gzipped (the graphs are ~1000 nodes).

Run:  /usr/bin/python3 tools/host_eval_fixtures.py
Writes test/fixtures/host-eval/tail_opset{11,17}.onnx, flow_opset{11,17}.onnx (a few kB each) and
{fasterrcnn,retinanet}_tiny_opset{11,17}.onnx.gz (~30 kB each).
"""

import collections
import gzip
import io
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


# ops of the tiny detectors the host evaluator does not run (the CNN body): fed from onnxruntime
BODY_OPS = {'Conv', 'Resize', 'Gemm', 'MatMul', 'MaxPool'}


class TinyBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.out_channels = 8

    def forward(self, x):
        a = torch.relu(self.c1(x))
        b = torch.relu(self.c2(a))
        return collections.OrderedDict([('0', a), ('1', b)])


def tiny_detectors():
    from torchvision.models.detection import FasterRCNN, RetinaNet
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign
    torch.manual_seed(1)
    ag = AnchorGenerator(sizes=((16,), (32,)), aspect_ratios=((0.5, 1.0, 2.0),) * 2)
    frcnn = FasterRCNN(
        TinyBackbone(), num_classes=None, min_size=64, max_size=96, rpn_anchor_generator=ag,
        box_roi_pool=MultiScaleRoIAlign(['0', '1'], 7, 2), box_head=TwoMLPHead(8 * 49, 8), box_predictor=FastRCNNPredictor(8, 5),
        rpn_pre_nms_top_n_test=100, rpn_post_nms_top_n_test=40, box_score_thresh=0.0, box_detections_per_img=20,
    )
    torch.manual_seed(2)
    ag2 = AnchorGenerator(sizes=((16,), (32,)), aspect_ratios=((0.5, 1.0, 2.0),) * 2)
    retina = RetinaNet(TinyBackbone(), num_classes=5, min_size=64, max_size=96, anchor_generator=ag2,
                       score_thresh=0.0, topk_candidates=30, detections_per_img=20)
    # torchvision's init (std 0.01, prior bias) leaves every score near sigmoid(-4.6) in 1-ulp ties,
    # which onnxruntime's approximate Sigmoid breaks differently from an exact one: spread them
    # (logits of a few units, not saturating at 1.0 where ties come back; one bias for all, so the
    # top scores differ by the features, not by near-equal biases plus noise)
    with torch.no_grad():
        torch.nn.init.normal_(retina.head.classification_head.cls_logits.weight, std=0.3)
        torch.nn.init.zeros_(retina.head.classification_head.cls_logits.bias)
    return {'fasterrcnn_tiny': frcnn.eval(), 'retinanet_tiny': retina.eval()}


def export_detectors():
    import onnx
    for name, model in tiny_detectors().items():
        for opset in (11, 17):
            path = os.path.join(OUT, f'{name}_opset{opset}.onnx.gz')
            buf = io.BytesIO()
            torch.onnx.export(
                model, ([torch.rand(3, 80, 72)],), buf, opset_version=opset,
                input_names=['image'], output_names=['boxes', 'scores', 'labels'],
                dynamic_axes={'image': {1: 'height', 2: 'width'}, 'boxes': {0: 'n'}, 'scores': {0: 'n'}, 'labels': {0: 'n'}},
            )
            m = onnx.load_from_string(buf.getvalue())
            have = {o.name for o in m.graph.output}
            for node in m.graph.node:
                if node.op_type in BODY_OPS:
                    for o in node.output:
                        if o and o not in have:
                            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(o))
            with open(path, 'wb') as f:
                f.write(gzip.compress(m.SerializeToString(), mtime=0))
            print(path, os.path.getsize(path), 'bytes')


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
    export_detectors()


if __name__ == '__main__':
    main()
