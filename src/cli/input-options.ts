import { Option } from 'commander';
import { DEFAULT_QUALITY, describeModes, parseInputCodecList, parseInputs, parsePreprocess } from '../inputs/index.js';

/**
 * The flags that choose a run's inputs (src/inputs/), ready to add to a command: each parses and
 * checks its value (a UserError, exit 2, before anything starts).
 */

/**
 * `--inputs PATH... | random`: the value is the InputsSpec (files checked to exist, folders expanded);
 * without the flag the command uses parseInputs(undefined), the shipped photographs.
 */
export function inputsOption(): Option {
  return new Option(
    '--inputs <path...>',
    "camera frames: image files and folders (JPEG, PNG, WebP; a folder's images, not recursive), resized to the model input (centre crop); 'random' for seeded random frames (default: the photos shipped in models/images/)",
  ).argParser((value: string, previous: string[] | undefined) => {
    const values = [...(previous ?? []), value];
    parseInputs(values); // check as they come: a wrong path stops the run here
    return values;
  });
}

/** `--preprocess MODE`: overrides the network's own convention (docs/inputs.md has the table). */
export function preprocessOption(): Option {
  return new Option('--preprocess <mode>', `pixel preprocessing instead of the network's own: ${describeModes()} (default: the zoo model's Keras preprocess_input, torch for ONNX, unit for other TF.js/Keras files)`).argParser(parsePreprocess);
}

/** `--input-codec LIST`: what crosses the wire at the input (cloud-only) point; the value is InputCodec[]. */
export function inputCodecOption(defaultNote?: string): Option {
  return new Option(
    '--input-codec <list>',
    `what the edge sends at the input point, comma-separated: raw-f32 (the preprocessed float32 tensor, written f32), u8 (the RGB frame), jpeg[:Q] (default Q ${DEFAULT_QUALITY.jpeg}), png, webp[:Q] (default Q ${DEFAULT_QUALITY.webp}); Q 1-100 (default: raw-f32${defaultNote ? `; ${defaultNote}` : ''})`,
  ).argParser(parseInputCodecList);
}
