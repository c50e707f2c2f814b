// GoogLeNet: registered here as the family is written.
import type { ZooFamily } from './registry';

export const GOOGLENET: ZooFamily = {};
