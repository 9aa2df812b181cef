import type { BackboneConfig } from '../../config/schema';
import { buildCnn } from './cnn';
import { buildMlp } from './mlp';
import { buildResnet } from './resnet';
import type { Backbone, BackboneBuilder, BackboneContext } from './types';

type BuilderFor<T extends BackboneConfig['type']> = BackboneBuilder<Extract<BackboneConfig, { type: T }>>;

/** Backbones by the config's `model.backbone.type`. Adding one: a file plus a line here. */
export const backboneRegistry: { [T in BackboneConfig['type']]: BuilderFor<T> } = {
  mlp: buildMlp,
  resnet: buildResnet,
  cnn: buildCnn,
};

export function buildBackbone(config: BackboneConfig, context: BackboneContext): Backbone {
  const builder = backboneRegistry[config.type] as BackboneBuilder<BackboneConfig>;
  return builder(config, context);
}

export type { Backbone, BackboneContext } from './types';
