import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * The kinds of change this package makes to the machine, as the state file records them: one schema
 * per kind, defined once (the `Change` type, the state file's check and docs/results-format.md).
 * Adding a kind is one schema here and one entry of KINDS in changes.ts.
 */
const kind = <K extends string, P extends Record<string, TSchema>>(name: K, props: P, description: string) =>
  Type.Object({ kind: Type.Literal(name), ...props }, { description });

export const CHANGE_SCHEMAS = {
  qdisc: kind('qdisc', { iface: Type.String({ description: 'the interface' }), netns: Type.Optional(Type.String({ description: 'its network namespace, when not the host\'s' })) }, 'a root qdisc of ours (handle d1e:) on an interface'),
  netns: kind('netns', { name: Type.String({ description: 'the namespace name (dnn-<pid>-<n>)' }) }, 'a network namespace'),
  link: kind('link', { name: Type.String({ description: 'the link name (dnn-<pid>-<n>)' }) }, 'a network link (one end of the lab\'s veth pair)'),
  cgroup: kind('cgroup', { dirs: Type.Array(Type.String(), { minItems: 1, description: 'its directory per controller (v1) or its one directory (v2)' }) }, 'one end of the lab as a device'),
  'process-group': kind(
    'process-group',
    {
      pid: Type.Integer({ minimum: 1, description: 'the process group id' }),
      startTime: Type.Number({ description: 'start time of its leader (with the pid, names the process for ever)' }),
      what: Type.String({ description: 'what it is, for the user' }),
      graceful: Type.Optional(Type.Boolean({ description: 'a process of ours that cleans up after itself (the lab\'s cloud): SIGTERM first' })),
    },
    'a process group of ours (stressors, the lab\'s cloud)',
  ),
};

/** One recorded change of a kind this release knows. */
export type Change = { [K in keyof typeof CHANGE_SCHEMAS]: Static<(typeof CHANGE_SCHEMAS)[K]> }[keyof typeof CHANGE_SCHEMAS];
export type ChangeKindName = Change['kind'];
