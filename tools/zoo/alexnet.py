"""AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
Convolutional Neural Networks"): the references of models/alexnet.ts.

- `alexnet`: torchvision 0.14's alexnet() (the "one weird trick" single-tower variant:
  64/192/384/256/256 filters, no LRN, 224x224 input).
- `alexnet_lrn`: the network of the 2012 paper as one tower (the two GPU halves merged, so
  every conv sees all channels of the layer before): 96/256/384/384/256 filters of 11x11
  stride 4, 5x5, 3x3, 3x3, 3x3; local response normalisation (size 5, alpha 1e-4, beta 0.75,
  k 2) after the ReLU of the first two convs; overlapping 3x3 stride-2 max pooling after
  LRN1, LRN2 and conv5; fully connected 4096, 4096, 1000 with dropout before the first two.
  Input 227x227 with no padding on conv1 gives the paper's 55x55x96 first layer
  ((227 - 11) / 4 + 1 = 55; the paper's "224x224" does not divide); conv2..5 pad so that
  they keep the size (2, 1, 1, 1): 55 -> pool 27 -> 27 -> pool 13 -> 13 -> 13 -> 13 -> pool 6,
  so the classifier sees 256 x 6 x 6 = 9216 features.
  PyTorch's nn.LocalResponseNorm divides alpha by size, as the paper's formula does
  (k + alpha/n * sum a^2)^beta -- here with the paper's alpha = 1e-4 given to the module.
  Like torchvision's AlexNet an adaptive 6x6 average pool precedes the classifier: the
  identity at 227x227, it lets other input sizes reach the classifier.
  Module names follow torchvision (features.N / classifier.N).
"""
import torch.nn as nn
import torchvision.models as tvm


class AlexNetLRN(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=0),  # 0: 227 -> 55
            nn.ReLU(inplace=True),  # 1
            nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),  # 2
            nn.MaxPool2d(kernel_size=3, stride=2),  # 3: 55 -> 27
            nn.Conv2d(96, 256, kernel_size=5, padding=2),  # 4
            nn.ReLU(inplace=True),  # 5
            nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),  # 6
            nn.MaxPool2d(kernel_size=3, stride=2),  # 7: 27 -> 13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # 8
            nn.ReLU(inplace=True),  # 9
            nn.Conv2d(384, 384, kernel_size=3, padding=1),  # 10
            nn.ReLU(inplace=True),  # 11
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # 12
            nn.ReLU(inplace=True),  # 13
            nn.MaxPool2d(kernel_size=3, stride=2),  # 14: 13 -> 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


MODELS = {
    "alexnet": dict(build=tvm.alexnet, input=[1, 3, 224, 224], reference="torchvision 0.14 alexnet()"),
    "alexnet_lrn": dict(build=AlexNetLRN, input=[1, 3, 227, 227],
                        reference="tools/zoo/alexnet.py AlexNetLRN (Krizhevsky et al. 2012, single tower)"),
}
