/** RFC 9457 problem details as DataLab's services answer them, plus what the browser itself can fail with. */
export interface FieldError {
  field: string;
  message: string;
}

export interface RejectedRow {
  line: number;
  column?: string;
  value?: string;
  expected?: string;
  message: string;
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
  /** Rows an upload refused, with line, column and value. */
  rows?: RejectedRow[];
  [extension: string]: unknown;
}

export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }
}

/** Reads an error answer as a problem; a body that is not one still becomes a sentence. */
export async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (typeof parsed === 'object' && parsed !== null && (parsed.detail || parsed.title)) {
      return {
        ...parsed,
        title: parsed.title ?? response.statusText,
        status: parsed.status ?? response.status,
        detail: parsed.detail ?? parsed.title ?? '',
      };
    }
  } catch {
    // Not JSON: described below from the status.
  }
  return problemFromText(response.status, response.statusText, text);
}

export function problemFromText(status: number, statusText: string, text: string): Problem {
  return {
    title: statusText || `HTTP ${status}`,
    status,
    detail: text.trim().slice(0, 500) || `The server answered ${status} ${statusText}`.trim(),
  };
}

export function networkProblem(error: unknown): Problem {
  return {
    title: 'Network error',
    status: 0,
    detail: `The server could not be reached (${error instanceof Error ? error.message : String(error)}).`,
  };
}

export function asProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return { title: 'Error', status: 0, detail: error instanceof Error ? error.message : String(error) };
}
