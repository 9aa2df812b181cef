/** Per-channel loops over channels-last typed arrays, for the cpu backend's kernels. */

export type BinaryOp = 'Multiply' | 'Add' | 'Sub' | 'RealDiv';

/** Per-channel sums over all rows of x [rows, c], in double precision. */
export function channelSums(x: Float32Array, c: number): Float64Array {
  const sums = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) sums[k] += x[i + k];
  }
  return sums;
}

/** out[r, k] = full[r, k] op vec[k] (or vec[k] op full[r, k] when vectorFirst). */
export function channelBinary(op: BinaryOp, full: Float32Array, vec: Float32Array, out: Float32Array, vectorFirst: boolean): void {
  const c = vec.length;
  const v = Float64Array.from(vec);
  const n = full.length;
  switch (op) {
    case 'Multiply':
      for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = full[i + k] * v[k];
      return;
    case 'Add':
      for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = full[i + k] + v[k];
      return;
    case 'Sub':
      if (vectorFirst) for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = v[k] - full[i + k];
      else for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = full[i + k] - v[k];
      return;
    case 'RealDiv':
      if (vectorFirst) for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = v[k] / full[i + k];
      else for (let i = 0; i < n; i += c) for (let k = 0; k < c; k++) out[i + k] = full[i + k] / v[k];
  }
}

/** out[i] = a[i] op b[i]. */
export function elementwiseBinary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  switch (op) {
    case 'Multiply':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'Add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'Sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'RealDiv':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
  }
}

/** out[i] = a[i] op s (or s op a[i] when scalarFirst). */
export function scalarBinary(op: BinaryOp, a: Float32Array, s: number, out: Float32Array, scalarFirst: boolean): void {
  const n = out.length;
  switch (op) {
    case 'Multiply':
      for (let i = 0; i < n; i++) out[i] = a[i] * s;
      return;
    case 'Add':
      for (let i = 0; i < n; i++) out[i] = a[i] + s;
      return;
    case 'Sub':
      if (scalarFirst) for (let i = 0; i < n; i++) out[i] = s - a[i];
      else for (let i = 0; i < n; i++) out[i] = a[i] - s;
      return;
    case 'RealDiv':
      if (scalarFirst) for (let i = 0; i < n; i++) out[i] = s / a[i];
      else for (let i = 0; i < n; i++) out[i] = a[i] / s;
  }
}
