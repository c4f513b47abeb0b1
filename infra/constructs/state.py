"""The DynamoDB tables: idempotency records, and the state table (mappings, versions, watermarks).

Their shape comes from infra.topology.table_specs(), which local mode reads too.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import topology


class StateTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if topology.retains_data(stage) else RemovalPolicy.DESTROY
        self.tables = {spec.role: self._table(spec, stage, removal) for spec in topology.table_specs()}
        self.state = self.tables[topology.STATE_TABLE.role]
        self.idempotency = self.tables[topology.IDEMPOTENCY_TABLE.role]

    def _table(self, spec: topology.TableSpec, stage: str, removal: RemovalPolicy) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.role.capitalize(),
            table_name=topology.table_name(stage, spec.role),
            partition_key=_string(spec.partition_key),
            sort_key=_string(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=removal,
        )
        for index_name, partition_key, sort_key in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string(partition_key),
                sort_key=_string(sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
