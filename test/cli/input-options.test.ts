// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { Command } from 'commander';
import path from 'node:path';
import { inputCodecOption, inputsOption, preprocessOption } from '../../src/cli/input-options.js';
import { DEFAULT_IMAGES_DIR } from '../../src/inputs/index.js';
import { userErrorOf } from '../helpers/user-error.js';

/** A command with the three options, parsing `args` as a user would type them. */
function parse(args: string[]): Record<string, unknown> {
  const cmd = new Command().exitOverride().addOption(inputsOption()).addOption(preprocessOption()).addOption(inputCodecOption());
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

t.test('the options parse into what src/inputs takes', async (t) => {
  t.same(parse([]), {});
  const rocket = path.join(DEFAULT_IMAGES_DIR, 'rocket.jpg');
  t.same(parse(['--inputs', rocket, DEFAULT_IMAGES_DIR, '--preprocess', 'caffe', '--input-codec', 'raw-f32,jpeg']), {
    inputs: [rocket, DEFAULT_IMAGES_DIR],
    preprocess: 'caffe',
    inputCodec: [
      { name: 'f32', label: 'f32', id: 0 },
      { name: 'jpeg', quality: 90, label: 'jpeg:90', id: 10 },
    ],
  });
  t.same(parse(['--inputs', 'random']), { inputs: ['random'] });
});

t.test('bad values are UserErrors from the parsers (exit 2 in the CLIs), naming the value', async (t) => {
  t.match((await userErrorOf(() => parse(['--inputs', '/no/such/photo.jpg'])))?.message, "--inputs: '/no/such/photo.jpg' does not exist");
  t.match((await userErrorOf(() => parse(['--preprocess', 'bgr'])))?.message, "--preprocess: unknown mode 'bgr'");
  t.match((await userErrorOf(() => parse(['--input-codec', 'jpeg:0'])))?.message, "quality of 'jpeg:0' must be an integer from 1 to 100");
});

t.test('help texts say the defaults', async (t) => {
  t.match(inputsOption().description, /default: the photos shipped in models\/images\//);
  t.match(inputCodecOption().description, /jpeg\[:Q\] \(default Q 90\).*webp\[:Q\] \(default Q 80\)/);
  t.match(preprocessOption().description, /tf \(x\/127.5-1\)/);
});
