/**
 * An image folder as a table: `root/<class>/<file>.png|jpg|jpeg`, one row per file
 * (classes and files in sorted order) with its absolute path and its subfolder's name.
 * Files directly in `root` (a folder to predict on) have no class.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_FOLDER_CLASS, IMAGE_FOLDER_IMAGE } from '../config/schema';
import { DataError } from '../errors';
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

/** Rows of a folder's listing as a table, the first of them the listing's row `first`; a row's line is its file's index + 1. */
export function imageFolderTable(root: string, rows: string[][], first: number, options: Pick<ReadOptions, 'hint' | 'na'>): Table {
  const table = new TableBuilder(root, options.hint, options.na);
  table.setHeader([IMAGE_FOLDER_IMAGE, IMAGE_FOLDER_CLASS]);
  rows.forEach((cells, i) => {
    cells.forEach((cell, c) => table.column(c)?.pushText(i, cell));
    table.endRow(first + i + 1);
  });
  return table.finish();
}

export function readImageFolder(root: string, key: string, options: Pick<ReadOptions, 'hint' | 'na' | 'limit'>): Table {
  const rows = listImageFolder(root, key);
  return imageFolderTable(root, options.limit === undefined ? rows : rows.slice(0, options.limit), 0, options);
}
