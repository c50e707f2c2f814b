"""Fixtures for the detection building blocks (src/detect, assembly/detect.ts): what torchvision 0.14
makes of the same inputs in
- torchvision.ops.nms / batched_nms (overlapping clusters, tied scores, zero-area boxes, thousands
  of boxes, class-aware sets on both sides of batched_nms' 4000-coordinate switch),
- a YOLO-style raw head [B, 4 + classes, anchors] decoded with numpy and batched_nms,
- torchvision.ops.roi_align (aligned False/True, sampling_ratio fixed and adaptive, boxes leaving
  the image, odd sizes) and MultiScaleRoIAlign over 4 FPN levels,
- AnchorGenerator (RetinaNet / Faster R-CNN settings), DefaultBoxGenerator (ssdlite320, ssd300),
  BoxCoder.decode ((1,1,1,1) and (10,10,5,5)), BoxLinearCoder.decode (FCOS), clip_boxes_to_image,
  remove_small_boxes.

Writes test/fixtures/detect/cases.json: arrays of more than a few numbers are base64 of their
little-endian bytes, tagged {"f32": ...} / {"i32": ...}. Anchors and default boxes keep every
`stride`-th row of the `rows` made (strides coprime with the anchors per cell, so every anchor
shape and grid position is still seen). With --bench, also times torchvision.ops.nms
on 1,000 and 10,000 boxes (one thread) and prints it.

Run with /usr/bin/python3 (torch 1.13, torchvision 0.14).
"""
import base64
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator, DefaultBoxGenerator
from torchvision.models.detection._utils import BoxCoder, BoxLinearCoder
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import MultiScaleRoIAlign, batched_nms, nms, roi_align, clip_boxes_to_image, remove_small_boxes

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'detect')
torch.set_num_threads(1)


def f32(a):
    a = np.ascontiguousarray(np.asarray(a, dtype='<f4'))
    return {'f32': base64.b64encode(a.tobytes()).decode('ascii'), 'shape': list(a.shape)}


def i32(a):
    a = np.ascontiguousarray(np.asarray(a, dtype='<i4'))
    return {'i32': base64.b64encode(a.tobytes()).decode('ascii'), 'shape': list(a.shape)}


def random_boxes(rng, n, extent, min_side, max_side, clusters=0):
    """(x1, y1, x2, y2) boxes; with clusters, jittered copies around a few centres (heavy overlap)."""
    if clusters:
        centres = rng.uniform(0, extent, (clusters, 2))
        c = centres[rng.integers(0, clusters, n)] + rng.normal(0, extent * 0.02, (n, 2))
    else:
        c = rng.uniform(0, extent, (n, 2))
    wh = rng.uniform(min_side, max_side, (n, 2))
    return np.concatenate([c - wh / 2, c + wh / 2], 1).astype(np.float32)


