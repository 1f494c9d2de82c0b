/**
 * TF.js for every module of the project: `import tf from '<..>/tfjs.cjs'` instead of
 * `import * as tf from '@tensorflow/tfjs'`.
 *
 * Why: @tensorflow/tfjs is CommonJS. An ES module that imports it makes Node scan the package's
 * bundles (tfjs, tfjs-core, -layers, -converter, -data, -backend-cpu/webgl) for their named exports
 * (cjs-module-lexer), ~0.5 s of CPU in every process, more than the package's own load (~0.2 s).
 * This CommonJS file requires it instead and hands it over as the default export, which Node does
 * not scan. Types are the package's own; the instance is the one every `require` shares (the
 * backends register into it).
 */
import tf = require('@tensorflow/tfjs');
export = tf;
