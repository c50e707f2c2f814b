"""Fixture for the training augmentation (src/train/augment.ts, assembly/augment.ts): an odd-sized
random batch (2x3x13x17, values in [0, 1] with a few hand-set pixels: grey, pure colours, 0 and 1)
and what torchvision 0.14's tensor functional forms make of it for explicit parameters:
F.affine (BILINEAR, fill), F.rotate (BILINEAR, fill 0), F.resized_crop (BILINEAR, antialias=False), F.hflip,
F.adjust_brightness / adjust_contrast / adjust_saturation / adjust_hue, F.normalize.
Brightness and contrast also on the one-channel batch (the first channel).

Writes test/fixtures/train/augment.json: { input: {shape, data}, cases: [{op, params, shape, data}] }
with data as base64 of float32 little-endian (NCHW, the whole batch with the same parameters).

Run with /usr/bin/python3 (torch 1.13, torchvision 0.14).
"""
import base64
import json
import os

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'train')


def b64(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype('<f4').tobytes()).decode('ascii')


def main():
    torch.manual_seed(20261204)
    x = torch.rand(2, 3, 13, 17, dtype=torch.float32)
    # hand-set pixels: grey (max == min), pure and mixed colours, the bounds
    x[0, :, 0, 0] = torch.tensor([0.5, 0.5, 0.5])
    x[0, :, 0, 1] = torch.tensor([1.0, 0.0, 0.0])
    x[0, :, 0, 2] = torch.tensor([0.0, 1.0, 0.0])
    x[0, :, 0, 3] = torch.tensor([0.0, 0.0, 1.0])
    x[0, :, 0, 4] = torch.tensor([1.0, 1.0, 0.0])
    x[0, :, 0, 5] = torch.tensor([0.0, 0.0, 0.0])
    x[0, :, 0, 6] = torch.tensor([1.0, 1.0, 1.0])
    x[1, :, 12, 16] = torch.tensor([0.3, 0.3, 0.9])
    x[1, :, 12, 15] = torch.tensor([0.7, 0.7, 0.2])
    gray1 = x[:, :1].clone()

    cases = []

    def add(op, params, y, src='rgb'):
        cases.append({'op': op, 'params': params, 'src': src, 'shape': list(y.shape), 'data': b64(y)})

    bil = InterpolationMode.BILINEAR
    for angle, translate, scale, shear, fill in [
        (90.0, [0, 0], 1.0, [0.0, 0.0], 0.0),
        (33.0, [0, 0], 1.0, [0.0, 0.0], 0.0),
        (-33.0, [0, 0], 1.0, [0.0, 0.0], 0.0),
        (0.0, [0, 0], 0.8, [0.0, 0.0], 0.0),
        (0.0, [0, 0], 1.2, [0.0, 0.0], 0.0),
        (0.0, [3, -2], 1.0, [0.0, 0.0], 0.0),
        (0.0, [1.5, 0.25], 1.0, [0.0, 0.0], 0.0),
        (0.0, [0, 0], 1.0, [15.0, 0.0], 0.0),
        (0.0, [0, 0], 1.0, [0.0, -12.0], 0.0),
        (-20.0, [1, 2], 1.1, [10.0, -7.0], 0.0),
        (47.0, [-2, 1], 0.9, [-5.0, 8.0], 0.5),
        (180.0, [0, 0], 1.0, [0.0, 0.0], 0.0),
    ]:
        y = F.affine(x, angle=angle, translate=translate, scale=scale, shear=shear, interpolation=bil, fill=fill)
        add('affine', {'angle': angle, 'translate': translate, 'scale': scale, 'shear': shear, 'fill': fill}, y)

    # F.rotate turns counter-clockwise: affine with -angle (torchvision's own note)
    for angle in [33.0, 90.0, -71.5]:
        add('rotate', {'angle': angle}, F.rotate(x, angle, interpolation=bil, fill=0.0))

    for top, left, h, w, size in [
        (2, 3, 8, 9, [13, 17]),
        (0, 0, 13, 17, [7, 5]),
        (1, 4, 11, 10, [6, 11]),
        (5, 6, 3, 4, [9, 9]),
        (-2, -1, 9, 12, [10, 8]),
        (6, 10, 10, 10, [5, 7]),
    ]:
        y = F.resized_crop(x, top, left, h, w, size, interpolation=bil, antialias=False)
        add('resizedCrop', {'top': top, 'left': left, 'height': h, 'width': w, 'size': size}, y)

    add('hflip', {}, F.hflip(x))
    for f in [0.6, 1.4, 0.0]:
        add('brightness', {'factor': f}, F.adjust_brightness(x, f))
    for f in [0.5, 1.7, 0.0]:
        add('contrast', {'factor': f}, F.adjust_contrast(x, f))
    for f in [0.3, 1.8, 0.0]:
        add('saturation', {'factor': f}, F.adjust_saturation(x, f))
    for f in [0.3, -0.3, 0.07, 0.5, -0.5]:
        add('hue', {'factor': f}, F.adjust_hue(x, f))
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    add('normalize', {'mean': mean, 'std': std}, F.normalize(x, mean, std))
    add('brightness', {'factor': 1.3}, F.adjust_brightness(gray1, 1.3), src='gray')
    add('contrast', {'factor': 0.4}, F.adjust_contrast(gray1, 0.4), src='gray')
    add('normalize', {'mean': [0.5], 'std': [0.25]}, F.normalize(gray1, [0.5], [0.25]), src='gray')

    os.makedirs(OUT, exist_ok=True)
    doc = {
        'source': 'tools/augment_fixtures.py (torch %s, torchvision 0.14)' % torch.__version__,
        'input': {'shape': list(x.shape), 'data': b64(x)},
        'cases': cases,
    }
    with open(os.path.join(OUT, 'augment.json'), 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print('wrote', len(cases), 'cases')


if __name__ == '__main__':
    main()
