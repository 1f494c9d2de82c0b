/**
 * The fast lane: `npm run test:unit` sets DNN_TEST_LANE=unit, and every test that needs root (a
 * network namespace, tc, cgroups, stressors, the lab, a Slurm cluster) skips, as root too.
 */
export const UNIT_LANE = process.env.DNN_TEST_LANE === 'unit';

export const NOT_IN_UNIT_LANE = 'needs root: not in the unit lane (npm run test:unit); `npm test` runs it';
