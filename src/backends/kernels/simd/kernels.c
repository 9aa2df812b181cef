// Batch-normalization training kernels for tfjs's wasm backend, in WebAssembly SIMD (128-bit).
//
// The module imports the tfjs wasm instance's own memory and works on tensors in
// place (pointers are tfjs heap offsets), so nothing is copied. It must therefore
// own no memory: no static data and no stack. Kernels keep every accumulator in a
// named local (locals live in registers or on the engine's native stack, never in
// linear memory), and scripts/build-wasm-kernels.sh checks that the compiled module
// has no data segment and never touches the stack pointer.
//
// Build: scripts/build-wasm-kernels.sh (clang --target=wasm32 -msimd128).

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;
typedef double f64;


// ---------------------------------------------------------------------------
// Batch normalization over all axes but the last (C channels), rows = size / C.
// Channels go in groups of 4; within a group rows are visited in order, and sums
// are kept in f32 over blocks of BLOCK rows, then added into f64.

#define BLOCK 256

// Per-channel mean and biased variance of x [rows, C] (C % 4 == 0).
static void moments4(const f32* x, int rows, int C, int c0, f64* m0, f64* m1, f64* m2, f64* m3, f64* q0, f64* q1,
                     f64* q2, f64* q3) {
  f64 s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    const int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
    v128_t s = wasm_f32x4_splat(0), t = s;
    for (int r = r0; r < r1; r++) {
      v128_t v = wasm_v128_load(x + r * C + c0);
      s = wasm_f32x4_add(s, v);
      t = wasm_f32x4_add(t, wasm_f32x4_mul(v, v));
    }
    s0 += wasm_f32x4_extract_lane(s, 0); s1 += wasm_f32x4_extract_lane(s, 1);
    s2 += wasm_f32x4_extract_lane(s, 2); s3 += wasm_f32x4_extract_lane(s, 3);
    t0 += wasm_f32x4_extract_lane(t, 0); t1 += wasm_f32x4_extract_lane(t, 1);
    t2 += wasm_f32x4_extract_lane(t, 2); t3 += wasm_f32x4_extract_lane(t, 3);
  }
  *m0 = s0 / rows; *m1 = s1 / rows; *m2 = s2 / rows; *m3 = s3 / rows;
  *q0 = t0 / rows - *m0 * *m0; *q1 = t1 / rows - *m1 * *m1;
  *q2 = t2 / rows - *m2 * *m2; *q3 = t3 / rows - *m3 * *m3;
}

EXPORT(batch_norm_forward)
void batch_norm_forward(const f32* x, int rows, int C, const f32* gamma, const f32* beta, f32 eps, f32* y, f32* mean,
                        f32* var) {
  for (int c0 = 0; c0 < C; c0 += 4) {
    f64 m0, m1, m2, m3, q0, q1, q2, q3;
    moments4(x, rows, C, c0, &m0, &m1, &m2, &m3, &q0, &q1, &q2, &q3);
    if (q0 < 0) q0 = 0;
    if (q1 < 0) q1 = 0;
    if (q2 < 0) q2 = 0;
    if (q3 < 0) q3 = 0;
    mean[c0] = (f32)m0; mean[c0 + 1] = (f32)m1; mean[c0 + 2] = (f32)m2; mean[c0 + 3] = (f32)m3;
    var[c0] = (f32)q0; var[c0 + 1] = (f32)q1; var[c0 + 2] = (f32)q2; var[c0 + 3] = (f32)q3;
    // y = x·a + b with a = γ/√(var+ε), b = β − μ·a
    const f64 a0 = gamma[c0] / __builtin_sqrt(q0 + eps), a1 = gamma[c0 + 1] / __builtin_sqrt(q1 + eps);
    const f64 a2 = gamma[c0 + 2] / __builtin_sqrt(q2 + eps), a3 = gamma[c0 + 3] / __builtin_sqrt(q3 + eps);
    const v128_t a = wasm_f32x4_make((f32)a0, (f32)a1, (f32)a2, (f32)a3);
    const v128_t b = wasm_f32x4_make((f32)(beta[c0] - m0 * a0), (f32)(beta[c0 + 1] - m1 * a1),
                                     (f32)(beta[c0 + 2] - m2 * a2), (f32)(beta[c0 + 3] - m3 * a3));
    for (int r = 0; r < rows; r++) {
      const int i = r * C + c0;
      wasm_v128_store(y + i, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + i), a), b));
    }
  }
}

