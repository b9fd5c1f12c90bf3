import type { Principal } from '@datalab/platform';

/** What the identity code tells the audit log; the audit module decides how it is stored. */
export interface SecurityEvent {
  action:
    | 'login.succeeded'
    | 'login.failed'
    | 'login.locked'
    | 'logout'
    | 'token.refresh_reused'
    | 'password.changed'
    | 'api_key.created'
    | 'api_key.revoked'
    | 'user.created'
    | 'user.role_changed'
    | 'user.disabled'
    | 'user.enabled';
  /** Who acted (absent for anonymous failures). */
  principal?: Principal | undefined;
  /** Whom it concerns, when not the actor. */
  subjectUserId?: string | undefined;
  ip?: string | undefined;
  requestId?: string | undefined;
  detail?: Record<string, unknown>;
}

export type RecordSecurityEvent = (event: SecurityEvent) => Promise<void>;
