/**
 * @gbhan/attacker: a rogue radio against the Communications Hub's Inter-PAN door - scans,
 * floods Initiate Key Establishment, malformed and truncated frames, foreign certificates,
 * replays, on either band.
 */
export * from './attacker.js';
export { INSIDER_ATTACKS, type InsiderAttack, type InsiderContext, insiderPsdu } from './insider.js';
export * from './kind.js';
export * from './trace-events.js';
