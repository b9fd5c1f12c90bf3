/**
 * The session's tokens. The access token lives in memory only; the refresh
 * token is kept in localStorage so a reload (or a new tab) signs in silently.
 */
const REFRESH_KEY = 'datalab.refresh_token';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

let accessToken: string | undefined;
let expiresAt = 0;
let signedIn = false;
const listeners = new Set<(signedIn: boolean) => void>();

export function currentAccessToken(): string | undefined {
  return accessToken && Date.now() < expiresAt ? accessToken : undefined;
}

export function storedRefreshToken(): string | undefined {
  return localStorage.getItem(REFRESH_KEY) ?? undefined;
}

export function storeTokens(tokens: Tokens): void {
  accessToken = tokens.access_token;
  // Renew a little early so a request never leaves with a token about to lapse.
  expiresAt = Date.now() + Math.max(5, tokens.expires_in - 30) * 1000;
  localStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  // Listeners hear sign-in and sign-out, not each silent renewal.
  if (!signedIn) notify(true);
}

function notify(now: boolean): void {
  signedIn = now;
  for (const listener of listeners) listener(now);
}

export function clearTokens(): void {
  accessToken = undefined;
  expiresAt = 0;
  localStorage.removeItem(REFRESH_KEY);
  if (signedIn) notify(false);
}

export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Why the app ended the session on purpose (a password change ends them all), for the login page.
 * A store it subscribes to, because another call may have found the session gone and shown the
 * login page before the page that ended it could say why.
 */
export type SignOutReason = 'password_changed';
let signOutReason: SignOutReason | undefined;
const reasonListeners = new Set<() => void>();

export function currentSignOutReason(): SignOutReason | undefined {
  return signOutReason;
}

export function setSignOutReason(reason: SignOutReason | undefined): void {
  signOutReason = reason;
  for (const listener of reasonListeners) listener();
}

export function onSignOutReason(listener: () => void): () => void {
  reasonListeners.add(listener);
  return () => reasonListeners.delete(listener);
}
