/**
 * Gated mixtures of experts out of stock tfjs layers only, so that MMoE and PLE
 * checkpoints load with a plain `tf.loadLayersModel`:
 *
 *   gate  = Dense(E, softmax) on the gate's input (flattened first when it is a feature map)
 *   mix   = Σ_e gate_e · expert_e: the gate [E] is reshaped to [E, 1, 1] and each g_e cropped
 *           out (Cropping2D) as a [1, ..., 1] tensor that a Multiply broadcasts over
 *           expert_e; an Add sums the products.
 *
 * (Stacking the experts into one tensor for a Dot with the gate costs a copy of every
 * expert output plus a transpose or a last-axis concat: several times slower on wasm for
 * feature maps.) A mixture of one expert is that expert (a softmax over one output is 1):
 * no gate is built.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Rng } from '../../data/rng';

function sampleShape(x: SymbolicTensor): number[] {
  return x.shape.slice(1) as number[];
}

export class ExpertMixer {
  private readonly flat = new Map<SymbolicTensor, SymbolicTensor>();

  constructor(private readonly rng: Rng) {}

  /** A softmax gate with one output per expert, a dense layer named `name` on `input`. */
  gate(input: SymbolicTensor, experts: number, name: string): SymbolicTensor {
    return tfl.layers
      .dense({ units: experts, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: this.rng.seed() }), name })
      .apply(this.flatten(input)) as SymbolicTensor;
  }

  /**
   * Σ_e g_e · experts[e] with g = a gate on `gateInput`; layers named `<name>.gate`, `<name>.g`
   * (the gate as [E, 1, 1]), `<name>.g<e>` (g_e cropped out, `<name>.g<e>.shape` shaped to
   * broadcast), `<name>.x<e>` (g_e · expert_e) and `<name>` (their sum). Task names hold no
   * '.', so these names never collide. Every expert output must have the same shape.
   */
  mix(experts: SymbolicTensor[], gateInput: SymbolicTensor, name: string): SymbolicTensor {
    if (experts.length === 1) return experts[0];
    const shape = sampleShape(experts[0]);
    for (const e of experts) {
      if (sampleShape(e).join() !== shape.join()) throw new Error(`${name}: experts of different shapes [${shape}] and [${sampleShape(e)}]`);
    }
    const E = experts.length;
    const gate = this.gate(gateInput, E, `${name}.gate`);
    const column = tfl.layers.reshape({ targetShape: [E, 1, 1], name: `${name}.g` }).apply(gate) as SymbolicTensor;
    const weighted = experts.map((expert, e) => {
      let g = tfl.layers.cropping2D({ cropping: [[e, E - 1 - e], [0, 0]], name: `${name}.g${e + 1}` }).apply(column) as SymbolicTensor;
      if (shape.length !== 3) g = tfl.layers.reshape({ targetShape: shape.map(() => 1), name: `${name}.g${e + 1}.shape` }).apply(g) as SymbolicTensor;
      return tfl.layers.multiply({ name: `${name}.x${e + 1}` }).apply([expert, g]) as SymbolicTensor;
    });
    return tfl.layers.add({ name }).apply(weighted) as SymbolicTensor;
  }

  private flatten(x: SymbolicTensor): SymbolicTensor {
    if (x.shape.length <= 2) return x;
    let f = this.flat.get(x);
    if (!f) {
      f = tfl.layers.flatten({ name: `${x.sourceLayer.name}.flat` }).apply(x) as SymbolicTensor;
      this.flat.set(x, f);
    }
    return f;
  }
}
