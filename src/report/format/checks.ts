import type { ChecksResult } from '../../analysis/shard-plans.js';

/** What --check prints. */
export function formatChecks(r: ChecksResult, listLimit = 20): string {
  const out: string[] = [];
  for (const p of r.plans) {
    const head = `plan ${p.plan.hash}: ${p.plan.network}, ${p.plan.conditions.length} conditions x ${p.plan.tiers ? `${p.plan.tiers.configs.length} configurations (x|y)` : `${p.plan.cuts.length} points`} = ${p.cells} cells, ${p.shards === 1 ? 'one run' : `${p.shards} shards`}, ${p.files.length} file${p.files.length === 1 ? '' : 's'}`;
    out.push(head);
    out.push(`  present ${p.present}${p.raced ? ` (${p.raced} raced: stopped early, complete with their #dnn-raced line)` : ''}, missing ${p.missing.length}, duplicated ${p.duplicated.length}${p.outside ? `, ${p.outside} cells outside the plan` : ''}: ${p.missing.length === 0 ? 'complete' : 'INCOMPLETE'}`);
    if (p.absentShards.length > 0 && p.shards > 1) out.push(`  no file of shard${p.absentShards.length === 1 ? '' : 's'} ${p.absentShards.map((k) => `${k}/${p.shards}`).join(', ')}: run ${p.absentShards.length === 1 ? 'it' : 'them'} (or pass ${p.absentShards.length === 1 ? 'its file' : 'their files'})`);
    const absent = new Set(p.absentShards);
    const listed = p.missing.filter((m) => !absent.has(m.shard));
    for (const m of listed.slice(0, listLimit)) out.push(`  missing ${m.key} (shard ${m.shard}/${p.shards}${m.partial ? ', partly written' : ''})`);
    if (listed.length > listLimit) out.push(`  ... and ${listed.length - listLimit} more missing cells`);
    for (const d of p.duplicated.slice(0, listLimit)) out.push(`  duplicated ${d.key} in ${d.files.join(', ')}`);
    if (p.duplicated.length > listLimit) out.push(`  ... and ${p.duplicated.length - listLimit} more duplicated cells`);
  }
  for (const n of r.notes) out.push(n);
  out.push(r.complete ? 'all plans complete' : 'incomplete: resume or rerun the shards named above (dnn-edge --resume FILE continues a shard)');
  return `${out.join('\n')}\n`;
}
