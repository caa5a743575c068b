// The agent as a library: the simulator and demo (scripts/src/sim) run the real agent in-process.

export { type AgentConfig, ConfigSchema, loadConfig, parseConfig } from './config.js';
// Noticeboards: the display service and its browser driver (benchmarks, simulator).
export { type DisplayConfig, DisplayConfigSchema } from './config-display.js';
// The line output's profiles (FM exciter, wired line) and their ffmpeg filters (benchmarks).
export { OUTPUT_PROFILE_DEFAULTS } from './config-output.js';
export { type OutputProfile, outputChain } from './domain/output-profile.js';
export { outputFilters } from './drivers/audio/ffmpeg-output.js';
export { ChromiumDisplay, cdpCall } from './drivers/display/chromium.js';
export { SimDisplayDriver, SimScreenPower } from './drivers/display/sim.js';
export { AGENT_VERSION, type AgentRuntime, type StartOptions, startAgent } from './main.js';
export { DisplayService } from './services/display/display-service.js';
export { ProofJournal } from './services/playback/proof-journal.js';
// Where a station keeps its files (the simulator reads a station's own public key from them).
export { type DataPaths, dataPaths } from './services/system/data-dir.js';
