import type { viReports } from './vi-reports.js';

/** English texts of the report page. */
export const enReports: Record<keyof typeof viReports, string> = {
  'rep.displayed': 'Displayed',
  'rep.planned': 'Planned',
  'rep.essential': 'Priority and emergency items reached',
  'rep.missedBy': 'Stations that missed it',
  'rep.faults': 'Faults',
  'rep.brief': 'Brief alerts (start-up, transient)',
  'rep.outages': 'Outages',
  'rep.uptimeNote':
    "From the devices' connections and disconnections; time the server was down is not counted.",
  'rep.noObservation': 'not observed',
  'rep.exportXlsx': 'Export Excel',
  'rep.plays': 'Plays in detail',
  'rep.kpi': "The plan's indicators",
  'rep.kpiFigure': 'Figure',
  'rep.kpiTarget': 'Target',
  'rep.kpiSource': 'Source',
  'rep.kpiMet': 'Met',
  'rep.kpiNotMet': 'Not met',
};
