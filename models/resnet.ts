// ResNet / ResNeXt / Wide ResNet and attention variants: registered here as the family is written.
import type { ZooFamily } from './registry';

export const RESNET: ZooFamily = {};
