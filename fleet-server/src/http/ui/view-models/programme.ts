/** The planned programme of a day: its pure rules live in the domain (shared with the reports). */
export * from '../../../domain/reports/plan.js';
