import { f } from '@datalab/platform';

export const webUiConfigSchema = {
  webDistDir: f.optionalString(
    'WEB_DIST_DIR',
    'Directory of the built web UI the gateway serves at /. Unset: web/dist of this checkout (built by `datalab up`).',
  ),
};
