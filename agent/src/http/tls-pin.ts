/**
 * TLS public-key pinning for the agent's clients (HTTPS downloads and enrolment, MQTT over TLS).
 * The provisioning file names the fleet server's pin, `sha256/<base64>`: the SHA-256 of the
 * server certificate's SubjectPublicKeyInfo (DER), as HPKP's pin-sha256. With a pin the pinned
 * key is the trust anchor (a province's self-signed certificate works; no CA is consulted), and a
 * connection whose key does not match is closed after the handshake, before a single byte of
 * the request (credentials included) is written: TLS_PIN_MISMATCH.
 *
 * Make a pin from the server's certificate:
 *   openssl x509 -in server.crt -pubkey -noout | openssl pkey -pubin -outform der |
 *     openssl dgst -sha256 -binary | base64          → prefix with "sha256/"
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { LoaError } from '@loa/protocol';

/** The pin of a certificate (DER bytes). */
export function pinOf(certDer: Buffer): string {
  const spki = new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

/** Undefined when the peer's key matches `pin`, else the error to close the connection with. */
export function pinError(socket: TLSSocket, pin: string): LoaError | undefined {
  const cert = socket.getPeerCertificate();
  const got = cert?.raw ? pinOf(cert.raw) : undefined;
  if (got === pin) return undefined;
  return new LoaError(
    'TLS_PIN_MISMATCH',
    `Máy chủ trình khóa TLS không khớp với khóa đã ghim trong tệp cấp phát (the server's TLS key ${got ?? '(none)'} is not the pinned ${pin})`,
    { details: { expected: pin, ...(got ? { got } : {}) } },
  );
}

/**
 * Opens a TLS connection and calls back only once the peer's key matched the pin (or with
 * TLS_PIN_MISMATCH, the socket destroyed): nothing can be written before the check.
 */
export function connectPinned(
  tls: typeof import('node:tls'),
  options: ConnectionOptions,
  pin: string,
  cb: (err: Error | null, socket?: TLSSocket) => void,
): void {
  const socket = tls.connect({ ...options, rejectUnauthorized: false });
  const onError = (err: Error) => cb(err);
  socket.once('error', onError);
  socket.once('secureConnect', () => {
    socket.removeListener('error', onError);
    const err = pinError(socket, pin);
    if (err) {
      socket.destroy();
      cb(err);
    } else cb(null, socket);
  });
}
