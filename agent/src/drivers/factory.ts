/**
 * The driver factory: real or simulated, per kind, as the config says. GPIO (onoff or simulated),
 * the modem's and the FM module's line transports (serialport or a simulated device) and the
 * audio output (ffmpeg or simulated). Modules a station needs only for a configured driver are
 * imported when it is configured (fluent-ffmpeg, serialport), so a simulated station loads none.
 */
import type { Clock } from '@loa/protocol';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.js';
import type { DisplayConfig } from '../config-display.js';
import { outputChain } from '../domain/output-profile.js';
import { SimAudioDriver } from './audio/sim.js';
import type { AudioDriver } from './audio/types.js';
import { SINK_RATE } from './audio/wav-sink.js';
import { SimDisplayDriver, SimScreenPower } from './display/sim.js';
import type { DisplayDriver, ScreenPower } from './display/types.js';
import { createRda5807Tuner } from './fm/rda5807.js';
import { SimFmDevice, SimFmTransport } from './fm/sim.js';
import type { FmTuner } from './fm/types.js';
import { OnoffGpio } from './gpio/onoff.js';
import { SimGpio } from './gpio/sim.js';
import type { GpioDriver, OutputPin } from './gpio/types.js';
import { createQuectelModem } from './modem/quectel.js';
import { linkPowerRelay, SimModemDevice, SimModemTransport } from './modem/sim.js';
import type { Modem } from './modem/types.js';
import type { LineTransport } from './serial/types.js';

type Hw = AgentConfig['hardware'];

/** The GPIO driver; `sim` is set when it is simulated (demo, simulator, tests). */
export function createGpio(hw: Hw, logger: Logger, clock: Clock): { gpio: GpioDriver; sim?: SimGpio } {
  if (hw.gpio.driver === 'sim') {
    const sim = new SimGpio({ clock });
    return { gpio: sim, sim };
  }
  return {
    gpio: new OnoffGpio({ logger, ...(hw.gpio.sysfsRoot ? { sysfsRoot: hw.gpio.sysfsRoot } : {}) }),
  };
}

async function serialTransport(path: string, baudRate: number, logger: Logger): Promise<LineTransport> {
  const { SerialLineTransport } = await import('./serial/serialport-transport.js');
  return new SerialLineTransport({ path, baudRate, logger });
}

/**
 * The modem (Quectel AT semantics over its line transport), or undefined when none is
 * configured. A simulated modem's power follows the given power relay, as a real one's does.
 */
export async function createModem(
  hw: Hw,
  logger: Logger,
  clock: Clock,
  power: OutputPin | undefined,
): Promise<{ modem: Modem; power?: OutputPin; sim?: SimModemDevice } | undefined> {
  const m = hw.modem;
  if (m.driver === 'none') return undefined;
  if (m.driver === 'sim') {
    const device = new SimModemDevice({}, clock);
    const { modem } = createQuectelModem(new SimModemTransport({ device }), { logger });
    return { modem, sim: device, ...(power ? { power: linkPowerRelay(power, device) } : {}) };
  }
  const transport = await serialTransport(m.path ?? '/dev/ttyUSB2', m.baudRate, logger);
  const { modem } = createQuectelModem(transport, { logger });
  return { modem, ...(power ? { power } : {}) };
}

/** The FM tuner (RDA5807 over its line transport), or undefined when none is configured. */
export async function createFmTuner(
  hw: Hw,
  logger: Logger,
): Promise<{ tuner: FmTuner; sim?: SimFmDevice } | undefined> {
  const f = hw.fm;
  if (f.driver === 'none') return undefined;
  if (f.driver === 'sim') {
    const device = new SimFmDevice();
    return { tuner: createRda5807Tuner(new SimFmTransport({ device }), { logger }).tuner, sim: device };
  }
  const transport = await serialTransport(f.path ?? '/dev/ttyAMA0', f.baudRate, logger);
  return { tuner: createRda5807Tuner(transport, { logger }).tuner };
}

/** The audio output, and with the real one how to probe a file's length (ffprobe). */
export async function createAudio(
  audio: AgentConfig['audio'],
  logger: Logger,
): Promise<{ driver: AudioDriver; probeDurationMs?: (path: string) => Promise<number | undefined> }> {
  if (audio.driver === 'sim') return { driver: new SimAudioDriver() };
  const ffmpeg = await import('./audio/ffmpeg.js');
  return {
    driver: new ffmpeg.FfmpegAudioDriver({
      output: audio.output,
      inputs: audio.inputs,
      logger,
      outputChain: outputChain(audio.profile, SINK_RATE),
    }),
    probeDurationMs: (p) => ffmpeg.probeDurationMs(p),
  };
}

/**
 * Best effort for a config that failed validation: if it names a real GPIO and a plausible
 * amplifier pin, drive that relay off before exiting, so a bad config never leaves horns live.
 */
export async function safeStateFromRaw(raw: unknown, logger: Logger): Promise<void> {
  const hw = (
    raw as {
      hardware?: {
        gpio?: { driver?: unknown; sysfsRoot?: unknown };
        amplifier?: { pin?: unknown; activeLow?: unknown };
      };
    }
  )?.hardware;
  const pin = hw?.amplifier?.pin;
  if (hw?.gpio?.driver !== 'real' || typeof pin !== 'number' || !Number.isInteger(pin) || pin < 0 || pin > 27)
    return;
  const gpio = new OnoffGpio({
    logger,
    ...(typeof hw.gpio.sysfsRoot === 'string' ? { sysfsRoot: hw.gpio.sysfsRoot } : {}),
  });
  try {
    await gpio.output({
      name: 'amplifier',
      pin,
      activeLow: hw.amplifier?.activeLow === true,
      initial: false,
    });
  } catch (err) {
    logger.error({ err }, 'could not drive the amplifier relay off');
  } finally {
    await gpio.close().catch(() => undefined);
  }
}

/**
 * A noticeboard's browser and screen power: Chromium over DevTools (ws is loaded only then) or
 * the simulated browser; HDMI-CEC, wlr-randr or none, as found on the board.
 */
export async function createDisplay(
  c: DisplayConfig,
  logger: Logger,
): Promise<{ driver: DisplayDriver; power: ScreenPower }> {
  const b = c.browser;
  if (b.driver === 'sim') return { driver: new SimDisplayDriver(), power: new SimScreenPower() };
  const { ChromiumDisplay } = await import('./display/chromium.js');
  const { detectScreenPower } = await import('./display/screen-power.js');
  const driver = new ChromiumDisplay({
    mode: b.mode,
    executable: b.executable,
    headless: b.headless,
    width: b.width,
    height: b.height,
    logger,
    ...(b.devtoolsPort !== undefined ? { devtoolsPort: b.devtoolsPort } : {}),
    ...(b.restartCommand ? { restartCommand: b.restartCommand } : {}),
  });
  const power = await detectScreenPower(c.screen.power, c.screen.output ? { output: c.screen.output } : {});
  return { driver, power };
}
