"""Bedrock in one region: custom (fine-tuned) models, and provisioned throughput, which bills every hour
for its model units whether used or not, often for a committed month or six. AWS's quarantine policy
for leaked keys stops both (bedrock:CreateModelCustomizationJob, bedrock:CreateProvisionedModelThroughput).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "bedrock"
_CONSOLE = "https://{r}.console.aws.amazon.com/bedrock/home?region={r}#/"


def _custom_models(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for m in page.get("modelSummaries", []):
        yield Resource(
            scope.region, SERVICE, "bedrock-custom-model", m.get("modelName", ""),
            state=m.get("modelStatus"),
            created=as_utc(m.get("creationTime")),
            detail={
                "name": m.get("modelName", ""),
                "arn": m.get("modelArn", ""),
                "base_model": m.get("baseModelName") or m.get("baseModelArn", ""),
                "customization": m.get("customizationType", ""),
            },
        )


def _provisioned(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for p in page.get("provisionedModelSummaries", []):
        yield Resource(
            scope.region, SERVICE, "bedrock-provisioned-throughput", p.get("provisionedModelName", ""),
            state=p.get("status"),
            created=as_utc(p.get("creationTime")),
            detail={
                "name": p.get("provisionedModelName", ""),
                "arn": p.get("provisionedModelArn", ""),
                "model": p.get("modelArn", ""),
                "model_units": p.get("modelUnits", 0),
                "commitment": p.get("commitmentDuration", ""),  # "" is no commitment (hourly)
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("bedrock:ListCustomModels", "bedrock:ListProvisionedModelThroughputs"),
    kinds=(
        Kind("bedrock-provisioned-throughput", 55, _CONSOLE + "provisioned-throughput", bills_unpriced=True),
        Kind("bedrock-custom-model", 86, _CONSOLE + "custom-models", bills_unpriced=True),  # storage, monthly
    ),
    listings=(
        Listing("bedrock:ListCustomModels", _custom_models),
        Listing("bedrock:ListProvisionedModelThroughputs", _provisioned),
    ),
)
