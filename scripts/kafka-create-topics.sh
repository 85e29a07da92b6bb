#!/usr/bin/env bash
# Creates the topics listed in a topics file (scripts/kafka-topics.txt: name, partitions,
# retention.ms) that the broker does not have yet; existing topics are left as they are. The
# one-shot `kafka-topics` service of docker-compose.yml runs it in the Kafka image.
#   kafka-create-topics.sh BOOTSTRAP_SERVER TOPICS_FILE
# KAFKA_TOPICS_COMMAND names Kafka's topic tool (default: the image's /opt/kafka/bin/kafka-topics.sh).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BOOTSTRAP_SERVER TOPICS_FILE" >&2
  exit 2
fi
bootstrap=$1 file=$2
topics_command=${KAFKA_TOPICS_COMMAND:-/opt/kafka/bin/kafka-topics.sh}
[ -r "$file" ] || { echo "$0: cannot read the topics file $file" >&2; exit 2; }

while read -r topic partitions retention _; do
  case "$topic" in '' | '#'*) continue ;; esac
  if ! [[ $partitions =~ ^[1-9][0-9]*$ && $retention =~ ^-?[0-9]+$ ]]; then
    echo "$0: $file: topic $topic needs a partition count and a retention.ms, got \"$partitions\" and \"$retention\"" >&2
    exit 2
  fi
  echo "topic $topic: $partitions partitions, retention.ms=$retention"
  "$topics_command" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor 1 --config "retention.ms=$retention" --config min.insync.replicas=1
done <"$file"
