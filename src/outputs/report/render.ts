/**
 * Vega-Lite specs rendered to SVG strings in Node, so the report needs no network
 * and no script to show its charts. vega and vega-lite are ES modules, loaded once
 * with a dynamic import.
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };

type Vega = typeof import('vega', { with: { 'resolution-mode': 'import' } });
type VegaLite = typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });

let engines: Promise<[Vega, VegaLite]> | undefined;

export type ChartSpec = TopLevelSpec;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  engines ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vl] = await engines;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
