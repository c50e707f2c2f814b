// ConvNeXt: registered here as the family is written.
import type { ZooFamily } from './registry';

export const CONVNEXT: ZooFamily = {};
