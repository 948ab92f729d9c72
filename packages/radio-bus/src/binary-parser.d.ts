/**
 * binary-parser ships its types, but its package.json `exports` do not point the ESM entry at
 * them; this points TypeScript at the same declarations (the package's `./*` export).
 */
declare module 'binary-parser' {
  export { Parser } from 'binary-parser/dist/binary_parser.js';
}
