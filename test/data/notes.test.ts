import { test } from 'node:test';
import assert from 'node:assert/strict';
import { droppedRowsNote, emptyCellsNote, LoadNotes } from '../../src/data/notes';

test('notes of a file read in blocks, merged, word what reading it whole gives: counts added, the first five lines, other notes once', () => {
  const whole = new LoadNotes();
  whole.push('a note');
  whole.dropped('f.csv', 'a missing target', [3, 4, 9, 12, 20, 31, 40]);
  whole.emptyCells('text', 'text', 7);
  whole.dropped('f.csv', 'missing values', [5]);

  const merged = new LoadNotes();
  const first = new LoadNotes();
  first.push('a note');
  first.dropped('f.csv', 'a missing target', [3, 4, 9]);
  first.emptyCells('text', 'text', 3);
  const second = new LoadNotes();
  second.push('a note');
  second.dropped('f.csv', 'a missing target', [12, 20, 31, 40]);
  second.emptyCells('text', 'text', 4);
  second.dropped('f.csv', 'missing values', [5]);
  merged.merge(first);
  merged.merge(second);

  assert.deepEqual(merged.lines(), whole.lines());
  assert.deepEqual(whole.lines(), [
    'a note',
    droppedRowsNote('f.csv', 'a missing target', [3, 4, 9, 12, 20], 7),
    emptyCellsNote('text', 'text', 7),
    droppedRowsNote('f.csv', 'missing values', [5], 1),
  ]);
  assert.match(whole.lines()[1], /dropped 7 rows with a missing target: lines 3, 4, 9, 12, 20, \.\.\. \(7 in all\)$/);
});

test('rows set aside are grouped by reason, then by file, as one pass over the rows words them', () => {
  const notes = new LoadNotes();
  notes.dropped('a.csv', 'x', [1]);
  notes.dropped('a.csv', 'y', [2]);
  notes.dropped('b.csv', 'x', [3]);
  assert.deepEqual(notes.lines(), [droppedRowsNote('a.csv', 'x', [1], 1), droppedRowsNote('b.csv', 'x', [3], 1), droppedRowsNote('a.csv', 'y', [2], 1)]);
});
