#!/usr/bin/env bash
# Run once by docker-compose.yml's kafka-setup service (apache/kafka image) after the broker is healthy:
# one SCRAM-SHA-512 user per canhgac component, with ACLs for what it does and nothing more. It talks
# to the broker's mTLS listener as kafka-admin (a super user). Idempotent: re-running resets the
# passwords to the files in deploy/secrets and re-adds the same ACLs.
set -euo pipefail
bin=/opt/kafka/bin
bootstrap=kafka:9093
admin=/tmp/admin.properties
cat > "$admin" <<PROPS
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/pki/ca.pem
ssl.keystore.type=PEM
ssl.keystore.location=/etc/kafka/pki/kafka-admin-keystore.pem
PROPS

for c in collector correlator console; do
  "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --command-config "$admin" --alter --entity-type users --entity-name "canhgac-$c" \
    --add-config "SCRAM-SHA-512=[password=$(cat "/run/secrets/kafka-$c")]"
done

acl() { "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --command-config "$admin" --add --force "$@" >/dev/null; }

# Collector: writes soc.raw (idempotent producer), creates it on first use.
acl --allow-principal User:canhgac-collector --operation Write --operation Describe --operation Create --topic soc.raw
acl --allow-principal User:canhgac-collector --operation IdempotentWrite --cluster
# Correlator: reads and writes every soc.* topic, creates them, commits in its groups.
acl --allow-principal User:canhgac-correlator --operation Read --operation Write --operation Describe --operation Create --resource-pattern-type prefixed --topic soc.
acl --allow-principal User:canhgac-correlator --operation Read --operation Describe --resource-pattern-type prefixed --group canhgac-correlator
acl --allow-principal User:canhgac-correlator --operation IdempotentWrite --cluster
# Console: reads soc.incidents in a group of its own per process and publishes the analysts' changes there.
acl --allow-principal User:canhgac-console --operation Read --operation Write --operation Describe --operation Create --topic soc.incidents
acl --allow-principal User:canhgac-console --operation IdempotentWrite --cluster
acl --allow-principal User:canhgac-console --operation Read --operation Describe --resource-pattern-type prefixed --group canhgac-console
echo "kafka users and ACLs are in place"
