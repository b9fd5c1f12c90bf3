/**
 * Training input that no retry can fix (a missing column, one class, too few
 * rows). Its own class rather than the platform's PermanentJobError, so the
 * training thread does not load the whole platform to start.
 */
export class TrainingInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingInputError';
  }
}
