// MobileNet V4: registered here as the family is written.
import type { ZooFamily } from './registry';

export const MOBILENETV4: ZooFamily = {};
