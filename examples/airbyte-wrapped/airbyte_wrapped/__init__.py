"""airbyte-source-faker, an airbyte-cdk source, served as an Estuary Flow capture."""

from source_faker import SourceFaker

from connector_kit.shims import airbyte


def main() -> None:
    # In-process: the CDK source runs inside this connector's own interpreter.
    airbyte.run_source(
        SourceFaker(), documentation_url="https://docs.airbyte.com/integrations/sources/faker"
    )