def nms_cases(rng):
    cases = []

    def add(name, boxes, scores, iou, classes=None):
        b, s = torch.from_numpy(boxes), torch.from_numpy(scores)
        if classes is None:
            keep = nms(b, s, iou)
        else:
            keep = batched_nms(b, s, torch.from_numpy(classes).long(), iou)
        case = {'name': name, 'boxes': f32(boxes), 'scores': f32(scores), 'iouThreshold': iou, 'keep': keep.tolist()}
        if classes is not None:
            case['classes'] = i32(classes)
        cases.append(case)

    # heavy overlap: 500 boxes around 12 centres
    b = random_boxes(rng, 500, 400, 20, 60, clusters=12)
    add('clusters', b, rng.random(500, dtype=np.float32), 0.5)
    # tied scores (8 distinct values) on overlapping boxes: the order among equals is torchvision's
    b = random_boxes(rng, 300, 400, 20, 50, clusters=40)
    add('ties', b, (rng.integers(0, 8, 300) / 8).astype(np.float32), 0.3)
    # exact duplicates, zero-area boxes (points and lines), an inverted box, threshold 0
    b = random_boxes(rng, 60, 100, 10, 30, clusters=4)
    b[5:10] = b[0]  # duplicates of box 0
    b[10:15, 2] = b[10:15, 0]  # zero width
    b[15:20, 2:] = b[15:20, :2]  # points
    b[20] = b[20, [2, 3, 0, 1]]  # x2 < x1, y2 < y1
    s = rng.random(60, dtype=np.float32)
    s[5:10] = s[0]
    add('degenerate', b, s, 0.5)
    add('degenerate-iou0', b, s, 0.0)
    add('degenerate-iou1', b, s, 1.0)
    # thousands of boxes
    b = random_boxes(rng, 2000, 800, 10, 120, clusters=30)
    add('thousands', b, rng.random(2000, dtype=np.float32), 0.7)
    # class-aware: 800 boxes (3200 coordinates: torchvision takes its coordinate-offset path) and
    # 1200 boxes (4800 coordinates: its per-class loop), 7 classes, some tied scores
    b = random_boxes(rng, 800, 300, 20, 60, clusters=10)
    s = (rng.integers(0, 50, 800) / 50).astype(np.float32)
    add('batched-800', b, s, 0.5, rng.integers(0, 7, 800).astype(np.int32))
    b = random_boxes(rng, 1200, 500, 15, 80, clusters=20)
    add('batched-1200', b, rng.random(1200, dtype=np.float32), 0.45, rng.integers(0, 7, 1200).astype(np.int32))
    # batched_nms' per-class path with tied scores: torchvision's nms sorts stably (ties: lower
    # index first), but this path re-sorts the kept boxes with torch.sort(stable=False), which
    # orders equal scores arbitrarily: the kept set and the score sequence are what to compare
    b = random_boxes(rng, 1100, 500, 15, 80, clusters=25)
    add('batched-1100-ties', b, (rng.integers(0, 20, 1100) / 20).astype(np.float32), 0.5, rng.integers(0, 4, 1100).astype(np.int32))
    cases[-1]['tiesUnordered'] = True
    return cases


def yolo_cases(rng):
    cases = []
    for name, batch, classes, anchors, score_thr, iou, max_det in [
        ('yolo-1x5x400', 1, 5, 400, 0.25, 0.45, 300),
        ('yolo-2x3x300-max20', 2, 3, 300, 0.3, 0.5, 20),
    ]:
        head = np.zeros((batch, 4 + classes, anchors), np.float32)
        head[:, 0:2] = rng.uniform(0, 320, (batch, 2, anchors))
        head[:, 2:4] = rng.uniform(5, 80, (batch, 2, anchors))
        head[:, 4:] = 1 / (1 + np.exp(-(rng.normal(0, 1.5, (batch, classes, anchors)) - 1.5)))
        # a few clusters of near-duplicates so that NMS has work
        head[:, :4, anchors // 2:] = head[:, :4, :anchors - anchors // 2][..., :anchors // 2] + rng.normal(0, 3, (batch, 4, anchors // 2))
        head = head.astype(np.float32)
        out = []
        for b in range(batch):
            x = head[b].T  # (anchors, 4 + classes)
            scores = x[:, 4:].max(1)
            labels = x[:, 4:].argmax(1)
            mask = scores > np.float32(score_thr)
            cx, cy, w, h = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1).astype(np.float32)[mask]
            keep = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores[mask]), torch.from_numpy(labels[mask]), iou)[:max_det].numpy()
            out.append({'boxes': f32(boxes[keep]), 'scores': f32(scores[mask][keep]), 'labels': labels[mask][keep].tolist()})
        cases.append({'name': name, 'head': f32(head), 'scoreThreshold': score_thr, 'iouThreshold': iou,
                      'maxDetections': max_det, 'expected': out})
    return cases


