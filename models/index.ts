import type { ZooEntry } from './zoo-entry.js';
import { vgg16 } from './vgg16.js';
import { vgg19 } from './vgg19.js';
import { resnet50 } from './resnet50.js';
import { resnet50v2 } from './resnet50v2.js';
import { densenet121 } from './densenet121.js';
import { mobilenet } from './mobilenet.js';
import { mobilenetv2 } from './mobilenetv2.js';
import { inceptionv3 } from './inceptionv3.js';
import { xception } from './xception.js';
import { alexnet } from './alexnet.js';
import { lenet } from './lenet.js';

/** The model zoo, in the order the help text lists it. */
export const ZOO: readonly ZooEntry[] = [vgg16, vgg19, resnet50, resnet50v2, densenet121, mobilenet, mobilenetv2, inceptionv3, xception, alexnet, lenet];

export function zooEntry(name: string): ZooEntry | undefined {
  return ZOO.find((e) => e.name === name.toLowerCase());
}

export const ZOO_NAMES: readonly string[] = ZOO.map((e) => e.name);
