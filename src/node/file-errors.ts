/**
 * Failures of the files tsquic writes on the application's behalf (the key log, qlog files) after
 * they were opened: reported once per file as a process warning carrying a FileAccessError
 * (`process.on('warning', ...)` sees it; by default Node prints it to stderr). Writing to that file
 * stops; the connections carry on. Never an unhandled 'error' event.
 */
import { FileAccessError } from '../errors/public-errors.js';

const reported = new Set<string>();

export function reportFileError(option: FileAccessError['option'], path: string, err: unknown): void {
  const key = `${option}\0${path}`;
  if (reported.has(key)) return;
  reported.add(key);
  process.emitWarning(new FileAccessError(option, path, err));
}
