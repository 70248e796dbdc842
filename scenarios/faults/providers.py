"""Planted differences in two provider ports: one token verifier, one configuration
source. Each is the faulty implementation of a port scenario (``fault:<name>`` runs
beside the scenario's reference in ``parity selftest``), and each is a bug that reads
fine in review and passes a happy-path test.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from parity import Implementation, register_fault
from reference_app.adapters.cognito import CognitoTokens
from scenarios.ports.auth import COGNITO_ENGINE, cognito_port
from scenarios.ports.config import SSM_ENGINE, SsmConfig, ssm_config


class InclusiveExpiryCognito(CognitoTokens):
    """Still accepts a token during its ``exp`` second (``<`` for ``<=``)."""

    @staticmethod
    def expired(exp: int, now: int) -> bool:
        return exp < now


class UndecryptedSsm(SsmConfig):
    """Reads the parameters without ``WithDecryption``: every SecureString secret comes
    back as its ciphertext (moto: ``kms:alias/aws/ssm:<value>``)."""

    def parameters(self) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        pages = self.client.get_paginator("get_parameters_by_path").paginate(
            Path=self.prefix, Recursive=True
        )
        for page in pages:
            for parameter in page["Parameters"]:
                found[parameter["Name"]] = (parameter["Type"], parameter["Value"])
        return found


def _faulty(build: Any, engine: str) -> Implementation:
    return Implementation(build, engine=engine, isolation="app")


register_fault(
    "cognito-expiry-inclusive",
    "the Cognito verifier accepts a token at its exp second",
    _faulty(partial(cognito_port, verifier=InclusiveExpiryCognito), COGNITO_ENGINE),
    scenarios=("AuthParity",),
)
register_fault(
    "ssm-undecrypted",
    "the SSM source reads SecureString secrets without decrypting them",
    _faulty(partial(ssm_config, source=UndecryptedSsm), SSM_ENGINE),
    scenarios=("ConfigParity",),
)
