#!/usr/bin/env bash
# docker/localstack/init/ready.d/10-taxi-duration.sh — LocalStack READY hook:
# runs inside the LocalStack container once S3 and Kinesis answer, on every
# start (LocalStack keeps no state between starts unless PERSISTENCE=1, so the
# script is idempotent).  Creates, in $AWS_REGION:
#   - the model bucket          $TD_MODEL_BUCKET        (rll-models-dev)
#   - the trip-events stream    $TD_TRIPS_STREAM        (stg_taxi_trip_events)
#   - the predictions stream    $TD_PREDICTIONS_STREAM  (stg_taxi_predictions)
# The names come from .env.dev through docker-compose.local.yaml; the
# container's healthcheck (/_localstack/init/ready) turns healthy only after
# this script succeeded.
set -euo pipefail

: "${AWS_REGION:?}" "${TD_MODEL_BUCKET:?}" "${TD_TRIPS_STREAM:?}" "${TD_PREDICTIONS_STREAM:?}"
shards=${TD_STREAM_SHARDS:-2}

if awslocal s3api head-bucket --bucket "$TD_MODEL_BUCKET" --region "$AWS_REGION" >/dev/null 2>&1; then
	echo "bucket $TD_MODEL_BUCKET exists"
else
	if [ "$AWS_REGION" = us-east-1 ]; then # S3 refuses an explicit us-east-1 constraint
		awslocal s3api create-bucket --bucket "$TD_MODEL_BUCKET" --region "$AWS_REGION" >/dev/null
	else
		awslocal s3api create-bucket --bucket "$TD_MODEL_BUCKET" --region "$AWS_REGION" \
			--create-bucket-configuration "LocationConstraint=$AWS_REGION" >/dev/null
	fi
	echo "bucket $TD_MODEL_BUCKET created"
fi

for stream in "$TD_TRIPS_STREAM" "$TD_PREDICTIONS_STREAM"; do
	if awslocal kinesis describe-stream-summary --stream-name "$stream" --region "$AWS_REGION" >/dev/null 2>&1; then
		echo "stream $stream exists"
	else
		awslocal kinesis create-stream --stream-name "$stream" --shard-count "$shards" --region "$AWS_REGION"
		echo "stream $stream created ($shards shards)"
	fi
	awslocal kinesis wait stream-exists --stream-name "$stream" --region "$AWS_REGION"
done
