/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** QR codes drawn as inline SVG from the `qrcode` package's module matrix (no raw HTML, no images). */
import QRCode from 'qrcode';

/** SVG path data of the dark modules (one unit square each), plus the matrix size. */
export function qrPath(text: string): { size: number; d: string } {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const { size, data } = qr.modules;
  const parts: string[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (data[y * size + x]) parts.push(`M${x} ${y}h1v1h-1z`);
  return { size, d: parts.join('') };
}

export function QrCode(props: { text: string; label: string }) {
  const { size, d } = qrPath(props.text);
  const q = 4; // quiet zone
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`${-q} ${-q} ${size + 2 * q} ${size + 2 * q}`}
      role="img"
      aria-label={props.label}
      shape-rendering="crispEdges"
    >
      <rect x={-q} y={-q} width={size + 2 * q} height={size + 2 * q} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
