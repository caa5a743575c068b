/**
 * What each remote command does on this station (the command handler checks a command first,
 * then runs its executor): play now, stop, volume and test tone go to the player; relay test to
 * the amplifier; sync polls the modem, refreshes the trust policy and sends health now; reboot
 * asks the system to restart; screenshot (noticeboards) captures the screen and uploads it.
 */
import { type Command, LoaError } from '@loa/protocol';
import type { HttpFetch } from '../../http/client.js';
import { fetchTrustPolicy, type TrustStore } from '../content/trust-store.js';
import type { Player } from '../playback/player.js';
import type { ModemSupervisor } from '../station/modem-supervisor.js';
import type { RelayTest } from '../station/relay-test.js';
import type { CommandExecutors } from './commands.js';

export interface StationControls {
  player: Pick<Player, 'playNow' | 'stopCurrent' | 'setVolume' | 'testTone'>;
  relayTest: RelayTest;
  modem?: Pick<ModemSupervisor, 'pollNow'> | undefined;
  trust: Pick<TrustStore, 'install'>;
  /** The fleet server's API base, once enrolled. */
  api: () => string | undefined;
  /** Device credentials for requests to the server. */
  headers: () => Record<string, string>;
  /** Publishes a health report now (when linked). */
  sendHealthNow: () => Promise<void>;
  /** Restarts the station (systemctl reboot, or a process restart). */
  reboot: () => void;
  /** Delay before reboot() runs, so the command's result can leave first; default 500 ms. */
  rebootDelayMs?: number;
  fetch?: HttpFetch;
  /** A noticeboard's screenshot upload (absent: the station has no screen). */
  screenshot?: (commandId: string) => Promise<unknown>;
}

export function stationExecutors(s: StationControls): CommandExecutors {
  return {
    playNow: (p, cmd: Command) =>
      s.player.playNow(p.channel ?? 'main', p.itemId as string, { commandId: cmd.id }),
    stop: async () => s.player.stopCurrent(),
    volume: async (v) => s.player.setVolume(v),
    testTone: (p, cmd) => s.player.testTone(p.seconds ?? 5, p.frequencyHz ?? 1000, { commandId: cmd.id }),
    relayTest: (p) => s.relayTest(p.seconds ?? 5, p.zone),
    sync: async () => {
      await s.modem?.pollNow().catch(() => undefined);
      const api = s.api();
      if (api) {
        const policy = await fetchTrustPolicy(api, s.headers(), s.fetch);
        if (policy) await s.trust.install(policy); // refused policies fail the command with their code
      }
      await s.sendHealthNow();
    },
    reboot: async () => {
      setTimeout(s.reboot, s.rebootDelayMs ?? 500);
    },
    screenshot: async (cmd) => {
      if (!s.screenshot) throw new LoaError('DISPLAY_NOT_PRESENT', 'Trạm này không có màn hình để chụp');
      await s.screenshot(cmd.id);
    },
  };
}
