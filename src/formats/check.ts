import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { UserError } from '../errors.js';

/**
 * Checking what a file holds against its schema (TypeBox: standard JSON Schema, compiled to a fast
 * checker once). Every file kind the tool writes carries a `format` number; one that is absent is
 * format 1 (files written before the field existed). The errors say FILE:LINE, the field, what was
 * expected and what was found, and how to fix it: the CLIs print them as one line and exit 2.
 */
export class FormatError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface FileKind<S extends TSchema> {
  /** what the file kind is called in messages, e.g. "#dnn-meta" or "state file" */
  what: string;
  schema: S;
  /** the newest format this release reads and writes; undefined for kinds without a format number (input files of other tools) */
  format?: number;
  /** how to fix a file that does not match, appended to the message */
  fix: string;
}

export interface Checker<S extends TSchema> {
  kind: FileKind<S>;
  /**
   * The value, typed, or a FormatError naming `where` (FILE:LINE), the field, expected and got;
   * `at` is the path of the value inside the file's object when it is a part of it ("changes.2").
   */
  check(value: unknown, where: string, at?: string): Static<S>;
}

export function checker<S extends TSchema>(kind: FileKind<S>): Checker<S> {
  const compiled = TypeCompiler.Compile(kind.schema);
  const problem = (value: unknown, where: string, at?: string): string | undefined => {
    const newer = at === undefined ? newerFormat(value, kind, where) : undefined;
    if (newer) return newer;
    if (compiled.Check(value)) return undefined;
    const first = narrowed(compiled.Errors(value).First());
    if (!first) return `${where}: ${kind.what} does not match its schema; ${kind.fix}`;
    // a field may say in its schema how its own mistake reads ({got}: the value found)
    if (typeof first.schema.errorMessage === 'string') return `${where}: ${first.schema.errorMessage.replaceAll('{got}', String(first.value))}`;
    const path = [at, ...first.path.split('/').slice(1)].filter((p) => p !== undefined && p !== '').join('.');
    const field = path === '' ? kind.what : `${kind.what} field '${path}'`;
    const expected = expectedOf(first.schema);
    const what =
      first.type === ValueErrorType.ObjectRequiredProperty || first.value === undefined ? `${field} is missing (expected ${expected})` : `${field}: expected ${expected}, got ${shown(first.value)}`;
    return `${where}: ${what}; ${kind.fix}`;
  };
  return {
    kind,
    check(value, where, at) {
      const found = problem(value, where, at);
      if (found !== undefined) throw new FormatError(found);
      return value as Static<S>;
    },
  };
}

/**
 * An error at an object that may also be null (or another union of one object) is reported at the
 * field inside it that is wrong, not as "expected an object or null".
 */
function narrowed(e: ValueError | undefined): ValueError | undefined {
  if (e?.type !== ValueErrorType.Union || typeof e.value !== 'object' || e.value === null || Array.isArray(e.value)) return e;
  const objects = (e.schema.anyOf as TSchema[]).filter((v) => v[Kind] === 'Object');
  if (objects.length !== 1) return e;
  const inner = Value.Errors(objects[0]!, e.value).First();
  return inner ? narrowed({ ...inner, path: `${e.path}${inner.path}` }) : e;
}

/** The message for a file whose `format` is newer than this release reads, or undefined. */
function newerFormat(value: unknown, kind: FileKind<TSchema>, where: string): string | undefined {
  if (kind.format === undefined || typeof value !== 'object' || value === null) return undefined;
  const format = (value as { format?: unknown }).format;
  if (typeof format !== 'number' || !(format > kind.format)) return undefined;
  return `${where}: ${kind.what} is format ${format}, but this release of dnn-partition-bench reads formats up to ${kind.format}: upgrade the tool to read it`;
}

/** What a schema asks for, in words ("an integer >= 1", "null or a string"). */
export function expectedOf(s: TSchema): string {
  const kind = s[Kind] as string;
  const bounds = [
    s.minimum !== undefined ? `>= ${s.minimum}` : '',
    s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '',
    s.maximum !== undefined ? `<= ${s.maximum}` : '',
  ].filter(Boolean);
  const bounded = (base: string) => (bounds.length ? `${base} ${bounds.join(' and ')}` : base);
  switch (kind) {
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Integer':
      return bounded('an integer');
    case 'Number':
      return bounded('a number');
    case 'String':
      return 'a string';
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Array':
      return `a list of ${plural(expectedOf(s.items as TSchema))}`;
    case 'Union':
      return (s.anyOf as TSchema[]).map(expectedOf).join(' or ');
    case 'Object':
    case 'Record':
      return 'an object';
    default:
      return 'any value';
  }
}

function plural(one: string): string {
  return one.replace(/^an? (\w+)/, (_, w: string) => (w === 'object' ? 'objects' : w === 'integer' ? 'integers' : w === 'number' ? 'numbers' : w === 'string' ? 'strings' : w));
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
