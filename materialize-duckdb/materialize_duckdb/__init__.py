"""materialize-duckdb: Flow collections into DuckDB, MotherDuck or a DuckLake, exactly once."""

from connector_kit.materialize import MaterializeConnector
from materialize_duckdb.materializer import DuckDBMaterializer
from materialize_duckdb.models import EndpointConfig, ResourceConfig

connector = MaterializeConnector(
    endpoint_config=EndpointConfig,
    resource_config=ResourceConfig,
    materializer=DuckDBMaterializer(),
)

__all__ = ["DuckDBMaterializer", "EndpointConfig", "ResourceConfig", "connector"]
