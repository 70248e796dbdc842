#!/usr/bin/env bash
# Runs inside LocalStack once its services are ready: provisions the ledger table (TTL on)
# and the outbox destinations (SQS FIFO queue, EventBridge bus, rule -> SQS) with the
# app's own provisioning code, so LocalStack holds exactly what production would.
set -euo pipefail

SOURCE="${PARITY_SOURCE:-/opt/parity}"
PREFIX="${PARITY_TABLE_PREFIX:-parity}"
ENDPOINT="http://localhost:4566"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

# LocalStack's image ships Python and boto3; the app's modules only need boto3 here.
export PYTHONPATH="${SOURCE}${PYTHONPATH:+:${PYTHONPATH}}"
PYTHON="$(command -v python3 || command -v python)"

"${PYTHON}" -m reference_app.backends.dynamodb.tables \
    --endpoint-url "${ENDPOINT}" --table-prefix "${PREFIX}"
"${PYTHON}" -m reference_app.transports.provisioning \
    --endpoint-url "${ENDPOINT}" --table-prefix "${PREFIX}"
echo "parity: provisioned prefix ${PREFIX} on ${ENDPOINT}"
