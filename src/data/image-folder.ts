/**
 * An image folder as a table: `root/<class>/<file>.png|jpg|jpeg`, one row per file
 * (classes and files in sorted order) with its absolute path and its subfolder's name.
 * Files directly in `root` (a folder to predict on) have no class.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_FOLDER_CLASS, IMAGE_FOLDER_IMAGE } from '../config/schema';
import { DataError } from '../errors';
import type { FilePosition } from './chunked-file';
import { MISSING_CELL, TableBuilder, type Table } from './columns';
import type { ReadOptions } from './csv';

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** A folder's image files as rows of [path, class], in the order of its table. */
export function listImageFolder(root: string, key: string): string[][] {
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new DataError(`${root}: is a file; an image folder holds one subfolder of images per class (from ${key})`, `point ${key} at the folder, or use format: csv with a column of image paths`);
    entries = readdirSync(root).sort();
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${root}: no such folder (from ${key})`, `check ${key}; relative paths are relative to the config file`);
  }
  const rows: string[][] = [];
  for (const entry of entries) {
    const full = path.join(root, entry);
    if (statSync(full).isDirectory()) {
      for (const file of readdirSync(full).sort()) if (IMAGE_FILE.test(file)) rows.push([path.join(full, file), entry]);
    } else if (IMAGE_FILE.test(entry)) {
      rows.push([full, MISSING_CELL]);
    }
  }
  if (rows.length === 0) throw new DataError(`${root}: holds no PNG or JPEG files, in subfolders or directly (from ${key})`, 'an image folder holds one subfolder of images per class: root/<class>/*.png');
  return rows;
}

/**
 * A folder's listing read as a data file is: rows of [path, class] from a position (a
 * row's index in the listing), a row's line its index + 1. Streamed loads read it a block
 * of rows at a time, as they read a CSV file.
 */
export class ImageFolderRows {
  readonly header = [IMAGE_FOLDER_IMAGE, IMAGE_FOLDER_CLASS];
  private next = 0;

  constructor(private readonly rows: string[][]) {}

  /** Reads up to `max` rows into `into` (whose header is this one); returns how many. */
  read(into: TableBuilder, max: number): number {
    const end = Math.min(this.rows.length, this.next + max);
    const start = this.next;
    for (; this.next < end; this.next++) {
      const row = into.size;
      this.rows[this.next].forEach((cell, c) => into.column(c)?.pushText(row, cell));
      into.endRow(this.next + 1);
    }
    return end - start;
  }

  position(): FilePosition {
    return { offset: this.next, line: this.next };
  }

  seek(position: FilePosition): void {
    this.next = position.offset;
  }

  close(): void {}
}

/** The bytes of a listing's row (its path and class), on average. */
export function listingBytesPerRow(rows: string[][]): number {
  return rows.reduce((n, cells) => n + cells[0].length + cells[1].length, 0) / rows.length;
}

export function readImageFolder(root: string, key: string, options: Pick<ReadOptions, 'hint' | 'na' | 'limit'>): Table {
  const rows = listImageFolder(root, key);
  const reader = new ImageFolderRows(rows);
  const table = new TableBuilder(root, options.hint, options.na);
  table.setHeader(reader.header);
  reader.read(table, options.limit ?? rows.length);
  return table.finish();
}
