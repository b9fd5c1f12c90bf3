-- Access tokens are JWTs that cannot be recalled one by one: a token whose `iat` is before its
-- user's tokens_valid_after is refused. A password change moves the instant forward, which ends
-- every session and every access token of that user at once. NULL: nothing revoked yet.
ALTER TABLE auth.users ADD COLUMN tokens_valid_after timestamptz;
