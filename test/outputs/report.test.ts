/**
 * The HTML report: built from real runs, checked as text, then opened in headless
 * Chromium (Debian's /usr/bin/chromium; the browser part is skipped where it is
 * absent) to assert every chart rendered with data marks and the console stayed clean.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { compareCommand } from '../../src/api/compare';
import { reportCommand } from '../../src/api/report';
import { trainCommand } from '../../src/api/train';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

const chromium = '/usr/bin/chromium';
const dir = tempDir();
const runDir = path.join(dir, 'run');
const compareDir = path.join(dir, 'compare');
/** Screenshots are kept for people to look at: dist/test-artifacts/. */
const artifacts = path.join(repoRoot, 'dist', 'test-artifacts');

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins-uncertainty.yaml'), out: runDir, epochs: 8 }, captureOutput(), silentProgress);
  await compareCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), seeds: 2, epochs: 3, out: compareDir }, captureOutput(), false);
});

test('the run report holds every chart as inline SVG and needs no network', async () => {
  const { file, charts } = await reportCommand({ location: runDir }, captureOutput());
  const html = readFileSync(file, 'utf8');
  const ids = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(ids.length, charts);
  for (const id of ['loss', 'lr', 'weights', 'grad-cos', 'species-confusion', 'body_mass-scatter-0', 'body_mass-residuals-0', 'species-accuracy']) assert.ok(ids.includes(id), id);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts, no remote resources');
  assert.match(html, /backend wasm/);
  assert.match(html, /<pre>[\s\S]*weighting:/, 'the resolved config');
});

async function openInChromium(file: string, screenshot: string): Promise<{ figures: number; withMarks: number; errors: string[] }> {
  const { chromium: browserType } = await import('playwright-core');
  const browser = await browserType.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    // Runs in the page (a string: this project compiles without DOM types).
    const result = (await page.evaluate(`(() => {
      const figures = [...document.querySelectorAll('figure.chart')];
      const drawn = (g) => g.querySelector('path, rect, circle, line') !== null && (g.getBoundingClientRect().width > 0 || g.getBoundingClientRect().height > 0);
      const withMarks = figures.filter((f) => [...f.querySelectorAll('svg .role-mark')].some(drawn));
      return { figures: figures.length, withMarks: withMarks.length };
    })()`)) as { figures: number; withMarks: number };
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { ...result, errors };
  } finally {
    await browser.close();
  }
}

test('in headless Chromium every chart of the run and compare reports draws data marks, with no console errors', { skip: existsSync(chromium) ? false : `${chromium} not found: apt-get install chromium to run the browser check` }, async () => {
  for (const [name, location] of [['run', runDir], ['compare', compareDir]] as const) {
    const { file, charts } = await reportCommand({ location }, captureOutput());
    const shot = path.join(artifacts, `report-${name}.png`);
    const seen = await openInChromium(file, shot);
    assert.equal(seen.figures, charts, `${name}: figures`);
    assert.equal(seen.withMarks, charts, `${name}: every chart has data marks`);
    assert.deepEqual(seen.errors, [], `${name}: console errors`);
    assert.ok(existsSync(shot));
  }
});
