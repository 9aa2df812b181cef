/** Input types by the config's `data.inputs[].type`. Adding one: a file plus a line here. */
import { categoryInput } from './category';
import { imageInput } from './image';
import { numericInput } from './numeric';
import { textInput } from './text';
import type { InputType } from './types';

export const inputRegistry = {
  numeric: numericInput,
  category: categoryInput,
  image: imageInput,
  text: textInput,
} as const;

export type InputTypeName = keyof typeof inputRegistry;

/** The registry entry of a type, with its options and state left open (they come from JSON). */
export function inputType(type: string): InputType<unknown, unknown> {
  return inputRegistry[type as InputTypeName] as unknown as InputType<unknown, unknown>;
}

export { CellError, type InputSpec } from './types';
import type { InputSpec } from './types';

/** Whether a fitted input may share a model input with its neighbours. */
export function isPacked(spec: InputSpec): boolean {
  return inputType(spec.type).packed(spec.state);
}
