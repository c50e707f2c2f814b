// EfficientNet V1/V2: registered here as the family is written.
import type { ZooFamily } from './registry';

export const EFFICIENTNET: ZooFamily = {};
