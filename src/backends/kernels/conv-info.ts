import { backend_util, type Conv2DBackpropFilterAttrs, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/** The forward convolution a gradient kernel belongs to (NHWC only, as mtl's models are). */
export function forwardConvInfo(
  kernel: string,
  inputShape: Shape4,
  filterShape: Shape4,
  attrs: Conv2DBackpropFilterAttrs | Conv2DBackpropInputAttrs,
): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs;
  const info = backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (info.dataFormat !== 'channelsLast') throw new Error(`${kernel}: only channelsLast (NHWC) is supported`);
  return info;
}
