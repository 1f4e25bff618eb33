"""The materialize framework: a connector writes validate, apply, open and a transactor."""

from connector_kit.materialize.batches import StoreBatch
from connector_kit.materialize.config import COLLECTION_NAME, DELTA_UPDATES, SCHEMA_NAME
from connector_kit.materialize.connector import MaterializeConnector
from connector_kit.materialize.faults import FAULT_POINT_ENV, FaultPoints
from connector_kit.materialize.fields import FieldRole, SelectedField, selected_fields
from connector_kit.materialize.hooks import (
    Binding,
    BindingToValidate,
    Materialization,
    Materializer,
    OpenedTransactor,
    Transactor,
)

__all__ = [
    "COLLECTION_NAME",
    "DELTA_UPDATES",
    "FAULT_POINT_ENV",
    "SCHEMA_NAME",
    "Binding",
    "BindingToValidate",
    "FaultPoints",
    "FieldRole",
    "Materialization",
    "MaterializeConnector",
    "Materializer",
    "OpenedTransactor",
    "SelectedField",
    "StoreBatch",
    "Transactor",
    "selected_fields",
]