def roi_cases(rng):
    cases = []
    feat = rng.normal(0, 1, (2, 5, 13, 17)).astype(np.float32)
    # boxes in input pixels (spatial_scale maps them onto the 13x17 map), some leaving the image,
    # tiny ones (adaptive grid of 1), large ones (adaptive grid > 2)
    boxes = np.array([
        [0, 0, 0, 30, 20], [1, 5.5, 3.25, 17.75, 25.5], [0, -8, -6, 10, 12], [1, 20, 15, 40, 30],
        [0, 28, 22, 39, 31], [1, 2, 2, 3.5, 2.5], [0, -20, -20, -3, -2], [1, 0, 0, 34, 26],
        [0, 12.3, 7.7, 12.3, 7.7], [1, 30, 1, 80, 60],
    ], np.float32)
    for aligned in (False, True):
        for sampling in (2, 0, -1):
            for out, scale in (((3, 4), 0.5), ((7, 7), 0.5), ((2, 5), 0.25)):
                y = roi_align(torch.from_numpy(feat), torch.from_numpy(boxes), out, scale, sampling, aligned)
                cases.append({'name': f'aligned={aligned} sampling={sampling} out={out} scale={scale}',
                              'outputSize': list(out), 'spatialScale': scale, 'samplingRatio': sampling,
                              'aligned': aligned, 'expected': f32(y.numpy())})
    return {'feature': f32(feat), 'rois': f32(boxes), 'cases': cases}


def pattern_feature(n, c, h, w, level):
    """Exact in float32 on both sides: (x·7 + y·13 + c·5 + n·11 + level·3) mod 17, scaled."""
    nn, cc, yy, xx = np.meshgrid(np.arange(n), np.arange(c), np.arange(h), np.arange(w), indexing='ij')
    return (((xx * 7 + yy * 13 + cc * 5 + nn * 11 + level * 3) % 17) / 4 - 2).astype(np.float32)


