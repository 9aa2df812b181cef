/**
 * Makes datasets/sotu/passages.jsonl: passages of about 100 words from the State of the
 * Union addresses of 1861-2021 given by Democratic and Republican presidents, up to
 * PER_SPEECH passages per address taken at even intervals through it, each line
 * {speech, year, president, party, text}.
 *
 *   node dist/scripts/make-sotu-passages.js [path/to/speeches.jsonl] [per speech]
 *
 * The default source is ../shared/datasets/sotu/speeches.jsonl next to the repository.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const WORDS = 100;
const repo = path.resolve(__dirname, '..', '..');
const source = path.resolve(process.argv[2] ?? path.join(repo, '..', 'shared', 'datasets', 'sotu', 'speeches.jsonl'));
const perSpeech = Number(process.argv[3] ?? 30);

interface Speech {
  year: number;
  president: string;
  party: string;
  text: string;
}

const speeches = readFileSync(source, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Speech)
  .filter((s) => s.year >= 1861 && (s.party === 'Democratic' || s.party === 'Republican'));
const lines: string[] = [];
const seen = new Map<string, number>();
for (const s of speeches) {
  // Two addresses in one year by one president get their own ids.
  const base = `${s.year}-${s.president.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  const speech = n === 1 ? base : `${base}-${n}`;
  const words = s.text.split(/\s+/).filter(Boolean);
  const passages = Math.floor(words.length / WORDS);
  const take = Math.min(perSpeech, passages);
  for (let k = 0; k < take; k++) {
    const p = Math.floor((k * passages) / take);
    const text = words.slice(p * WORDS, (p + 1) * WORDS).join(' ');
    lines.push(JSON.stringify({ speech, year: s.year, president: s.president, party: s.party, text }));
  }
}
const out = path.join(repo, 'datasets', 'sotu');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'passages.jsonl'), `${lines.join('\n')}\n`);
console.log(`${speeches.length} addresses, ${lines.length} passages -> ${path.join(out, 'passages.jsonl')}`);
