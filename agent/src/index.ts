// The agent as a library: the simulator and demo (scripts/src/sim) run the real agent in-process.

export { type AgentConfig, ConfigSchema, loadConfig, parseConfig } from './config.js';
export { AGENT_VERSION, type AgentRuntime, type StartOptions, startAgent } from './main.js';
