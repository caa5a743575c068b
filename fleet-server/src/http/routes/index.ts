/**
 * The core's route modules (system, auth, users, tokens, units, devices, enrolment, audit): they
 * need only the core's Deps (device commands need the signer: the content plugin mounts them). main.ts hands them to createApp() before the routes
 * of the plugins.
 */
import type { RouteModule } from '../route-context.js';
import { registerAuditRoutes } from './audit.js';
import { registerAuthRoutes } from './auth.js';
import { registerBoundaryRoutes } from './boundaries.js';
import { registerDeviceRoutes } from './devices.js';
import { registerEnrolRoutes } from './enrol.js';
import { registerSystemRoutes } from './system.js';
import { registerTokenRoutes } from './tokens.js';
import { registerUnitRoutes } from './units.js';
import { registerUserRoutes } from './users.js';

export const CORE_ROUTES: readonly RouteModule[] = [
  registerSystemRoutes,
  registerAuthRoutes,
  registerUserRoutes,
  registerTokenRoutes,
  registerUnitRoutes,
  registerBoundaryRoutes,
  registerDeviceRoutes,
  registerEnrolRoutes,
  registerAuditRoutes,
];
