/** Conv2DBackpropFilter for the cpu backend: register-tiled plain JS (./conv-filter-grad). */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';
import { convFilterGrad } from './conv-filter-grad';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

const conv2dBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const a = args.attrs as unknown as Attrs;
  if (a.dataFormat === 'NCHW' || x.dtype !== 'float32') return stockKernel('Conv2DBackpropFilter', 'cpu')(args);
  const cpu = asCpu(args.backend);
  const g = convGeometry(x.shape, a.filterShape, a);
  const dw = new Float32Array(util.sizeFromShape(a.filterShape));
  convFilterGrad(g, f32(cpu, x), f32(cpu, dy), dw);
  return output(cpu, a.filterShape, dw);
};

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'cpu',
  kernelFunc: conv2dBackpropFilter,
};
