// Tracked links: the URL of the click function with the user, the link id, the destination
// and a signature, exactly as supabase/functions/click checks it (hex HMAC-SHA256 of
// "user|link|destination" with CLICK_SIGNING_SECRET, first 32 digits).
import { createHmac } from 'node:crypto';
import type { LinkSigner } from './render.js';

export function clickSignature(secret: string, userId: string, linkId: string, url: string): string {
  return createHmac('sha256', secret).update(`${userId}|${linkId}|${url}`).digest('hex').slice(0, 32);
}

export function makeLinkSigner(clickBaseUrl: string, secret: string): LinkSigner {
  const base = new URL(clickBaseUrl);
  return (userId, linkId, url) => {
    const u = new URL(base);
    u.searchParams.set('u', userId);
    u.searchParams.set('l', linkId);
    u.searchParams.set('to', url);
    u.searchParams.set('s', clickSignature(secret, userId, linkId, url));
    return u.toString();
  };
}
