/** Config node: the address of a Loa fleet server and an API token (kept in Node-RED's encrypted credentials). */
'use strict';
const { createClient } = require('./lib/client.js');

module.exports = (RED) => {
  function LoaServerNode(config) {
    RED.nodes.createNode(this, config);
    this.name = config.name;
    this.url = config.url;
    this.timeoutMs = Math.max(1, Number(config.timeout) || 30) * 1000;
    const creds = this.credentials || {};
    this.client = () => createClient({ url: this.url, token: creds.token, timeoutMs: this.timeoutMs });
  }
  RED.nodes.registerType('loa-server', LoaServerNode, {
    credentials: { token: { type: 'password' } },
  });
};
