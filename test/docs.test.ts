// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The README is a front door: the rest lives in docs/ and deploy/README.md, and nothing is lost on the way. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_README_LINES = 250;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}

/** The documentation, as paths relative to the root: README.md, docs/**\/*.md, deploy/README.md. */
const PAGES = ['README.md', ...markdownFiles(path.join(ROOT, 'docs')).map((p) => path.relative(ROOT, p)), 'deploy/README.md'];

/** A page's lines outside fenced code blocks (a `# comment` in a shell example is no heading). */
function proseLines(text: string): string[] {
  let fence = false;
  return text.split('\n').filter((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fence = !fence;
      return false;
    }
    return !fence;
  });
}

function headingsOf(text: string): string[] {
  return proseLines(text).flatMap((l) => /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l)?.[1] ?? []);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2... */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const h of headingsOf(text)) {
    const s = slug(h);
    const n = seen.get(s) ?? 0;
    anchors.add(n === 0 ? s : `${s}-${n}`);
    seen.set(s, n + 1);
  }
  return anchors;
}

/** Relative link targets of a page, code spans and fenced blocks left out. */
function relativeLinks(text: string): string[] {
  const prose = proseLines(text).join('\n').replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

const read = (page: string): string => readFileSync(path.join(ROOT, page), 'utf8');

t.test(`README.md is a front door: under ${MAX_README_LINES} lines`, async (t) => {
  const lines = read('README.md').replace(/\n$/, '').split('\n').length;
  t.ok(lines < MAX_README_LINES, `README.md has ${lines} lines`);
});

t.test('every relative link reaches a file and, when it names one, a heading', async (t) => {
  let checked = 0;
  for (const page of PAGES) {
    for (const link of relativeLinks(read(page))) {
      const [file, anchor] = link.split('#', 2) as [string, string | undefined];
      const target = file === '' ? page : path.normalize(path.join(path.dirname(page), decodeURIComponent(file)));
      checked++;
      if (!existsSync(path.join(ROOT, target))) {
        t.fail(`${page}: link ${link}: no file ${target}`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (statSync(path.join(ROOT, target)).isDirectory() || !target.endsWith('.md')) {
        t.fail(`${page}: link ${link}: an anchor into ${target}, which is no markdown page`);
        continue;
      }
      t.ok(anchorsOf(read(target)).has(anchor), `${page}: link ${link}: heading #${anchor} in ${target}`);
    }
  }
  t.ok(checked > 20, `${checked} links checked`);
});

t.test('every heading of the old README is a heading of a page the README links to', async (t) => {
  const fixture = readFileSync(path.join(ROOT, 'test/fixtures/readme-v1-headings.txt'), 'utf8');
  const entries = fixture.split('\n').filter((l) => l.startsWith('#'));
  t.equal(entries.length, 21, 'the old README had 21 headings (27 lines start with #, 6 of them in code blocks)');
  const headings = new Map(PAGES.map((p) => [p, new Set(headingsOf(read(p)))]));
  const linked = new Set(['README.md', ...relativeLinks(read('README.md')).map((l) => path.normalize(l.split('#')[0]!))]);
  for (const entry of entries) {
    const [old, mapped] = /^#+\s+(.*?)(?:\s+=>\s+(.*))?$/.exec(entry)!.slice(1) as [string, string | undefined];
    const want = mapped ?? old;
    if (/^[\w./-]+\.md$/.test(want)) {
      // a whole page took the section's place
      t.ok(existsSync(path.join(ROOT, want)), `"${old}" -> ${want} exists`);
      t.ok(linked.has(want), `"${old}" -> ${want} is linked from README.md`);
      continue;
    }
    const pages = PAGES.filter((p) => headings.get(p)!.has(want));
    t.ok(pages.length > 0, `"${old}" is the heading "${want}" in ${pages.join(', ') || 'no page'}`);
    t.ok(pages.some((p) => linked.has(p)), `"${want}" is on a page the README links to`);
  }
});

t.test('the link check itself: anchors as GitHub makes them', async (t) => {
  t.equal(slug("The published tool's data (`--legacy DIR`)"), 'the-published-tools-data---legacy-dir');
  t.equal(slug('`dnn-report`: where should the network be split, and must the split move?'), 'dnn-report-where-should-the-network-be-split-and-must-the-split-move');
  t.same([...anchorsOf('# A\n```\n# not a heading\n```\n## A\n')], ['a', 'a-1']);
  t.same(relativeLinks('[x](a.md#b) `[y](c.md)` [z](https://example.org) [w](#here)'), ['a.md#b', '#here']);
});
