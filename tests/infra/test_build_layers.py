"""infra.build_layers: which distributions the deps layer ships, and when it is rebuilt (no pip run here)."""

from __future__ import annotations

from infra import build_layers
from infra.build_layers import layer_closure, stamp_for

# The shape of pip's --report "metadata" entries, trimmed to what the walk reads.
RESOLVED = [
    {
        "name": "aws-lambda-powertools",
        "version": "3.37.0",
        "requires_dist": [
            "jmespath<2.0.0,>=1.0.1",
            "typing-extensions>=4.11.0",
            'aws-xray-sdk<3.0.0,>=2.8.0; extra == "tracer"',
            'boto3<2.0.0,>=1.34.32; extra == "aws-sdk"',
        ],
    },
    {"name": "aws-xray-sdk", "version": "2.15.0", "requires_dist": ["botocore>=1.11.3", "wrapt"]},
    {
        "name": "botocore",
        "version": "1.44.5",
        "requires_dist": [
            "jmespath<2.0.0,>=0.7.1",
            "python-dateutil<3.0.0,>=2.1",
            'urllib3!=2.2.0,<3,>=1.25.4; python_version >= "3.10"',
        ],
    },
    {"name": "python-dateutil", "version": "2.9.0.post0", "requires_dist": ["six>=1.5"]},
    {"name": "six", "version": "1.17.0"},
    {"name": "urllib3", "version": "2.8.0"},
    {"name": "jmespath", "version": "1.1.0"},
    {"name": "typing_extensions", "version": "4.16.0"},
    {"name": "wrapt", "version": "2.5.2"},
    {
        "name": "httpx",
        "version": "0.28.1",
        "requires_dist": ["anyio", 'exceptiongroup; python_version < "3.11"'],
    },
    {"name": "anyio", "version": "4.16.0"},
]


def test_layer_ships_our_requirements_but_not_what_the_runtime_provides() -> None:
    shipped = layer_closure(["aws-lambda-powertools[tracer]>=3.20,<4", "httpx>=0.27,<1"], RESOLVED)
    assert shipped == {
        "anyio": "4.16.0",
        "aws-lambda-powertools": "3.37.0",
        "aws-xray-sdk": "2.15.0",
        "httpx": "0.28.1",
        "jmespath": "1.1.0",
        "typing-extensions": "4.16.0",
        "wrapt": "2.5.2",
    }
    # boto3/botocore come with the Lambda runtime; so do urllib3, dateutil and six, which only they need.
    assert not {"boto3", "botocore", "urllib3", "python-dateutil", "six"} & set(shipped)


def test_an_extra_we_did_not_ask_for_adds_nothing() -> None:
    assert "aws-xray-sdk" not in layer_closure(["aws-lambda-powertools"], RESOLVED)


def test_the_stamp_changes_with_the_requirement_list_only() -> None:
    requirements = build_layers.runtime_requirements()
    assert requirements and any(r.startswith("aws-lambda-powertools[tracer]") for r in requirements)
    assert stamp_for(requirements) == stamp_for(list(reversed(requirements)))
    assert stamp_for(requirements) != stamp_for([*requirements, "orjson>=3"])


def test_layer_targets_aarch64_wheels_for_the_function_runtime() -> None:
    assert build_layers.PLATFORMS == ("manylinux2014_aarch64",)
    assert build_layers.TARGET_ENVIRONMENT["platform_machine"] == "aarch64"
    assert build_layers.TARGET_ENVIRONMENT["python_version"] == build_layers.LAMBDA_PYTHON_VERSION


def test_placeholder_layer_is_a_tiny_python_dir() -> None:
    path = build_layers.placeholder_deps_dir()
    assert (path / "python").is_dir()
    assert sum(1 for _ in path.rglob("*")) <= 3
