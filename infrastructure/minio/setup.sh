#!/bin/sh
# Prepares MinIO for DataLab's dataset files; the compose files run it (image minio/mc) at every
# `up`, before the data-service and the workers start. Every step may run again.
#   - the bucket DATA_S3_BUCKET, with versioning on: a file the sweeper deleted stays a noncurrent
#     version for NONCURRENT_VERSION_DAYS (docs/operations.md, "Backups"), then goes;
#   - the login DATA_S3_ACCESS_KEY_ID / DATA_S3_SECRET_ACCESS_KEY the services use: it may list the
#     bucket and read, write and delete current objects, never object versions, versioning or
#     lifecycle, so a leaked service key cannot erase what a restore needs.
set -eu
mc alias set datalab http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
bucket="datalab/$DATA_S3_BUCKET"
mc mb --ignore-existing "$bucket"
mc version enable "$bucket"
mc ilm rule import "$bucket" <<JSON
{"Rules": [{"ID": "datalab-noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
  "NoncurrentVersionExpiration": {"NoncurrentDays": $NONCURRENT_VERSION_DAYS}}]}
JSON
mc admin policy create datalab datalab-datasets /dev/stdin <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::$DATA_S3_BUCKET"]},
  {"Effect": "Allow",
   "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
   "Resource": ["arn:aws:s3:::$DATA_S3_BUCKET/*"]}
]}
JSON
mc admin user add datalab "$DATA_S3_ACCESS_KEY_ID" "$DATA_S3_SECRET_ACCESS_KEY" >/dev/null
# Attaching a policy a user already has is an error in mc: attach only when missing.
case "$(mc admin user info datalab "$DATA_S3_ACCESS_KEY_ID")" in
  *datalab-datasets*) ;;
  *) mc admin policy attach datalab datalab-datasets --user "$DATA_S3_ACCESS_KEY_ID" ;;
esac
mc version info "$bucket"
