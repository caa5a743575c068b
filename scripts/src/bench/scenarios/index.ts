import type { Scenario } from '../harness.js';
import { agent } from './agent.js';
import { cancel } from './cancel.js';
import { display } from './display.js';
import { distribution } from './distribution.js';
import { fanout } from './fanout.js';
import { hostileBodies } from './hostile-bodies.js';
import { ingest } from './ingest.js';
import { ingestCluster } from './ingest-cluster.js';
import { installSize } from './install-size.js';
import { lineOut } from './line-out.js';
import { proofs } from './proofs.js';
import { publicPage } from './public-page.js';
import { registry } from './registry.js';
import { reports } from './reports.js';
import { storePostgres } from './store-postgres.js';
import { verify } from './verify.js';

export const SCENARIOS: readonly Scenario[] = [
  fanout,
  cancel,
  ingest,
  ingestCluster,
  proofs,
  distribution,
  verify,
  agent,
  registry,
  storePostgres,
  hostileBodies,
  display,
  publicPage,
  reports,
  installSize,
  lineOut,
];
