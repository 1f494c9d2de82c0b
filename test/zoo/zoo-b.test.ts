// test-lane: full (builds whole models: too slow for `npm run test:unit`)
import t, { type Test } from 'tap';
import tf from '../../src/tfjs.cjs';
import { densenet121 } from '../../models/densenet121.js';
import { inceptionv3 } from '../../models/inceptionv3.js';
import { mobilenet } from '../../models/mobilenet.js';
import { mobilenetv2 } from '../../models/mobilenetv2.js';
import { xception } from '../../models/xception.js';
import type { ZooEntry } from '../../models/zoo-entry.js';
import { largestWeight, names } from '../helpers/zoo.js';

/*
 * Parameter counts are copied from shared/reference/keras-applications.md (Keras 2.2.5), not from
 * the entries. Layer counts: DenseNet121 and MobileNet from that table; the other three counted
 * from the keras_applications 1.0.8 source (the table has none), kept as regression figures.
 * Runs on whatever backend tfjs picks (the plain JS cpu backend here), at each small input.
 */
const REFERENCE: Array<[entry: ZooEntry, params: number, layers: number]> = [
  [densenet121, 8_062_504, 429],
  [mobilenet, 4_253_864, 93],
  [mobilenetv2, 3_538_984, 157],
  [inceptionv3, 23_851_784, 313],
  [xception, 22_910_480, 134],
];

/** Keras-specific expectations on the layer list of the model built at its default input. */
const LAYER_CHECKS: Record<string, (t: Test, model: tf.LayersModel) => void> = {
  densenet121: (t, m) => {
    const n = names(m);
    t.same(n.slice(0, 14), [
      'input_1', 'zero_padding2d_1', 'conv1/conv', 'conv1/bn', 'conv1/relu', 'zero_padding2d_2', 'pool1',
      'conv2_block1_0_bn', 'conv2_block1_0_relu', 'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu',
      'conv2_block1_2_conv', 'conv2_block1_concat',
    ]);
    t.ok(n.includes('pool2_pool'), 'transition block pool2');
    t.same(n.slice(-5), ['conv5_block16_concat', 'bn', 'relu', 'avg_pool', 'fc1000']);
    t.same(inputsOf(m, 'conv2_block1_concat'), ['pool1', 'conv2_block1_2_conv'], 'concat order [x, x1]');
    t.equal(m.getLayer('pool2_conv').getConfig()['filters'], 128, 'transition halves 256 channels');
    t.equal(config(m, 'conv1/bn', 'epsilon'), 1.001e-5);
  },
  mobilenet: (t, m) => {
    const n = names(m);
    t.same(n.slice(0, 12), [
      'input_1', 'conv1_pad', 'conv1', 'conv1_bn', 'conv1_relu', 'conv_dw_1', 'conv_dw_1_bn', 'conv_dw_1_relu',
      'conv_pw_1', 'conv_pw_1_bn', 'conv_pw_1_relu', 'conv_pad_2',
    ]);
    // keras_applications 1.0.8 reshapes before the softmax
    t.same(n.slice(-7), [
      'conv_pw_13_relu', 'global_average_pooling2d_1', 'reshape_1', 'dropout', 'conv_preds', 'reshape_2', 'act_softmax',
    ]);
    t.equal(m.getLayer('conv_pw_13_relu').getClassName(), 'ReLU');
    t.equal(config(m, 'conv_pw_13_relu', 'maxValue'), 6);
    t.same(config(m, 'conv_pad_12', 'padding'), [[0, 1], [0, 1]]);
  },
  mobilenetv2: (t, m) => {
    const n = names(m);
    t.same(n.slice(0, 10), [
      'input_1', 'Conv1_pad', 'Conv1', 'bn_Conv1', 'Conv1_relu', 'expanded_conv_depthwise', 'expanded_conv_depthwise_BN',
      'expanded_conv_depthwise_relu', 'expanded_conv_project', 'expanded_conv_project_BN',
    ]);
    t.same(n.slice(-5), ['Conv_1', 'Conv_1_bn', 'out_relu', 'global_average_pooling2d_1', 'Logits']);
    t.ok(n.includes('block_1_pad') && n.includes('block_2_add') && !n.includes('block_3_add'), 'pads and adds');
    t.same(inputsOf(m, 'block_2_add'), ['block_1_project_BN', 'block_2_project_BN'], 'add order [inputs, x]');
    t.same(config(m, 'Conv1_pad', 'padding'), [[0, 1], [0, 1]], 'correct_pad for an even side');
    t.equal(config(m, 'block_16_project_BN', 'momentum'), 0.999);
  },
  inceptionv3: (t, m) => {
    const n = names(m);
    // Keras sorts layers by depth, so the parallel branches of mixed0 interleave
    t.same(n.slice(18, 42), [
      'conv2d_9', 'batch_normalization_9', 'activation_9', 'conv2d_7', 'conv2d_10', 'batch_normalization_7',
      'batch_normalization_10', 'activation_7', 'activation_10', 'average_pooling2d_1', 'conv2d_6', 'conv2d_8',
      'conv2d_11', 'conv2d_12', 'batch_normalization_6', 'batch_normalization_8', 'batch_normalization_11',
      'batch_normalization_12', 'activation_6', 'activation_8', 'activation_11', 'activation_12', 'mixed0',
      'conv2d_16',
    ]);
    t.same(n.slice(-7), ['activation_86', 'mixed9_1', 'concatenate_2', 'activation_94', 'mixed10', 'avg_pool', 'predictions']);
    t.ok(n.includes('conv2d_94') && !n.includes('conv2d_95'), '94 convolutions');
    t.ok(n.includes('max_pooling2d_4') && n.includes('average_pooling2d_9') && n.includes('mixed9_1'));
    t.equal(config(m, 'batch_normalization_1', 'scale'), false, 'conv2d_bn has no BN scale');
  },
  xception: (t, m) => {
    const n = names(m);
    t.same(n.slice(7, 16), [
      'block2_sepconv1', 'block2_sepconv1_bn', 'block2_sepconv2_act', 'block2_sepconv2', 'block2_sepconv2_bn',
      'conv2d_1', 'block2_pool', 'batch_normalization_1', 'add_1',
    ]);
    t.same(n.slice(-5), ['block14_sepconv2', 'block14_sepconv2_bn', 'block14_sepconv2_act', 'avg_pool', 'predictions']);
    t.same(inputsOf(m, 'add_4'), ['block5_sepconv3_bn', 'add_3'], 'middle-flow residual');
    t.equal(m.getLayer('block13_sepconv2').getClassName(), 'SeparableConv2D');
  },
};

