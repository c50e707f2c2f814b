// MobileNet V1-V3: registered here as the family is written.
import type { ZooFamily } from './registry';

export const MOBILENET: ZooFamily = {};
