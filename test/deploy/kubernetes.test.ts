// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { ROOT } from '../helpers/cli.js';

/**
 * deploy/kubernetes, offline: every manifest validates against the Kubernetes API schema
 * (kubernetes-models), and the pieces fit together: shards = completions = clouds, the token
 * from the Secret everywhere, the results volume, the capabilities the lab needs and no more.
 */
const DIR = path.join(ROOT, 'deploy/kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'batch/v1/Job': Job,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
};

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs: { file: string; obj: Obj }[] = [];
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const d of parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'))) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    docs.push({ file, obj: d.toJS() as Obj });
  }
}
const find = (kind: string, name: string) => docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name)?.obj;
const container = (o: Obj) => o.spec.template.spec.containers[0] as Obj;
const shardsOf = (c: Obj) => Number(/--shards[ ,"]+(\d+)/.exec((c.command as string[]).join(' '))?.[1]);

function validate(obj: Obj): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj as never).validate();
}

t.test('every manifest validates against the Kubernetes API schema', async (t) => {
  t.ok(docs.length >= 6, `${docs.length} objects`);
  for (const { file, obj } of docs) t.doesNotThrow(() => validate(obj), `${file}: ${obj.kind} ${obj.metadata?.name}`);
  // the validator does catch mistakes
  const lab = structuredClone(find('Job', 'dnn-lab')!);
  lab.spec.completions = 'eight';
  t.throws(() => validate(lab), 'a wrong type is refused');
  const noImage = structuredClone(find('StatefulSet', 'cloud')!);
  delete container(noImage).name;
  t.throws(() => validate(noImage), 'a container without a name is refused');
});

t.test('the lab: an Indexed Job with just the capabilities it needs', async (t) => {
  const lab = find('Job', 'dnn-lab')!;
  t.equal(lab.spec.completionMode, 'Indexed');
  t.equal(shardsOf(container(lab)), lab.spec.completions, '--shards = completions');
  const sc = container(lab).securityContext;
  t.same(sc.capabilities.drop, ['ALL']);
  t.same([...sc.capabilities.add].sort(), ['NET_ADMIN', 'SYS_ADMIN']);
  t.notOk(sc.privileged, 'not privileged');
});

t.test('two tiers: edge index K talks to cloud-K of a StatefulSet behind a headless Service', async (t) => {
  const svc = find('Service', 'cloud')!;
  const sts = find('StatefulSet', 'cloud')!;
  const edge = find('Job', 'dnn-edge')!;
  t.equal(svc.spec.clusterIP, 'None', 'headless');
  t.equal(sts.spec.serviceName, svc.metadata.name);
  t.same(svc.spec.selector, sts.spec.selector.matchLabels);
  t.equal(edge.spec.completionMode, 'Indexed');
  t.equal(sts.spec.replicas, edge.spec.completions, 'one cloud per edge index');
  t.equal(shardsOf(container(edge)), edge.spec.completions);
  t.match(container(edge).command.join(' '), /cloud-\$\{JOB_COMPLETION_INDEX\}\.cloud/, 'index K -> cloud-K');
  t.same(edge.spec.template.spec.nodeSelector, { 'dnn-bench/role': 'edge' }, 'edge pods pinned to edge nodes');
  t.same(sts.spec.template.spec.nodeSelector, { 'dnn-bench/role': 'cloud' });
  t.same(container(edge).securityContext.capabilities.add, ['NET_ADMIN'], 'the edge only shapes its own egress');
  t.notOk(container(sts).securityContext.capabilities.add, 'the cloud needs no capability');
  t.match(container(sts).command.join(' '), /--port 5000/);
  t.equal(svc.spec.ports[0].port, 5000);
});

t.test('always a token from the Secret, results on the shared volume', async (t) => {
  for (const name of ['dnn-lab', 'dnn-edge']) {
    const env = container(find('Job', name)!).env as Obj[];
    t.same(env.find((e) => e.name === 'DNN_TOKEN')?.valueFrom?.secretKeyRef, { name: 'dnn-token', key: 'token' }, `${name}: DNN_TOKEN from the Secret`);
  }
  const cloudEnv = container(find('StatefulSet', 'cloud')!).env as Obj[];
  t.same(cloudEnv.find((e) => e.name === 'DNN_TOKEN')?.valueFrom?.secretKeyRef, { name: 'dnn-token', key: 'token' }, 'cloud: the same token');
  const pvc = find('PersistentVolumeClaim', 'dnn-results')!;
  t.same(pvc.spec.accessModes, ['ReadWriteMany'], 'every pod writes to it');
  for (const name of ['dnn-lab', 'dnn-edge', 'dnn-report']) {
    const job = find('Job', name)!;
    const vol = (job.spec.template.spec.volumes as Obj[]).find((v) => v.persistentVolumeClaim);
    t.equal(vol?.persistentVolumeClaim.claimName, 'dnn-results', `${name} mounts the results volume`);
    t.ok((container(job).volumeMounts as Obj[]).some((m) => m.name === vol?.name && m.mountPath === '/results'));
  }
});

t.test('the image: Node 20, iproute2, stress-ng, npm ci (with a compiler for zstd-napi)', async (t) => {
  const df = readFileSync(path.join(DIR, 'Dockerfile'), 'utf8');
  t.match(df, /^FROM node:20[-\w.]*$/m);
  t.match(df, /apt-get install[^\n]*iproute2/);
  t.match(df, /apt-get install[^\n]*stress-ng/);
  t.match(df, /^RUN [^\n]*(\\\n[^\n]*)*npm ci/m);
  // zstd-napi compiles at npm ci: the compiler is there for that step, and gone after it (one layer)
  t.match(df, /apt-get install[^\n]*python3 make g\+\+ \\\n && npm ci [^\n]*\\\n && apt-get purge -y python3 make g\+\+/);
});
