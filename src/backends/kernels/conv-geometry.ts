/** Geometry of a forward NHWC 2-D convolution, as its gradient kernels need it. */
import { backend_util } from '@tensorflow/tfjs-core';

export type Shape4 = [number, number, number, number];

/** The attributes common to Conv2DBackpropFilter and Conv2DBackpropInput. */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Plain numbers describing y = conv2d(x, w) with dilation 1, NHWC. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** Floats of one image of the input and of the output. */
export function imageSizes(g: ConvGeometry): { input: number; output: number } {
  return { input: g.inHeight * g.inWidth * g.inChannels, output: g.outHeight * g.outWidth * g.outChannels };
}

/** The filter's shape, HWIO. */
export function filterShape(g: ConvGeometry): [number, number, number, number] {
  return [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
}

/** Computes the forward geometry; throws for layouts these kernels do not handle. */
export function convGeometry(xShape: number[], filterShape: number[], attrs: ConvGradAttrs): ConvGeometry {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error("mtl conv gradient kernels support dataFormat 'NHWC' only");
  }
  const info = backend_util.computeConv2DInfo(
    xShape as Shape4, filterShape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}
