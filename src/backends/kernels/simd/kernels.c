// Training kernels for tfjs's wasm backend, in WebAssembly SIMD (128-bit).
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


static void zero(f32* p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0f;
}

// ---------------------------------------------------------------------------
// Conv2D filter gradient, NHWC input x [N,H,W,CI], output gradient dy [N,OH,OW,CO],
// result dw [KH,KW,CI,CO]:
//   dw[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh*SH+kh-PT, ow*SW+kw-PL, ci] · dy[n,oh,ow,co]
// For each tap, blocks of 4 input x 16 output channels accumulate in 16 vectors.

#define ACC4(r)                                                  \
  {                                                              \
    v128_t xv = wasm_f32x4_splat(xp[r]);                         \
    a##r##0 = wasm_f32x4_add(a##r##0, wasm_f32x4_mul(xv, d0));   \
    a##r##1 = wasm_f32x4_add(a##r##1, wasm_f32x4_mul(xv, d1));   \
    a##r##2 = wasm_f32x4_add(a##r##2, wasm_f32x4_mul(xv, d2));   \
    a##r##3 = wasm_f32x4_add(a##r##3, wasm_f32x4_mul(xv, d3));   \
  }

#define STORE4(r)                                                \
  {                                                              \
    f32* o = dwt + (ci0 + r) * CO + co0;                         \
    wasm_v128_store(o, a##r##0);                                 \
    wasm_v128_store(o + 4, a##r##1);                             \
    wasm_v128_store(o + 8, a##r##2);                             \
    wasm_v128_store(o + 12, a##r##3);                            \
  }

EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32* x, const f32* dy, f32* dw, int N, int H, int W, int CI, int OH, int OW,
                        int CO, int KH, int KW, int SH, int SW, int PT, int PL) {
  zero(dw, KH * KW * CI * CO);
  const int ciBlocks = CI - CI % 4;
  const int coBlocks = CO - CO % 16;
  for (int kh = 0; kh < KH; kh++) {
    for (int kw = 0; kw < KW; kw++) {
      f32* dwt = dw + (kh * KW + kw) * CI * CO;
      // Output rows and columns whose receptive field includes this tap inside the image.
      int ohLo = 0, ohHi = OH, owLo = 0, owHi = OW;
      while (ohLo < OH && ohLo * SH + kh - PT < 0) ohLo++;
      while (ohHi > ohLo && (ohHi - 1) * SH + kh - PT >= H) ohHi--;
      while (owLo < OW && owLo * SW + kw - PL < 0) owLo++;
      while (owHi > owLo && (owHi - 1) * SW + kw - PL >= W) owHi--;
      for (int ci0 = 0; ci0 < ciBlocks; ci0 += 4) {
        for (int co0 = 0; co0 < coBlocks; co0 += 16) {
          v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a02 = a00, a03 = a00;
          v128_t a10 = a00, a11 = a00, a12 = a00, a13 = a00;
          v128_t a20 = a00, a21 = a00, a22 = a00, a23 = a00;
          v128_t a30 = a00, a31 = a00, a32 = a00, a33 = a00;
          for (int n = 0; n < N; n++) {
            for (int oh = ohLo; oh < ohHi; oh++) {
              const int ih = oh * SH + kh - PT;
              const f32* xrow = x + ((n * H + ih) * W) * CI + ci0;
              const f32* dyrow = dy + ((n * OH + oh) * OW) * CO + co0;
              for (int ow = owLo; ow < owHi; ow++) {
                const f32* xp = xrow + (ow * SW + kw - PL) * CI;
                const f32* dp = dyrow + ow * CO;
                v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
                v128_t d2 = wasm_v128_load(dp + 8), d3 = wasm_v128_load(dp + 12);
                ACC4(0) ACC4(1) ACC4(2) ACC4(3)
              }
            }
          }
          STORE4(0) STORE4(1) STORE4(2) STORE4(3)
        }
      }
      // Remainders (channels not in a full block): plain loops.
      for (int ci = 0; ci < CI; ci++) {
        const int coStart = ci < ciBlocks ? coBlocks : 0;
        if (coStart == CO) continue;
        for (int n = 0; n < N; n++) {
          for (int oh = ohLo; oh < ohHi; oh++) {
            const int ih = oh * SH + kh - PT;
            for (int ow = owLo; ow < owHi; ow++) {
              const f32 xv = x[((n * H + ih) * W + ow * SW + kw - PL) * CI + ci];
              const f32* dp = dy + ((n * OH + oh) * OW + ow) * CO;
              f32* o = dwt + ci * CO;
              for (int co = coStart; co < CO; co++) o[co] += xv * dp[co];
            }
          }
        }
      }
    }
  }
}

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

// ---------------------------------------------------------------------------
// Conv2D input gradient for strided convolutions (stride-1 ones go through XNNPACK):
//   dx[n, oh*SH+kh-PT, ow*SW+kw-PL, ci] += Σ_co dy[n,oh,ow,co] · w[kh,kw,ci,co]
// with wt = w transposed to [KH,KW,CO,CI], so each tap adds Σ_co dy[co]·wt[co,:] to a
// row of dx, 16 input channels at a time.

EXPORT(conv2d_input_grad)
void conv2d_input_grad(const f32* dy, const f32* wt, f32* dx, int N, int H, int W, int CI, int OH, int OW, int CO,
                       int KH, int KW, int SH, int SW, int PT, int PL) {
  zero(dx, N * H * W * CI);
  const int ciBlocks = CI - CI % 16;
  for (int n = 0; n < N; n++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const f32* dp = dy + ((n * OH + oh) * OW + ow) * CO;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * SH + kh - PT;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * SW + kw - PL;
            if (iw < 0 || iw >= W) continue;
            f32* xp = dx + ((n * H + ih) * W + iw) * CI;
            const f32* wtap = wt + (kh * KW + kw) * CO * CI;
            for (int ci0 = 0; ci0 < ciBlocks; ci0 += 16) {
              v128_t a0 = wasm_v128_load(xp + ci0), a1 = wasm_v128_load(xp + ci0 + 4);
              v128_t a2 = wasm_v128_load(xp + ci0 + 8), a3 = wasm_v128_load(xp + ci0 + 12);
              for (int co = 0; co < CO; co++) {
                const v128_t g = wasm_f32x4_splat(dp[co]);
                const f32* wr = wtap + co * CI + ci0;
                a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(g, wasm_v128_load(wr)));
                a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(g, wasm_v128_load(wr + 4)));
                a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(g, wasm_v128_load(wr + 8)));
                a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(g, wasm_v128_load(wr + 12)));
              }
              wasm_v128_store(xp + ci0, a0);
              wasm_v128_store(xp + ci0 + 4, a1);
              wasm_v128_store(xp + ci0 + 8, a2);
              wasm_v128_store(xp + ci0 + 12, a3);
            }
            for (int ci = ciBlocks; ci < CI; ci++) {
              f32 acc = xp[ci];
              for (int co = 0; co < CO; co++) acc += dp[co] * wtap[co * CI + ci];
              xp[ci] = acc;
            }
          }
        }
      }
    }
  }
}
