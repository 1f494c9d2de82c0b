/** A materialised tensor: what crosses the network. */
export interface HostTensor {
  data: Float32Array;
  /** shape including the batch dimension */
  shape: number[];
}

export interface Timed<T> {
  value: T;
  /** wall time in milliseconds (performance.now resolution) */
  ms: number;
}
