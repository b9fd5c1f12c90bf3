import { f, type ConfigOf } from '@datalab/platform';

export const aiConfigSchema = {
  dataServiceUrl: f.optionalUrl(
    'AI_DATA_SERVICE_URL',
    'data-service the ai-service and its jobs read and write datasets through. Unset: found in the service registry.',
    ['http', 'https'],
  ),
  computeServiceUrl: f.optionalUrl(
    'AI_COMPUTE_SERVICE_URL',
    'compute-service that runs training jobs. Unset: found in the service registry.',
    ['http', 'https'],
  ),
  artifactDir: f.optionalString(
    'AI_ARTIFACT_DIR',
    'Directory of model artifacts (shared by the ai-service and the workers that train); a relative path is taken from DATALAB_DATA_DIR. Unset: <DATALAB_DATA_DIR>/models.',
  ),
  artifactStore: f.oneOf(
    'AI_ARTIFACT_STORE',
    'Where model artifacts live: `dir` (AI_ARTIFACT_DIR) or `s3` (an S3-compatible bucket, AI_S3_*).',
    'dir',
    ['dir', 's3'],
  ),
  s3Endpoint: f.optionalUrl(
    'AI_S3_ENDPOINT',
    'S3-compatible endpoint (MinIO, Ceph, R2, …). Unset: AWS S3 in AI_S3_REGION.',
    ['http', 'https'],
  ),
  s3Bucket: f.optionalString(
    'AI_S3_BUCKET',
    'Bucket of model artifacts (required with AI_ARTIFACT_STORE=s3).',
  ),
  s3Prefix: f.string('AI_S3_PREFIX', 'Key prefix of model artifacts inside the bucket.', 'models/'),
  s3Region: f.string('AI_S3_REGION', 'Region the requests are signed for.', 'us-east-1'),
  s3AccessKeyId: f.optionalString(
    'AI_S3_ACCESS_KEY_ID',
    'Access key id for the bucket (required with AI_ARTIFACT_STORE=s3).',
  ),
  s3SecretAccessKey: f.optionalString(
    'AI_S3_SECRET_ACCESS_KEY',
    'Secret access key for the bucket (required with AI_ARTIFACT_STORE=s3).',
  ),
  s3ForcePathStyle: f.boolean(
    'AI_S3_FORCE_PATH_STYLE',
    'Address the bucket as `<endpoint>/<bucket>/…` (MinIO and most self-hosted servers) instead of `<bucket>.<endpoint>/…`.',
    false,
  ),
  maxModelBytes: f.integer(
    'AI_MAX_MODEL_BYTES',
    'Largest .onnx file an upload accepts, in bytes.',
    200 * 1024 * 1024,
    1024,
  ),
  onnxMaxTensorBytes: f.integer(
    'AI_ONNX_MAX_TENSOR_BYTES',
    'Largest tensor an .onnx model may declare or make from constant shapes (initializers, Constant values, ConstantOfShape/Expand/Tile/Range outputs), in bytes: onnxruntime allocates each whole.',
    256 * 1024 * 1024,
    1024,
  ),
  executionProvider: f.oneOf(
    'AI_EXECUTION_PROVIDER',
    'onnxruntime execution provider: `cuda` uses the GPU when the runtime has it (else falls back to CPU), `cpu` never does.',
    'cpu',
    ['cpu', 'cuda'],
  ),
  gpuMetricsIntervalMs: f.integer(
    'AI_GPU_METRICS_INTERVAL_MS',
    'With AI_EXECUTION_PROVIDER=cuda, how often GPU utilisation and memory are sampled from nvidia-smi (when it exists).',
    10_000,
    1000,
    3_600_000,
  ),
  nvidiaSmi: f.string(
    'AI_NVIDIA_SMI',
    'The nvidia-smi binary GPU metrics are sampled with: a name found in PATH, or a path.',
    'nvidia-smi',
  ),
  batchMaxSize: f.integer(
    'AI_BATCH_MAX_SIZE',
    'Most rows one inference run takes: concurrent requests to a model are merged up to this. 1 turns batching off.',
    64,
    1,
    100_000,
  ),
  batchMaxWaitMs: f.integer(
    'AI_BATCH_MAX_WAIT_MS',
    'Longest a request waits for others to share its run when the model is idle.',
    2,
    0,
    10_000,
  ),
  runConcurrency: f.integer(
    'AI_RUN_CONCURRENCY',
    'Inference runs of one model in flight at once (each run uses the runtime’s own threads).',
    2,
    1,
    64,
  ),
  queueLimit: f.integer(
    'AI_QUEUE_LIMIT',
    'Rows waiting per model beyond which predictions are refused with 503 (memory never grows without bound).',
    4096,
    1,
    10_000_000,
  ),
  predictMaxRows: f.integer('AI_PREDICT_MAX_ROWS', 'Most rows one predict request may send.', 10_000, 1),
  modelCacheBytes: f.integer(
    'AI_MODEL_CACHE_BYTES',
    'Memory budget of loaded models (estimated from artifact size); least recently used ones are unloaded past it.',
    512 * 1024 * 1024,
    1024,
  ),
  modelLookupTtlMs: f.integer(
    'AI_MODEL_LOOKUP_TTL_MS',
    'How long a predict call’s model, version and visibility are remembered (no database trip per call); changes apply within it. 0: every call.',
    1000,
    0,
    60_000,
  ),
  breakerResetMs: f.integer(
    'AI_BREAKER_RESET_MS',
    'After repeated runtime failures a model’s circuit opens (503) for this long before a trial run.',
    10_000,
    100,
  ),
  trainMaxRows: f.integer(
    'AI_TRAIN_MAX_ROWS',
    'Most dataset rows a built-in training job reads (the built-in algorithms hold the data in memory).',
    200_000,
    10,
  ),
};

export type AiConfig = ConfigOf<typeof aiConfigSchema>;