def multiscale_case(rng):
    # two images of a batch padded to 448x320 (sizes divisible by 32), FPN levels at strides 4..32
    # two images of a batch padded to 800x1024 (sizes divisible by 32), FPN levels at strides 4..32;
    # the features follow a formula (exact in float32), so only the pooled output is stored
    image_sizes = [(800, 1000), (736, 1024)]
    feats = {str(l): torch.from_numpy(pattern_feature(2, 3, 800 // (4 << l), 1024 // (4 << l), l)) for l in range(4)}
    boxes = []
    for i, (h, w) in enumerate(image_sizes):
        side = np.exp(rng.uniform(np.log(8), np.log(min(h, w)), (40, 2)))
        c = rng.uniform(0, 1, (40, 2)) * [w, h]
        b = np.concatenate([c - side / 2, c + side / 2], 1)
        # whole-image and large boxes reach the coarsest levels (side >= 448 maps to level 5)
        b[:3] = [[0, 0, w, h], [37.5, 20.25, w - 11, h - 3.5], [100, 60, 700, 690]]
        b[:, [0, 2]] = b[:, [0, 2]].clip(0, w)
        b[:, [1, 3]] = b[:, [1, 3]].clip(0, h)
        boxes.append(torch.from_numpy(b.astype(np.float32)))
    cases = []
    for out, sampling in ((7, 2), ((5, 3), 0)):
        pooler = MultiScaleRoIAlign(['0', '1', '2', '3'], out, sampling)
        y = pooler(feats, boxes, image_sizes)
        cases.append({'outputSize': [out, out] if isinstance(out, int) else list(out), 'samplingRatio': sampling,
                      'expected': f32(y.numpy())})
    s = torch.sqrt(torchvision.ops.box_area(torch.cat(boxes)))
    levels = pooler.map_levels(boxes)
    return {'imageSizes': image_sizes, 'featureSizes': [list(f.shape) for f in feats.values()],
            'boxes': [f32(b.numpy()) for b in boxes], 'levels': levels.tolist(), 'cases': cases,
            'note': f'levels used: {sorted(set(levels.tolist()))}, box sides {float(s.min()):.1f}..{float(s.max()):.1f}'}


def anchor_cases():
    cases = []
    retina_sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
    settings = {
        'retinanet': (retina_sizes, ((0.5, 1.0, 2.0),) * 5),
        'fasterrcnn_resnet50_fpn': (((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5),
        'fasterrcnn_mobilenet_v3_large_fpn': (((32, 64, 128, 256, 512),) * 3, ((0.5, 1.0, 2.0),) * 3),
        'odd': (((20, 45), (70,)), ((0.3, 1.0, 1.7, 3.0), (0.25, 0.5))),
    }
    sizes = {
        'retinanet': [((160, 128), [(20, 16), (10, 8), (5, 4), (3, 2), (2, 1)])],
        'fasterrcnn_resnet50_fpn': [((128, 96), [(32, 24), (16, 12), (8, 6), (4, 3), (2, 2)])],
        'fasterrcnn_mobilenet_v3_large_fpn': [((320, 224), [(10, 7), (10, 7), (5, 4)]), ((96, 160), [(3, 5), (3, 5), (2, 3)])],
        'odd': [((100, 150), [(13, 19), (5, 7)])],
    }
    for name, (anchor_sizes, ratios) in settings.items():
        gen = AnchorGenerator(anchor_sizes, ratios)
        for image_size, grids in sizes[name]:
            images = ImageList(torch.zeros(1, 3, *image_size), [image_size])
            feats = [torch.zeros(1, 1, *g) for g in grids]
            anchors = gen(images, feats)[0]
            cases.append({'name': f'{name} {image_size}', 'sizes': [list(s) for s in anchor_sizes],
                          'aspectRatios': [list(r) for r in ratios], 'imageSize': list(image_size),
                          'featureSizes': [list(g) for g in grids], 'rows': anchors.shape[0], 'stride': 5,
                          'expected': f32(anchors.numpy()[::5])})
    return cases


def default_box_cases():
    cases = []
    ssdlite = dict(aspect_ratios=[[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    ssd300 = dict(aspect_ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]], scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                  steps=[8, 16, 32, 64, 100, 300])
    for name, kw, image_size, grids in [
        ('ssdlite320', ssdlite, (320, 320), [20, 10, 5, 3, 2, 1]),
        ('ssdlite320 at 256x384', ssdlite, (256, 384), [(16, 24), (8, 12), (4, 6), (2, 3), (1, 2), (1, 1)]),
        ('ssd300', ssd300, (300, 300), [38, 19, 10, 5, 3, 1]),
        ('ssd300 no clip at 200x260', dict(ssd300, clip=False), (200, 260), [(25, 33), (13, 17), (7, 9), (4, 5), (2, 3), (1, 1)]),
    ]:
        gen = DefaultBoxGenerator(**kw)
        grids = [(g, g) if isinstance(g, int) else g for g in grids]
        images = ImageList(torch.zeros(1, 3, *image_size), [image_size])
        boxes = gen(images, [torch.zeros(1, 1, *g) for g in grids])[0]
        cases.append({'name': name, 'aspectRatios': kw['aspect_ratios'], 'minRatio': kw.get('min_ratio', 0.15),
                      'maxRatio': kw.get('max_ratio', 0.9), 'scales': kw.get('scales'), 'steps': kw.get('steps'),
                      'clip': kw.get('clip', True), 'imageSize': list(image_size), 'featureSizes': [list(g) for g in grids],
                      'rows': boxes.shape[0], 'stride': 7, 'expected': f32(boxes.numpy()[::7])})
    return cases


def box_coder_cases(rng):
    cases = []
    n = 150
    ref = random_boxes(rng, n, 300, 4, 90)
    for weights, per in (((1.0, 1.0, 1.0, 1.0), 1), ((10.0, 10.0, 5.0, 5.0), 1), ((10.0, 10.0, 5.0, 5.0), 3)):
        codes = rng.normal(0, 1.2, (n, 4 * per)).astype(np.float32)
        codes[::7, 2::4] = 9 * weights[2]  # past the exp clip log(1000/16)
        codes[3::11, 3::4] = 12 * weights[3]
        coder = BoxCoder(weights)
        out = coder.decode(torch.from_numpy(codes), [torch.from_numpy(ref)]).reshape(n, 4 * per)
        cases.append({'weights': list(weights), 'boxes': f32(ref), 'codes': f32(codes), 'expected': f32(out.numpy())})
    # FCOS's BoxLinearCoder (distances from the reference centre to the four edges)
    linear = []
    for normalize in (True, False):
        codes = np.abs(rng.normal(0, 2 if normalize else 40, (n, 4))).astype(np.float32)
        out = BoxLinearCoder(normalize).decode(torch.from_numpy(codes), torch.from_numpy(ref))
        linear.append({'normalizeBySize': normalize, 'boxes': f32(ref), 'codes': f32(codes), 'expected': f32(out.numpy())})
    # clip and remove_small_boxes
    b = random_boxes(rng, 80, 140, 0.5, 60)
    clipped = clip_boxes_to_image(torch.from_numpy(b), (97, 121))
    small = remove_small_boxes(clipped, 3.5)
    return {'decode': cases, 'linear': linear, 'clip': {'boxes': f32(b), 'imageSize': [97, 121], 'expected': f32(clipped.numpy()),
                                      'minSize': 3.5, 'keep': small.tolist()}}


def lcg_boxes(n):
    """The boxes test/detect.test.ts times on: the same xorshift32 (seed 7), the same arithmetic in
    double, stored as float32, so both sides time identical inputs."""
    seed = 7

    def rnd():
        nonlocal seed
        seed ^= (seed << 13) & 0xFFFFFFFF
        seed ^= seed >> 17
        seed ^= (seed << 5) & 0xFFFFFFFF
        return seed / 2 ** 32
    centres = [(rnd() * 1000, rnd() * 1000) for _ in range(n // 25)]
    boxes = np.zeros((n, 4), np.float32)
    scores = np.zeros(n, np.float32)
    for i in range(n):
        cx, cy = centres[int(rnd() * len(centres))]
        x, y, w, h = cx + (rnd() - 0.5) * 40, cy + (rnd() - 0.5) * 40, 10 + rnd() * 110, 10 + rnd() * 110
        boxes[i] = [x - w / 2, y - h / 2, x + w / 2, y + h / 2]
        scores[i] = rnd()
    return torch.from_numpy(boxes), torch.from_numpy(scores)


def bench():
    for n in (1000, 10000):
        b, s = lcg_boxes(n)
        for _ in range(3):
            nms(b, s, 0.5)
        times = []
        for _ in range(21 if n == 1000 else 5):
            t = time.perf_counter()
            k = nms(b, s, 0.5)
            times.append(time.perf_counter() - t)
        print(f'torchvision.ops.nms {n} boxes (kept {len(k)}): median {np.median(times) * 1e3:.3f} ms, min {min(times) * 1e3:.3f} ms (one thread)')
    # the Faster R-CNN R50-FPN box head's pooler at 800x1216: 256 channels, 1000 proposals, 7x7, sampling 2
    rng = np.random.default_rng(3)
    feats = {str(l): torch.from_numpy(rng.normal(0, 1, (1, 256, 800 // (4 << l), 1216 // (4 << l))).astype(np.float32)) for l in range(4)}
    side = np.exp(rng.uniform(np.log(16), np.log(700), (1000, 2)))
    c = rng.uniform(0, 1, (1000, 2)) * [1216, 800]
    b = np.concatenate([c - side / 2, c + side / 2], 1).clip(0, [1216, 800, 1216, 800]).astype(np.float32)
    pooler = MultiScaleRoIAlign(['0', '1', '2', '3'], 7, 2)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        pooler(feats, [torch.from_numpy(b)], [(800, 1216)])
        times.append(time.perf_counter() - t)
    print(f'torchvision MultiScaleRoIAlign 1000 boxes, 256 ch, 7x7, sampling 2, 800x1216: median {np.median(times) * 1e3:.1f} ms (one thread)')


def main():
    if '--bench' in sys.argv:
        bench()
        return
    rng = np.random.default_rng(15)
    data = {
        'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'nms': nms_cases(rng), 'yolo': yolo_cases(rng), 'roiAlign': roi_cases(rng),
        'multiScale': multiscale_case(rng), 'anchors': anchor_cases(), 'defaultBoxes': default_box_cases(),
        'boxCoder': box_coder_cases(rng),
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    print('multiScale:', data['multiScale']['note'])
    print('sizes:', {k: len(json.dumps(v)) for k, v in data.items()})


if __name__ == '__main__':
    main()