// dx = k·(n·dy − Σdy − x̂·Σdy·x̂), k = γ/(n·σ); also dγ = Σ dy·x̂ and dβ = Σ dy.
EXPORT(batch_norm_backward)
void batch_norm_backward(const f32* dy, const f32* x, int rows, int C, const f32* gamma, const f32* mean,
                         const f32* var, f32 eps, f32* dx, f32* dgamma, f32* dbeta) {
  for (int c0 = 0; c0 < C; c0 += 4) {
    const v128_t mu = wasm_v128_load(mean + c0);
    f64 g0 = 0, g1 = 0, g2 = 0, g3 = 0, h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (int r0 = 0; r0 < rows; r0 += BLOCK) {
      const int r1 = r0 + BLOCK < rows ? r0 + BLOCK : rows;
      v128_t s = wasm_f32x4_splat(0), t = s;
      for (int r = r0; r < r1; r++) {
        const int i = r * C + c0;
        const v128_t g = wasm_v128_load(dy + i);
        s = wasm_f32x4_add(s, g);
        t = wasm_f32x4_add(t, wasm_f32x4_mul(g, wasm_f32x4_sub(wasm_v128_load(x + i), mu)));
      }
      g0 += wasm_f32x4_extract_lane(s, 0); g1 += wasm_f32x4_extract_lane(s, 1);
      g2 += wasm_f32x4_extract_lane(s, 2); g3 += wasm_f32x4_extract_lane(s, 3);
      h0 += wasm_f32x4_extract_lane(t, 0); h1 += wasm_f32x4_extract_lane(t, 1);
      h2 += wasm_f32x4_extract_lane(t, 2); h3 += wasm_f32x4_extract_lane(t, 3);
    }
    const f64 inv0 = 1 / __builtin_sqrt((f64)var[c0] + eps), inv1 = 1 / __builtin_sqrt((f64)var[c0 + 1] + eps);
    const f64 inv2 = 1 / __builtin_sqrt((f64)var[c0 + 2] + eps), inv3 = 1 / __builtin_sqrt((f64)var[c0 + 3] + eps);
    // Σ dy·x̂ = σ⁻¹·Σ dy·(x − μ)
    h0 *= inv0; h1 *= inv1; h2 *= inv2; h3 *= inv3;
    dbeta[c0] = (f32)g0; dbeta[c0 + 1] = (f32)g1; dbeta[c0 + 2] = (f32)g2; dbeta[c0 + 3] = (f32)g3;
    dgamma[c0] = (f32)h0; dgamma[c0 + 1] = (f32)h1; dgamma[c0 + 2] = (f32)h2; dgamma[c0 + 3] = (f32)h3;
    const f64 k0 = gamma[c0] * inv0 / rows, k1 = gamma[c0 + 1] * inv1 / rows;
    const f64 k2 = gamma[c0 + 2] * inv2 / rows, k3 = gamma[c0 + 3] * inv3 / rows;
    const v128_t kn = wasm_f32x4_make((f32)(k0 * rows), (f32)(k1 * rows), (f32)(k2 * rows), (f32)(k3 * rows));
    const v128_t kb = wasm_f32x4_make((f32)(k0 * g0), (f32)(k1 * g1), (f32)(k2 * g2), (f32)(k3 * g3));
    const v128_t kx = wasm_f32x4_make((f32)(k0 * inv0 * h0), (f32)(k1 * inv1 * h1), (f32)(k2 * inv2 * h2),
                                      (f32)(k3 * inv3 * h3));
    for (int r = 0; r < rows; r++) {
      const int i = r * C + c0;
      const v128_t xc = wasm_f32x4_sub(wasm_v128_load(x + i), mu);
      wasm_v128_store(dx + i, wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(kn, wasm_v128_load(dy + i)), kb),
                                             wasm_f32x4_mul(xc, kx)));
    }
  }
}

