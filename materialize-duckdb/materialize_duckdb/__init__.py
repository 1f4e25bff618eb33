"""materialize-duckdb: Flow collections into DuckDB, MotherDuck or a DuckLake, exactly once."""

from connector_kit.materialize import MaterializeConnector
from materialize_duckdb.materializer import DuckDBMaterializer
from materialize_duckdb.models import EndpointConfig, ResourceConfig

connector = MaterializeConnector(
    endpoint_config=EndpointConfig,
    resource_config=ResourceConfig,
    materializer=DuckDBMaterializer(),
    # Each staged batch is one statement DuckDB plans and one Parquet file it finishes, with
    # its threads idle meanwhile: 64 MiB batches halve that for about 100 MiB more memory.
    store_batch_bytes=64 << 20,
)

__all__ = ["DuckDBMaterializer", "EndpointConfig", "ResourceConfig", "connector"]
