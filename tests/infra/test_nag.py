"""cdk-nag (AwsSolutions) over the whole stack: nothing unacknowledged, every acknowledgement reasoned.

cdk-nag 3 reports through CDK's policy-validation plugins instead of annotations: the app registers
the pack with `Validations.of(app).add_plugins(...)` and synth fails on any error or warning not
acknowledged. These tests run the same pack directly (validate_scope) to list findings, synthesise
with the app's plugin, and still check that CDK itself annotated no error or warning.
"""

from __future__ import annotations

import re

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks

from infra.app import add_nag_checks
from infra.constructs.nag import MIN_REASON_LENGTH, acknowledge


@pytest.fixture(scope="module")
def synthesised(test_config, synth_stack, tmp_path_factory):
    app, stack = synth_stack(test_config, outdir=tmp_path_factory.mktemp("cdk.out"), nag=True)
    app.synth()  # raises ValidationFailed if the plugin finds anything unacknowledged
    return app, stack


def test_solutions_checks_leave_no_error_or_warning_unacknowledged(synthesised) -> None:
    app, _ = synthesised
    report = AwsSolutionsChecks().validate_scope(app)
    findings = [
        f"{violation.severity} {violation.rule_name} at "
        f"{[resource.construct_path for resource in violation.violating_resources]}"
        for violation in report.violations
    ]
    assert findings == []
    assert report.success


def test_cdk_annotated_no_error_or_warning(synthesised) -> None:
    _, stack = synthesised
    annotations = Annotations.from_stack(stack)
    assert [message.entry.data for message in annotations.find_error("*", Match.any_value())] == []
    assert [message.entry.data for message in annotations.find_warning("*", Match.any_value())] == []


def test_every_acknowledgement_names_one_rule_and_gives_a_specific_reason(synthesised) -> None:
    app, _ = synthesised
    acknowledged: dict[str, str] = {}
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    acknowledged[f"{construct.node.path}: {rule}"] = reason
    assert acknowledged, "the stack acknowledges findings; none were found"
    for where, reason in acknowledged.items():
        assert re.search(r"AwsSolutions-[A-Z]+\d+(\[.+\])?$", where), where
        assert len(reason) >= MIN_REASON_LENGTH, where
    # Wildcard permissions are acknowledged one resource pattern at a time, never the whole rule.
    assert not [where for where in acknowledged if where.endswith("AwsSolutions-IAM5")]


def test_the_apps_plugin_fails_synth_on_an_unacknowledged_finding(tmp_path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe")
    sqs.Queue(stack, "PlainQueue")  # no DLQ, no TLS-only policy: AwsSolutions-SQS3 and SQS4
    add_nag_checks(app)
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-SQS4"):
        app.synth()


def test_an_acknowledgement_without_a_real_reason_is_refused() -> None:
    queue = sqs.Queue(Stack(App(), "Probe"), "Queue")
    with pytest.raises(ValueError, match="specific reason"):
        acknowledge(queue, "AwsSolutions-SQS3", "not needed")
