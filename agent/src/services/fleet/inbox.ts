/**
 * The station's inbox: where the fleet link delivers what the server sends. A notify or an
 * emergency goes to the bundle store (which verifies, installs and activates it; the player
 * follows the store, and starts an emergency's decoder while it is checked), a command to the command handler, the server's time to the clock.
 */
import type { Notify, ReleaseNotify } from '@loa/protocol';
import type { BundleStore } from '../content/bundle-store.js';
import type { Player } from '../playback/player.js';
import type { TrustedClock } from '../station/clock.js';
import type { CommandHandler } from './commands.js';
import type { FleetInbox } from './fleet-link.js';

export interface StationInboxParts {
  bundles: Pick<BundleStore, 'fetchNotified' | 'installInline' | 'withdraw' | 'applyChoices'>;
  commands: Pick<CommandHandler, 'handle'>;
  clock: Pick<TrustedClock, 'reportServerTime'>;
  /** Told when an emergency arrives, so its decoder starts while the message is checked. */
  player?: Pick<Player, 'expectEmergency'>;
  /** Agent releases (self-update), when the station updates itself. */
  releases?: { handle(n: ReleaseNotify): Promise<boolean> };
}

/**
 * Routes the fleet link's messages. A bundle that fails is already logged, reported in health
 * and answered with a 'failed' status by the store, so its rejection ends here.
 */
export function stationInbox({ bundles, commands, clock, releases, player }: StationInboxParts): FleetInbox {
  return {
    notify: (n: Notify) => void bundles.fetchNotified(n).catch(() => undefined),
    emergency: (e) => {
      player?.expectEmergency();
      void bundles.installInline(e.manifest, e.blobBase, e.inline).catch(() => undefined);
    },
    recall: (r) => void bundles.withdraw(r.recall).catch(() => undefined),
    choices: (c) => void bundles.applyChoices(c.choices).catch(() => undefined),
    command: (raw) => commands.handle(raw),
    serverTime: (ms, rttMs) => clock.reportServerTime(ms, rttMs),
    ...(releases ? { release: (n: ReleaseNotify) => void releases.handle(n) } : {}),
  };
}
