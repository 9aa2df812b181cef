/**
 * Generates a WebAssembly SIMD MaxPoolGrad for one pooling geometry (NHWC): for
 * each output pixel and four channels at a time, the window is scanned in
 * row-major order keeping the first maximum (as the cpu backend does) and its
 * input offset; dy is then added at those offsets. dx must be zeroed first.
 */
import { assemble, Func } from './emit';

export interface PoolGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  filterHeight: number;
  filterWidth: number;
  padTop: number;
  padLeft: number;
}

/** Module bytes exporting `grad(xPtr, dyPtr, dxPtr)`. */
export function maxPoolGradModule(g: PoolGeometry): Uint8Array {
  const f = new Func('grad', ['i32', 'i32', 'i32']);
  const [x, dy, dx] = f.params;
  const C = g.channels;
  const vecs = Math.floor(C / 4);
  const n = f.local('i32');
  const oh = f.local('i32');
  const ow = f.local('i32');
  const ih = f.local('i32');
  const iw = f.local('i32');
  const j = f.local('i32');
  const img = f.local('i32');
  const dyPix = f.local('i32');
  const off = f.local('i32');
  const maxv = f.local('v128');
  const idx = f.local('v128');
  const v = f.local('v128');
  const mask = f.local('v128');
  const gv = f.local('v128');
  const maxf = f.local('f32');
  const idxf = f.local('i32');
  const vf = f.local('f32');
  const o = f.local('i32');

  /** Scans the window of (oh, ow) for channel byte offset j (vector or scalar lane). */
  const scan = (vector: boolean) => {
    if (vector) {
      f.f32(-Infinity).f32x4Splat().set(maxv);
      f.i32(-1).i32x4Splat().set(idx);
    } else {
      f.f32(-Infinity).set(maxf);
      f.i32(-1).set(idxf);
    }
    for (let kh = 0; kh < g.filterHeight; kh++) {
      f.get(oh).i32(g.strideHeight).mul().i32(kh * g.dilationHeight - g.padTop).add().tee(ih);
      f.i32(g.inHeight).ltU().ifThen(() => {
        for (let kw = 0; kw < g.filterWidth; kw++) {
          f.get(ow).i32(g.strideWidth).mul().i32(kw * g.dilationWidth - g.padLeft).add().tee(iw);
          f.i32(g.inWidth).ltU().ifThen(() => {
            // off = byte offset of x[n, ih, iw, 0] from x (img is n * H * W * C * 4)
            f.get(img).get(ih).i32(g.inWidth).mul().get(iw).add().i32(4 * C).mul().add().set(off);
            if (vector) {
              f.get(x).get(off).add().get(j).add().v128Load().set(v);
              f.get(v).get(maxv).f32x4Gt().set(mask);
              f.get(v).get(maxv).get(mask).v128Bitselect().set(maxv);
              f.get(off).i32x4Splat().get(idx).get(mask).v128Bitselect().set(idx);
            } else {
              f.get(x).get(off).add().get(j).add().f32Load().set(vf);
              f.get(vf).get(maxf).f32Gt().ifThen(() => { f.get(vf).set(maxf).get(off).set(idxf); });
            }
          });
        }
      });
    }
    if (vector) {
      f.get(dy).get(dyPix).add().get(j).add().v128Load().set(gv);
      for (let lane = 0; lane < 4; lane++) {
        f.get(idx).i32x4ExtractLane(lane).tee(o).i32(0).geS().ifThen(() => {
          f.get(dx).get(o).add().get(j).add().tee(o);
          f.get(o).f32Load(4 * lane).get(gv).f32x4ExtractLane(lane).f32Add().f32Store(4 * lane);
        });
      }
    } else {
      f.get(idxf).i32(0).geS().ifThen(() => {
        f.get(dx).get(idxf).add().get(j).add().tee(o);
        f.get(o).f32Load().get(dy).get(dyPix).add().get(j).add().f32Load().f32Add().f32Store();
      });
    }
  };

  f.forConst(n, g.batch, () => {
    f.get(n).i32(4 * C * g.inHeight * g.inWidth).mul().set(img);
    f.forConst(oh, g.outHeight, () => {
      f.forConst(ow, g.outWidth, () => {
        f.get(n).i32(g.outHeight).mul().get(oh).add().i32(g.outWidth).mul().get(ow).add().i32(4 * C).mul().set(dyPix);
        if (vecs > 0) {
          f.i32(0).set(j);
          f.loop(() => {
            scan(true);
            f.inc(j, 16).get(j).i32(16 * vecs).ltS().brIf(0);
          });
        }
        for (let c = 4 * vecs; c < C; c++) {
          f.i32(4 * c).set(j);
          scan(false);
        }
      });
    });
  });
  return assemble([f]);
}
