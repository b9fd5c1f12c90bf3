import { ApiError, networkProblem, problemFromText, problemOf } from './problem.ts';
import { clearTokens, currentAccessToken, storeTokens, storedRefreshToken, type Tokens } from './tokens.ts';

let refreshing: Promise<string | undefined> | undefined;

async function refreshNow(): Promise<string | undefined> {
  const refreshToken = storedRefreshToken();
  if (!refreshToken) return undefined;
  const response = await fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (!response.ok) {
    // A spent or revoked refresh token ends the session; a server hiccup does not.
    if (response.status === 401 || response.status === 400) clearTokens();
    return undefined;
  }
  const tokens = (await response.json()) as Tokens;
  storeTokens(tokens);
  return tokens.access_token;
}

/** A valid access token, refreshing once for all callers at the same time. */
export async function accessToken(force = false): Promise<string | undefined> {
  const current = force ? undefined : currentAccessToken();
  if (current) return current;
  refreshing ??= refreshNow().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

export async function login(email: string, password: string): Promise<void> {
  const response = await send('/api/v1/auth/login', { method: 'POST', body: { email, password } }, false);
  storeTokens((await response.json()) as Tokens);
}

export async function logout(): Promise<void> {
  const refreshToken = storedRefreshToken();
  clearTokens();
  if (refreshToken) {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }).catch(() => undefined);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | (string | number)[]>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Sends a request with the session's token; on 401 refreshes once and tries again. Throws ApiError. */
export async function send(
  path: string,
  options: RequestOptions = {},
  authenticated = true,
): Promise<Response> {
  const attempt = async (token: string | undefined) => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.body instanceof FormData || options.body instanceof Blob) body = options.body;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      return await fetch(withQuery(path, options.query), {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(networkProblem(error));
    }
  };
  let response = await attempt(authenticated ? await accessToken() : undefined);
  if (response.status === 401 && authenticated) {
    const token = await accessToken(true);
    if (token) response = await attempt(token);
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Fetches with the session and saves the answer as a file. */
export async function download(path: string, filename: string, options: RequestOptions = {}): Promise<void> {
  const response = await send(path, { ...options, headers: { accept: '*/*', ...options.headers } });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Multipart upload with real progress (fetch has no upload progress; XMLHttpRequest does). */
export async function upload<T>(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  const token = await accessToken();
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    request.setRequestHeader('accept', 'application/json');
    if (token) request.setRequestHeader('authorization', `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const text = request.responseText;
      if (request.status >= 200 && request.status < 300) {
        resolve(JSON.parse(text) as T);
        return;
      }
      try {
        const problem = JSON.parse(text) as ApiError['problem'];
        reject(new ApiError({ ...problem, status: problem.status ?? request.status }));
      } catch {
        reject(new ApiError(problemFromText(request.status, request.statusText, text)));
      }
    };
    request.onerror = () => reject(new ApiError(networkProblem(new Error('upload interrupted'))));
    request.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => request.abort());
    request.send(form);
  });
}
