// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// docs/results-format.md against the schemas: every schema field is documented, every documented field exists.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { ROOT } from '../helpers/cli.js';
import { schemaFields } from '../helpers/schema-fields.js';
import { RunMetadataSchema } from '../../src/results/metadata.js';
import { StateFileSchema } from '../../src/conditions/cleanup/state-file.js';
import { CHANGE_SCHEMAS } from '../../src/conditions/cleanup/change.js';
import { TRACE_LINE_SCHEMAS } from '../../src/conditions/trace.js';
import { FrameLineSchema, StreamLineSchema } from '../../src/results/stream-lines.js';
import { RacedLineSchema } from '../../src/results/raced-lines.js';

const SCHEMAS: Record<string, TSchema> = {
  'run-metadata': RunMetadataSchema,
  'stream-line': StreamLineSchema,
  'frame-line': FrameLineSchema,
  'raced-line': RacedLineSchema,
  'state-file': StateFileSchema,
  ...Object.fromEntries(Object.entries(CHANGE_SCHEMAS).map(([k, s]) => [`change-${k}`, s])),
  ...Object.fromEntries(Object.entries(TRACE_LINE_SCHEMAS).map(([k, s]) => [`trace-${k}`, s])),
};

/** The field paths of each `<!-- schema: NAME -->` table: the backquoted names in its first column. */
export function documentedFields(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^<!-- schema: ([\w-]+) -->$/.exec(line);
    if (marker) {
      current = [];
      out.set(marker[1]!, current);
    } else if (current && line.startsWith('|')) {
      const first = line.split('|')[1]!;
      current.push(...[...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    } else if (line.trim() !== '') current = undefined;
  }
  return out;
}

/** A documented path with `*` for any one name. */
const matches = (doc: string, field: string) => new RegExp(`^${doc.replace(/[.[\]]/g, '\\$&').replaceAll('*', '[^.]+')}$`).test(field);

/** Schema fields the doc does not list, and listed fields the schema does not have. */
function compare(fields: string[], listed: string[]): { missing: string[]; invented: string[] } {
  return { missing: fields.filter((f) => !listed.some((d) => matches(d, f))), invented: listed.filter((d) => !fields.some((f) => matches(d, f))) };
}

const doc = documentedFields(readFileSync(join(ROOT, 'docs/results-format.md'), 'utf8'));

t.test('every schema has a table in the doc, and every table a schema', async (t) => {
  t.same([...doc.keys()].sort(), Object.keys(SCHEMAS).sort());
});

for (const [name, schema] of Object.entries(SCHEMAS)) {
  t.test(`${name}: the doc lists exactly the schema's fields`, async (t) => {
    const fields = [...schemaFields(schema).keys()];
    const listed = doc.get(name) ?? [];
    t.ok(fields.length > 0);
    const { missing, invented } = compare(fields, listed);
    t.same(missing, [], 'schema fields missing from the doc');
    t.same(invented, [], 'documented fields the schema does not have');
  });
}

t.test('the check itself finds a missing and an invented field', async (t) => {
  const fields = [...schemaFields(RunMetadataSchema).keys()];
  t.ok(fields.includes('conditions.devices.edge.slowdown.target'), 'nested fields of nullable objects are walked');
  t.ok(fields.includes('cuts[].layer'), 'fields of list items are walked');
  const table = (rows: string[]) => documentedFields(`<!-- schema: x -->\n| field |\n|---|\n${rows.map((r) => `| ${r} |`).join('\n')}\n`).get('x')!;
  t.same(table(['`a`, `b.c`', '`d.*.e`']), ['a', 'b.c', 'd.*.e']);
  t.ok(matches('conditions.devices.*.cpus', 'conditions.devices.cloud.cpus'));
  t.notOk(matches('conditions.devices.*.cpus', 'conditions.devices.cloud.slowdown.cpus'));
  t.notOk(matches('cuts[].layer', 'cuts.layer'));
  const listed = doc.get('run-metadata')!.filter((d) => d !== 'network');
  t.same(compare(fields, [...listed, 'invented.field']), { missing: ['network'], invented: ['invented.field'] });
});
