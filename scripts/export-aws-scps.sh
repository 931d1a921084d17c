#!/usr/bin/env bash
# Writes the service control policies bundle `warrant import` reads (see
# crates/warrant-connectors/src/aws/scps.rs): every SCP's document and targets, each account's
# and OU's parent, and the management account (which SCPs do not limit). Run with credentials
# of the organisation's management account (or a delegated administrator); needs aws and jq.
#
#   scripts/export-aws-scps.sh > scps.json
set -euo pipefail

aws_json() { aws --output json "$@"; }

management=$(aws_json organizations describe-organization | jq -r '.Organization.MasterAccountId')

policies='[]'
for id in $(aws_json organizations list-policies --filter SERVICE_CONTROL_POLICY | jq -r '.Policies[].Id'); do
  policy=$(aws_json organizations describe-policy --policy-id "$id" | jq '.Policy')
  targets=$(aws_json organizations list-targets-for-policy --policy-id "$id" | jq '.Targets')
  policies=$(jq --argjson p "$policy" --argjson t "$targets" '. + [$p + {Targets: $t}]' <<<"$policies")
done

# Each account's and OU's parent, walking up from every account.
parents='{}'
for child in $(aws_json organizations list-accounts | jq -r '.Accounts[].Id'); do
  while [[ -n "$child" && $(jq --arg c "$child" 'has($c)' <<<"$parents") == false ]]; do
    parent=$(aws_json organizations list-parents --child-id "$child" | jq -r '.Parents[0].Id // empty')
    [[ -z "$parent" ]] && break
    parents=$(jq --arg c "$child" --arg p "$parent" '. + {($c): $p}' <<<"$parents")
    [[ "$parent" == r-* ]] && break
    child=$parent
  done
done

jq -n --arg m "$management" --argjson parents "$parents" --argjson policies "$policies" \
  '{ManagementAccountId: $m, Parents: $parents, ServiceControlPolicies: $policies}'
