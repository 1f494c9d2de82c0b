import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

/** What `--inputs` names: seeded random frames, or photographs (files, folders expanded). */
export type InputsSpec = { kind: 'random' } | { kind: 'images'; paths: string[] };

/** File name endings a folder's photographs are picked by (files named explicitly are checked by content). */
const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

/** The package root: the nearest folder above this module with the project's package.json (same from src/ and dist/src/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'dnn-partition-bench') return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package root not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The photographs shipped with the project: the default input set (models/images/, licences in LICENSES.md there). */
export const DEFAULT_IMAGES_DIR: string = path.join(packageRoot(), 'models', 'images');

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** A folder's image files (JPEG, PNG, WebP by name), sorted by name, not recursive. */
function folderImages(dir: string): string[] {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.isDirectory() && isImageFileName(e.name))
    .map((e) => e.name)
    .sort();
  if (names.length === 0) throw new UserError(`--inputs: folder '${dir}' has no JPEG, PNG or WebP files (folders are not searched recursively); name the files or another folder`);
  return names.map((n) => path.join(dir, n));
}

/**
 * `--inputs` values: none -> the shipped photographs; `random` alone -> seeded random frames;
 * otherwise files and folders, each checked to exist (folders expanded to their image files) so a
 * wrong path stops the run before anything starts. Whether a file is an image is checked when
 * it is decoded (loadFrames).
 */
export function parseInputs(values: string[] | undefined): InputsSpec {
  if (!values || values.length === 0) return { kind: 'images', paths: folderImages(DEFAULT_IMAGES_DIR) };
  if (values.includes('random')) {
    if (values.length > 1) throw new UserError(`--inputs random takes no paths; give either 'random' or files/folders (got ${values.join(' ')})`);
    return { kind: 'random' };
  }
  const paths = values.flatMap((p) => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`--inputs: '${p}' ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; give image files or folders, or 'random'`);
    }
    if (!st.isDirectory()) return [p];
    try {
      return folderImages(p);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`--inputs: folder '${p}' cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  });
  return { kind: 'images', paths };
}

/**
 * How a results file names an input file: the shipped photos as `models/images/NAME` (the same on
 * every machine), other files as the user gave them.
 */
export function inputFileLabel(file: string): string {
  const rel = path.relative(DEFAULT_IMAGES_DIR, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel) ? `models/images/${rel}` : file;
}
