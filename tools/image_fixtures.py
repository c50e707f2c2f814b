"""Fixtures for the image preprocessing (src/image, assembly/image.ts): synthetic PNG images with
high-frequency content at odd sizes, and what torchvision 0.14 makes of them on tensors:
to_tensor -> [Grayscale] -> Resize(size, interpolation, antialias) -> CenterCrop -> Normalize.

Writes test/fixtures/image/<name>.png, <case>.f32 (float32 little-endian, NCHW, batch 1) and
cases.json (one entry per case: image, options as fromImage takes them, shape, file; `rows`
when the file keeps only those output rows of every channel).
Also the softmax fixture (softmax.json: logits and torch.softmax of them).

Run with /usr/bin/python3 (torch 1.13, torchvision 0.14). PNG is lossless, so the decoded pixels
the tests see (sharp in Node, the browser's decoder) are the pixels used here.
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
import torchvision.transforms as T
import torchvision.transforms.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'image')
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def synthetic(w, h, channels, seed):
    """Stripes near the Nyquist rate, a chequerboard, a gradient and a noise patch: aliasing shows."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        f = 0.9 + 0.35 * c
        v = 127.5 + 80 * np.sin(x * f + y * 0.3 * (c + 1)) + 40 * ((x.astype(int) // (2 + c) + y.astype(int) // 3) % 2)
        v += 60 * (x / w - y / h)
        planes.append(v)
    img = np.stack(planes, -1)
    ph, pw = h // 3, w // 3
    img[ph:2 * ph, pw:2 * pw] = rng.integers(0, 256, (ph, pw, channels))
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if channels == 1:
        return Image.fromarray(img[:, :, 0], 'L')
    return Image.fromarray(img, 'RGBA' if channels == 4 else 'RGB')


IMAGES = {
    'landscape': (301, 217, 3, 1),  # 301 wide, 217 high, RGB
    'portrait': (97, 333, 4, 2),  # RGBA: the alpha channel is dropped
    'small': (40, 29, 3, 3),  # smaller than every target: up-sampling
    'grey': (53, 71, 1, 4),  # 8-bit grey
    'photo': (333, 271, 3, 5),  # the ImageNet 256 -> 224 case
}

INTERP = {'bilinear': InterpolationMode.BILINEAR, 'bicubic': InterpolationMode.BICUBIC, 'nearest': InterpolationMode.NEAREST}

# rows kept of the large bicubic 256 -> 224 case (every 5th and the last, of each channel): the
# fixture stays small and still covers both borders and the middle
PHOTO_ROWS = list(range(0, 224, 5)) + [223]

# name, image, options (fromImage's), channels of the expected tensor
CASES = [
    ('landscape_64_56', 'landscape', dict(size=64, crop=56, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('portrait_64_56', 'portrait', dict(size=64, crop=56, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('small_64_56', 'small', dict(size=64, crop=56, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('landscape_nearest', 'landscape', dict(size=64, crop=56, interpolation='nearest')),
    ('small_nearest', 'small', dict(size=[45, 71], interpolation='nearest')),
    ('portrait_noaa', 'portrait', dict(size=48, crop=[40, 44], antialias=False, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('landscape_hw', 'landscape', dict(size=[50, 70], mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])),
    ('small_pad', 'small', dict(size=24, crop=[31, 40], mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('landscape_grey', 'landscape', dict(size=40, crop=32, channels=1, mean=[0.1307], std=[0.3081])),
    ('grey_rgb', 'grey', dict(size=36, crop=32, channels=3, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('grey_28', 'grey', dict(size=[28, 28], channels=1)),
    ('photo_256_224', 'photo', dict(size=256, crop=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    # bicubic: antialiased down-sampling (a = -0.5, widened support), plain (a = -0.75, 4 taps,
    # clamped borders) both ways, up-sampling (the antialiased path up-samples with a = -0.5 too),
    # an [h, w] size that shrinks one axis and grows the other, and a timm-style 256 -> 224
    ('landscape_bicubic', 'landscape', dict(size=64, crop=56, interpolation='bicubic', mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('portrait_bicubic_noaa', 'portrait', dict(size=48, crop=[40, 44], interpolation='bicubic', antialias=False, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('small_bicubic', 'small', dict(size=64, crop=56, interpolation='bicubic', mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ('small_bicubic_noaa', 'small', dict(size=[45, 71], interpolation='bicubic', antialias=False)),
    ('small_bicubic_hw', 'small', dict(size=[20, 60], crop=[22, 58], interpolation='bicubic')),
    ('grey_bicubic', 'grey', dict(size=[7, 5], channels=1, interpolation='bicubic', mean=[0.5], std=[0.5])),
    ('photo_bicubic_256_224', 'photo', dict(size=256, crop=224, interpolation='bicubic', mean=IMAGENET_MEAN, std=IMAGENET_STD)),
]

# cases whose fixture keeps only some output rows (the test compares those rows)
ROWS = {'photo_bicubic_256_224': PHOTO_ROWS}


def reference(img, o):
    """torchvision on tensors, the documented order: to_tensor, Grayscale, Resize, CenterCrop, Normalize."""
    if img.mode == 'RGBA':
        img = img.convert('RGB')  # drops alpha, as fromImage does
    x = F.to_tensor(img)
    channels = o.get('channels', 3)
    if channels == 1 and x.shape[0] == 3:
        x = F.rgb_to_grayscale(x, 1)
    elif channels == 3 and x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    size = o['size']
    interp = o.get('interpolation', 'bilinear')
    x = F.resize(x, size if isinstance(size, int) else list(size), interpolation=INTERP[interp],
                 antialias=o.get('antialias', True) if interp in ('bilinear', 'bicubic') else None)
    if 'crop' in o:
        x = F.center_crop(x, o['crop'])
    if 'mean' in o:
        x = F.normalize(x, o['mean'], o['std'])
    return x.unsqueeze(0).contiguous()


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {}
    for name, (w, h, c, seed) in IMAGES.items():
        img = synthetic(w, h, c, seed)
        img.save(os.path.join(OUT, f'{name}.png'), optimize=True)
        images[name] = Image.open(os.path.join(OUT, f'{name}.png'))
        images[name].load()
    cases = []
    for name, image, o in CASES:
        y = reference(images[image], o)
        case = dict(name=name, image=f'{image}.png', options=o, shape=list(y.shape), file=f'{name}.f32')
        if name in ROWS:
            case['rows'] = ROWS[name]
            y = y[:, :, ROWS[name], :].contiguous()
        y.numpy().astype('<f4').tofile(os.path.join(OUT, f'{name}.f32'))
        cases.append(case)
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump(cases, f, indent=1)
        f.write('\n')

    # softmax over the class axis of a batch, with a large logit (stability) and a -inf-free tail
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(2, 7, generator=g, dtype=torch.float64) * 4
    logits[1, 3] = 1000.0
    logits4 = torch.randn(1, 5, 3, 2, generator=g, dtype=torch.float64) * 3
    soft = dict(
        logits=logits.float().flatten().tolist(), shape=list(logits.shape),
        softmax=torch.softmax(logits.float().double(), 1).flatten().tolist(),
        logits4=logits4.float().flatten().tolist(), shape4=list(logits4.shape),
        softmax4=torch.softmax(logits4.float().double(), 1).flatten().tolist(),
    )
    with open(os.path.join(OUT, 'softmax.json'), 'w') as f:
        json.dump(soft, f)
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
