// AlexNet: registered here as the family is written.
import type { ZooFamily } from './registry';

export const ALEXNET: ZooFamily = {};
