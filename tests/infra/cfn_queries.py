"""Look-ups in a synthesised CloudFormation template's Resources, by type and by physical name."""

from __future__ import annotations

from typing import Any

Resources = dict[str, dict[str, Any]]


def of_type(resources: Resources, kind: str) -> Resources:
    return {logical_id: body for logical_id, body in resources.items() if body["Type"] == kind}


def logical_id(resources: Resources, kind: str, name_key: str, name: str) -> str:
    matches = [
        lid for lid, body in of_type(resources, kind).items() if body["Properties"].get(name_key) == name
    ]
    assert len(matches) == 1, f"expected one {kind} named {name}, found {matches}"
    return matches[0]


def function_id(resources: Resources, name: str) -> str:
    return logical_id(resources, "AWS::Lambda::Function", "FunctionName", name)


def queue_id(resources: Resources, name: str) -> str:
    return logical_id(resources, "AWS::SQS::Queue", "QueueName", name)
