/**
 * Keras's automatic names for unnamed layers in a fresh session: `<snake_case class>_<n>`, n counted
 * per class from 1 in creation order (e.g. `activation_1`, `add_1`, `max_pooling2d_1`, `input_1`).
 * tfjs's own automatic names differ (`activation_Activation1`) and its counters are global to the
 * process, so every builder keeps its own counters to reproduce Keras's names on every build.
 */
export class KerasAutoNames {
  private readonly counts = new Map<string, number>();

  /** next name for a layer whose Keras class is `prefix` in snake case, e.g. 'max_pooling2d' */
  next(prefix: string): string {
    const n = (this.counts.get(prefix) ?? 0) + 1;
    this.counts.set(prefix, n);
    return `${prefix}_${n}`;
  }
}
