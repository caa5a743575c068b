/** Access to the content-side services from routes (503 when main.ts did not wire them). */
import { LoaError } from '@loa/protocol';
import type { Deps } from '../deps.js';
import type { ContentServices } from './index.js';

export function contentServices(deps: Pick<Deps, 'services'>): ContentServices {
  const s = deps.services.content;
  if (!s) throw new LoaError('SERVICE_UNAVAILABLE', 'dịch vụ nội dung chưa được khởi động');
  return s;
}
