import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listLinks, listNetns, ownerOfName, stateDir } from '../../src/conditions/cleanup.js';
import { detectCgroups, findOurCgroups } from '../../src/conditions/cgroup.js';

/** Our cgroups (the lab's two devices) anywhere in the mounted hierarchies. */
function cgroupNames(): string[] {
  const found = detectCgroups();
  return 'layout' in found ? findOurCgroups(found.layout).map((d) => `cgroup ${path.basename(d)}`) : [];
}

/** What a run with this pid could have left: namespaces, links and cgroups named after it, its state file. */
export function leftoversOf(pid: number): string[] {
  const left = [...listNetns(), ...listLinks(), ...cgroupNames()].filter((n) => ownerOfName(n.replace(/^cgroup /, '')) === pid);
  if (existsSync(path.join(stateDir(), `state-${pid}.json`))) left.push(`state file of ${pid}`);
  return left;
}

/** Process groups a process recorded in its state file (stressors, the lab's cloud, its edges). */
export function groupsRecordedBy(pid: number): number[] {
  try {
    const state = JSON.parse(readFileSync(path.join(stateDir(), `state-${pid}.json`), 'utf8')) as { changes: { kind: string; pid?: number }[] };
    return state.changes.filter((c) => c.kind === 'process-group').map((c) => c.pid!);
  } catch {
    return [];
  }
}

/** Process groups a run recorded, and those its recorded processes (the lab's cloud, its edges) recorded in theirs. */
export function recordedGroups(pid: number): number[] {
  const groups = groupsRecordedBy(pid);
  return [...groups, ...groups.flatMap(groupsRecordedBy)];
}
