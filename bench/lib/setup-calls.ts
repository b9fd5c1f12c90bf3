/** Rate limits so high that a bench's one user is never refused; one window for the whole run. */
export const UNLIMITED_RATES = {
  RATE_LIMIT_DEFAULT: '100000000',
  RATE_LIMIT_EXPENSIVE: '100000000',
  RATE_LIMIT_LOGIN: '1000',
  RATE_LIMIT_WINDOW_MS: '3600000',
};

/** A setup call (sign-in, upload, chart) whose JSON answer the bench needs; anything but 2xx stops it. */
export async function call(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
