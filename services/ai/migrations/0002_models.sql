-- The model registry. owner_id names a user of the gateway's auth schema; there is no
-- foreign key because each service owns its own schema and never reads another's.
CREATE TABLE ai.models (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id uuid NOT NULL,
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'shared')),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX models_owner_id_idx ON ai.models (owner_id);

-- One trained or uploaded artifact of a model. `kind` says how it is served:
-- `onnx` through onnxruntime, `tabular` through the built-in predictors.
CREATE TABLE ai.model_versions (
  model_id uuid NOT NULL REFERENCES ai.models (id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  stage text NOT NULL DEFAULT 'staging' CHECK (stage IN ('staging', 'production', 'archived')),
  kind text NOT NULL CHECK (kind IN ('onnx', 'tabular')),
  algorithm text NOT NULL,
  task text NOT NULL,
  input_schema jsonb NOT NULL,
  output_schema jsonb NOT NULL,
  metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
  lineage jsonb NOT NULL DEFAULT '{}'::jsonb,
  artifact_key text NOT NULL,
  artifact_bytes bigint NOT NULL CHECK (artifact_bytes >= 0),
  artifact_sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, version)
);

-- At most one production version per model: promoting one archives the previous.
CREATE UNIQUE INDEX model_versions_one_production_idx ON ai.model_versions (model_id) WHERE stage = 'production';
