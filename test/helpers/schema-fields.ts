import { Kind, type TSchema } from '@sinclair/typebox';

/**
 * Every field path of a schema with the schema of its value: `edge.cores`, `cuts[].layer`, and the
 * fields of an object that may also be null (`conditions.devices.edge.cpuset`). For the docs check.
 */
export function schemaFields(schema: TSchema): Map<string, TSchema> {
  const out = new Map<string, TSchema>();
  const walk = (s: TSchema, path: string, field: TSchema) => {
    if (path !== '') out.set(path, field);
    const kind = s[Kind] as string;
    if (kind === 'Object') {
      for (const [k, v] of Object.entries(s.properties as Record<string, TSchema>)) walk(v, path === '' ? k : `${path}.${k}`, v);
    } else if (kind === 'Array' && (s.items as TSchema)[Kind] === 'Object') {
      walk(s.items as TSchema, `${path}[]`, field);
      out.delete(`${path}[]`);
    } else if (kind === 'Union') {
      for (const v of s.anyOf as TSchema[]) if (v[Kind] === 'Object') walk(v, path, field);
    }
  };
  walk(schema, '', schema);
  return out;
}
