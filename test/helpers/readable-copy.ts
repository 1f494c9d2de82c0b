import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

/**
 * A copy of one compiled module, the modules it imports and the npm packages they need, in a temp
 * folder anyone may read. A test that runs code as another user (uid 65534) needs it: a checkout in
 * a private folder (a home directory, a `mktemp -d`: mode 0700) cannot be read by that user.
 */
export interface ReadableCopy {
  /** the copied module's path in the copy */
  entry: string;
  remove(): void;
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g;

/** The package a bare specifier names: `execa`, `@scope/name` (`node:` built-ins: none). */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('node:') || spec.startsWith('.') || spec.startsWith('/')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every package `roots` need, through their package.json dependencies (npm installs them flat in node_modules). */
function packageClosure(roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (existsSync(path.join(ROOT, 'node_modules', dep))) visit(dep);
  };
  for (const r of roots) visit(r);
  return seen;
}

/** `module`: a .js file under ROOT (e.g. dist/src/conditions/tc.js), followed through its relative imports. */
export function readableCopy(module: string): ReadableCopy {
  const dir = mkdtempSync(path.join(tmpdir(), 'dnn-readable-'));
  chmodSync(dir, 0o755);
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (spec!.startsWith('.')) visit(path.resolve(path.dirname(file), spec!));
      else {
        const pkg = packageOf(spec!);
        if (pkg) packages.add(pkg);
      }
    }
  };
  visit(path.resolve(module));
  for (const f of files) cpSync(f, path.join(dir, path.relative(ROOT, f)));
  for (const p of packageClosure(packages)) cpSync(path.join(ROOT, 'node_modules', p), path.join(dir, 'node_modules', p), { recursive: true, dereference: true });
  // the compiled files are ES modules because the project's package.json says so
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  // what was made under a umask of 077 (or copied from a private checkout) would be private again: a+rX
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath ?? e.path, e.name);
    if (!e.isSymbolicLink()) chmodSync(p, statSync(p).mode | (e.isDirectory() || statSync(p).mode & 0o111 ? 0o555 : 0o444));
  }
  return { entry: path.join(dir, path.relative(ROOT, path.resolve(module))), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
