/** Text encoders by the text input's `encoder`. Adding one: a file plus a line here. */
import { bagEncoder } from './bag';
import { cnnEncoder } from './cnn';
import { transformerEncoder } from './transformer';
import type { textEncoderNames } from '../../config/schema';
import type { TextEncoder } from './types';

export type TextEncoderName = (typeof textEncoderNames)[number];

export const textEncoderRegistry: Record<TextEncoderName, TextEncoder> = {
  bag: bagEncoder,
  cnn: cnnEncoder,
  transformer: transformerEncoder,
};
export type { TextEncoder, TextEncoderContext, TextPooling } from './types';