function inputsOf(model: tf.LayersModel, layer: string): string[] {
  const input = model.getLayer(layer).input;
  return (Array.isArray(input) ? input : [input]).map((x) => x.sourceLayer.name);
}

function config(model: tf.LayersModel, layer: string, key: string): unknown {
  return model.getLayer(layer).getConfig()[key];
}

for (const [entry, params, layerCount] of REFERENCE) {
  t.test(entry.name, async (t) => {
    t.equal(entry.params, params, 'entry declares the reference parameter count');
    let started = performance.now();
    const model = entry.build();
    t.comment(`${entry.name}: built at ${entry.inputShape.join('x')} in ${(performance.now() - started).toFixed(0)} ms`);
    t.equal(model.countParams(), params, 'parameter count');
    t.equal(model.layers.length, layerCount, 'layer count (InputLayer included)');
    t.equal(model.layers[0]?.getClassName(), 'InputLayer', 'first layer is the InputLayer');
    t.same(model.inputs[0]?.shape, [null, ...entry.inputShape], 'default input shape');
    t.same(model.outputs[0]?.shape, [null, 1000], 'classifier output');
    t.equal(largestWeight(model), 0, 'every weight starts at zero');
    LAYER_CHECKS[entry.name]?.(t, model);
    const defaultNames = names(model);
    model.dispose();

    const shape = entry.smallInputShape;
    if (!shape) throw new Error(`${entry.name} has no smallInputShape`);
    const small = entry.build(shape);
    t.equal(small.countParams(), params, `same parameter count at ${shape.join('x')}`);
    t.same(names(small), defaultNames, 'same layer names and order on a second build at the small input');
    started = performance.now();
    const y = tf.tidy(() => small.predict(tf.zeros([1, ...shape])) as tf.Tensor);
    const values = await y.data();
    t.comment(`${entry.name}: predict at ${shape.join('x')} on ${tf.getBackend()} in ${(performance.now() - started).toFixed(0)} ms`);
    t.same(y.shape, [1, 1000], 'prediction shape');
    t.ok(values.every(Number.isFinite), 'prediction is finite');
    y.dispose();
    small.dispose();
  });
}

t.test('mobilenetv2 correct_pad pads an odd side on both edges, an even one only bottom/right', async (t) => {
  // 37 -> pad 1/1 -> 19 -> pad 1/1 -> 10 -> pad 0/1
  const m = mobilenetv2.build([37, 37, 3]);
  t.same(config(m, 'Conv1_pad', 'padding'), [[1, 1], [1, 1]]);
  t.same(config(m, 'block_1_pad', 'padding'), [[1, 1], [1, 1]]);
  t.same(config(m, 'block_3_pad', 'padding'), [[0, 1], [0, 1]]);
  t.equal(m.countParams(), 3_538_984);
  m.dispose();
});
